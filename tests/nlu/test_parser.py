"""What the embedded model says about residents' messages, including hostile ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu import model_store
from nlu.contract import intent_names
from nlu.embedded import EmbeddedModel
from nlu.parser import build_parser
from nlu.result import ParseResult
from nlu.services import ServiceTable
from nlu.settings import NluSettings

INTENTS = set(intent_names())


def assert_valid(result: ParseResult, text: str) -> None:
    assert result.text == text
    assert result.intent.name in INTENTS
    assert 0.0 <= result.intent.confidence <= 1.0
    assert result.intent_ranking and result.intent_ranking[0] == result.intent
    confidences = [s.confidence for s in result.intent_ranking]
    assert confidences == sorted(confidences, reverse=True)
    for entity in result.entities:
        assert 0 <= entity.start < entity.end <= len(text)
    ParseResult.from_rasa(result.to_rasa())  # the Rasa shape round-trips


@pytest.mark.parametrize(("text", "intent", "service"), [
    ("jarrive pa a ouvrir pronot", "pronote", "pronote"),
    ("code caf bloké", "password_reset", "caf"),
    ("slt jveu parlé a qqn", "human_handoff", None),
    ("ce sms de lameli cest normal?", "scam_check", "ameli"),
    ("jai oublie mon code caf", "password_reset", "caf"),
    ("mot de passe pole emploi bloqué", "password_reset", "france_travail"),
    ("comment on cree un compte ameli", "account_create", "ameli"),
    ("je sais pas faire ma declaration trimestrielle", "caf_declaration", None),
    ("jai oublie de mactualiser", "france_travail_update", None),
    ("renouveler mon titre de sejour sur internet", "id_documents", None),
    ("mon telephone dit memoire pleine", "smartphone_basics", None),
    ("cest quand le prochain atelier", "workshop_info", None),
    ("je pourrai pas venir mardi", "workshop_cancel", None),
    ("ou je peux imprimer", "find_place", None),
    ("rappelez moi svp", "human_handoff", None),
    ("bonjour", "greet", None),
    ("merci beaucoup", "thank", None),
    ("oui", "affirm", None),
    ("non", "deny", None),
    ("il fait beau demain ?", "out_of_scope", None),
    ("tu connais un bon kebab", "out_of_scope", None),
])
def test_understands_residents(model: EmbeddedModel, text: str, intent: str, service: str | None) -> None:
    result = model.parse(text)
    assert_valid(result, text)
    assert (result.intent.name, result.service) == (intent, service)


def test_issue_examples_are_confident(model: EmbeddedModel) -> None:
    for text in ["code caf bloké", "slt jveu parlé a qqn", "ce sms de lameli cest normal?"]:
        assert model.parse(text).intent.confidence >= NluSettings().confidence_threshold, text


def test_ambiguous_message_ranks_both_needs(model: EmbeddedModel) -> None:
    result = model.parse("code caf bloqué et je dois faire ma declaration trimestrielle")
    top3 = [s.name for s in result.intent_ranking[:3]]
    assert {"password_reset", "caf_declaration"} <= set(top3)


@pytest.mark.parametrize(("text", "intent"), [
    ("", "out_of_scope"),
    ("     ", "out_of_scope"),
    ("0612345678", "out_of_scope"),
    ("?!?!...", "out_of_scope"),
    ("😀😀😀🎉", "out_of_scope"),
    ("Привет, как дела?", "out_of_scope"),
    ("你好世界", "out_of_scope"),
    ("\x00\x01\xff\ufffd\ud800" * 20, "out_of_scope"),
    ("👍", "affirm"),
    ("🙏", "thank"),
    ("OUI", "affirm"),
    ("merci" + " " * 5000 + "!" * 5000, "thank"),
])
def test_hostile_input_gets_a_valid_answer(model: EmbeddedModel, text: str, intent: str) -> None:
    result = model.parse(text)
    assert_valid(result, text)
    assert result.intent.name == intent


def test_ten_kilobytes(model: EmbeddedModel) -> None:
    text = "jai oublie mon code caf " + "bla " * 2500
    result = model.parse(text)
    assert_valid(result, text)
    assert result.intent.name == "password_reset"


def test_binary_garbage_decoded_as_text(model: EmbeddedModel) -> None:
    text = bytes(range(256)).decode("latin-1") * 4
    assert_valid(model.parse(text), text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_gets_a_valid_answer(model: EmbeddedModel, text: str) -> None:
    assert_valid(model.parse(text), text)


def test_model_file_is_stamped_with_the_data_hash(model: EmbeddedModel, nlu_settings: NluSettings) -> None:
    digest = model_store.data_hash(nlu_settings.resolved_data_dir())
    assert model.data_hash == digest
    assert model_store.model_path(nlu_settings.resolved_model_dir(), digest).exists()


def test_existing_model_is_loaded_not_retrained(
    model: EmbeddedModel, nlu_settings: NluSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(*args, **kwargs):
        raise AssertionError("should have loaded the model file")

    monkeypatch.setattr(model_store, "train", no_training)
    loaded = model_store.load_or_train(nlu_settings)
    assert loaded.data_hash == model.data_hash
    assert loaded.parse("code caf bloké").intent.name == "password_reset"


def test_changed_data_retrains_and_replaces_the_model_file(tiny_data_dir: Path, tmp_path: Path) -> None:
    settings = NluSettings(data_dir=tiny_data_dir, model_dir=tmp_path / "models")
    first = model_store.load_or_train(settings)
    assert first.parse("bonjour").intent.name == "greet"
    with (tiny_data_dir / "nlu.yml").open("a", encoding="utf-8") as file:
        file.write("- intent: thank\n  examples: |\n    - merci\n    - merci beaucoup\n    - super merci\n")
    second = model_store.load_or_train(settings)
    assert second.data_hash != first.data_hash
    assert "thank" in second.intents
    assert [p.name for p in (tmp_path / "models").glob("*.joblib")] == [
        model_store.model_path(tmp_path / "models", second.data_hash).name]


def test_corrupt_model_file_is_rebuilt(tiny_data_dir: Path, tmp_path: Path) -> None:
    settings = NluSettings(data_dir=tiny_data_dir, model_dir=tmp_path / "models")
    model = model_store.load_or_train(settings)
    path = model_store.model_path(settings.model_dir, model.data_hash)
    path.write_bytes(b"not a pickle")
    assert model_store.load_or_train(settings).parse("bonjour").intent.name == "greet"


def test_no_training_when_disabled(tiny_data_dir: Path, tmp_path: Path) -> None:
    settings = NluSettings(data_dir=tiny_data_dir, model_dir=tmp_path / "empty", train_if_needed=False)
    with pytest.raises(model_store.ModelNotTrainedError, match="relais nlu train"):
        build_parser(settings)


def test_relative_model_dir_is_resolved_against_the_working_folder(
    tiny_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(tiny_data_dir, work / "data")
    monkeypatch.chdir(work)
    parser = build_parser(NluSettings(data_dir=Path("data"), model_dir=Path("models")))
    assert parser.parse("salut").intent.name == "greet"
    assert list((work / "models").glob("embedded-*.joblib"))


def test_embedded_backend_is_the_default(model: EmbeddedModel, nlu_settings: NluSettings) -> None:
    assert NluSettings().backend == "embedded"
    assert isinstance(build_parser(nlu_settings), EmbeddedModel)


def test_compiled_scorer_gives_scikit_learns_probabilities() -> None:
    """The served model is the fitted scikit-learn pipeline compiled to arrays: same numbers."""
    import numpy as np

    from nlu.embedded import fit_pipeline
    from nlu.normalize import normalize
    from nlu.settings import DEFAULT_DATA_DIR
    from nlu.training_data import load

    training = model_store.load_training_data(DEFAULT_DATA_DIR)
    texts = [normalize(e.text) for e in training.examples]
    pipeline = fit_pipeline(texts, [e.intent for e in training.examples])
    compiled = EmbeddedModel.from_pipeline(pipeline, ServiceTable.from_training_data(training), "x")
    probe = [normalize(e.text) for e in load(DEFAULT_DATA_DIR / model_store.TEST_FOLDER).examples]
    probe += ["zzz qqq", "merci   beaucoup", "a", "code caf " * 50]
    expected = pipeline.predict_proba(probe)
    for text, row in zip(probe, expected, strict=True):
        got = compiled.probabilities(text)
        assert got is not None, text
        np.testing.assert_allclose(got, row, rtol=1e-9, atol=1e-12, err_msg=text)


def test_serving_does_not_need_scikit_learn(model: EmbeddedModel, nlu_settings: NluSettings) -> None:
    import subprocess
    import sys

    path = model_store.model_path(nlu_settings.resolved_model_dir(), model.data_hash)
    code = (
        "import sys; from pathlib import Path; from nlu import model_store; "
        f"m = model_store.load_model(Path({str(path)!r})); "
        "assert m.parse('code caf bloque').intent.name == 'password_reset'; "
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


def test_unwritable_model_folder_still_gives_a_working_parser(
    tiny_data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the model folder should be", encoding="utf-8")
    with caplog.at_level("WARNING", logger="nlu.model_store"):
        parser = build_parser(NluSettings(data_dir=tiny_data_dir, model_dir=blocker / "models"))
    assert parser.parse("bonjour").intent.name == "greet"
    assert "not saved" in caplog.text


@pytest.mark.parametrize("text", ["la caf", "Pôle Emploi svp", "mon compte ameli", "CAF", "bonjour la caf"])
def test_a_bare_service_name_is_never_a_confident_guess(model: EmbeddedModel, text: str) -> None:
    result = model.parse(text)
    assert result.service is not None
    assert result.intent.confidence < NluSettings().confidence_threshold  # the engine asks which need


def test_a_service_with_its_need_stays_confident(model: EmbeddedModel) -> None:
    assert model.parse("caf bloqué").intent.confidence >= NluSettings().confidence_threshold
    assert model.parse("pronote").intent.name == "pronote"
    assert model.parse("pronote").intent.confidence >= NluSettings().confidence_threshold
