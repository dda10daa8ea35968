"""The training data is the heart of the NLU: these checks keep it complete, valid and honest."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nlu import model_store
from nlu.contract import intent_names, service_values
from nlu.normalize import normalize
from nlu.services import extract_services
from nlu.settings import DEFAULT_DATA_DIR
from nlu.training_data import TrainingDataError, load, parse_annotated, read_file

TRAINING = model_store.load_training_data(DEFAULT_DATA_DIR)
HELD_OUT = load(DEFAULT_DATA_DIR / model_store.TEST_FOLDER)


def test_contract_copy_lists_the_22_intents() -> None:
    assert len(intent_names()) == 22
    assert {"out_of_scope", "greet", "thank", "affirm", "deny", "password_reset"} <= set(intent_names())


@pytest.mark.parametrize("intent", intent_names())
def test_every_intent_has_at_least_60_training_examples(intent: str) -> None:
    count = Counter(e.intent for e in TRAINING.examples)[intent]
    assert count >= 60, f"{intent}: only {count} training examples"


@pytest.mark.parametrize("intent", intent_names())
def test_every_intent_has_at_least_15_held_out_examples(intent: str) -> None:
    count = Counter(e.intent for e in HELD_OUT.examples)[intent]
    assert count >= 15, f"{intent}: only {count} held-out examples"


def test_no_intent_outside_the_contract() -> None:
    assert set(TRAINING.intents()) <= set(intent_names())
    assert set(HELD_OUT.intents()) <= set(intent_names())


def test_no_duplicate_training_examples() -> None:
    # Spelling variants that normalise alike ("slt", "salut") are kept on purpose: Rasa trains on the raw text.
    counts = Counter((e.intent, e.text) for e in TRAINING.examples)
    assert [text for text, n in counts.items() if n > 1] == []


def test_no_held_out_example_is_in_training() -> None:
    training_texts = {normalize(e.text) for e in TRAINING.examples}
    leaked = [e.text for e in HELD_OUT.examples if normalize(e.text) in training_texts]
    assert leaked == []


def test_training_never_reads_the_held_out_folder() -> None:
    files = model_store.training_files(DEFAULT_DATA_DIR)
    assert files and all(model_store.TEST_FOLDER not in f.relative_to(DEFAULT_DATA_DIR).parts for f in files)


@pytest.mark.parametrize("split", [TRAINING, HELD_OUT], ids=["training", "held_out"])
def test_every_service_annotation_maps_to_a_contract_value(split) -> None:
    valid = set(service_values())
    bad = [
        (e.text, entity.value)
        for e in split.examples for entity in e.entities
        if entity.entity != "service" or TRAINING.canonical(entity) not in valid
    ]
    assert bad == []


def test_every_synonym_maps_to_a_contract_value() -> None:
    assert set(TRAINING.synonyms.values()) <= set(service_values())


def test_the_issue_synonyms_are_in_the_table() -> None:
    expected = {"pole emploi": "france_travail", "pe": "france_travail", "ft": "france_travail",
                "secu": "ameli", "carte vitale": "ameli", "ent": "pronote", "ecole directe": "pronote",
                "mail": "email", "gmail": "email", "boite mail": "email"}
    assert {k: TRAINING.synonyms.get(k) for k in expected} == expected


def test_service_extractor_agrees_with_every_training_annotation() -> None:
    """Annotations and the extractor must tell the same story, or the data teaches two things."""
    disagreements = []
    for example in TRAINING.examples:
        gold = {TRAINING.canonical(e) for e in example.entities if e.entity == "service"}
        found = {e.value for e in extract_services(example.text)}
        if gold != found:
            disagreements.append((example.text, sorted(gold), sorted(found)))
    assert disagreements == []


def test_annotation_syntaxes() -> None:
    text, entities = parse_annotated(
        'code [pole emploi]{"entity": "service", "value": "france_travail"} et [caf](service)')
    assert text == "code pole emploi et caf"
    assert [(e.entity, e.value, text[e.start:e.end]) for e in entities] == [
        ("service", "france_travail", "pole emploi"), ("service", "caf", "caf")]
    text, entities = parse_annotated("mon [secu](service:ameli) marche pas")
    assert (text, entities[0].value, entities[0].text) == ("mon secu marche pas", "ameli", "secu")


def test_reader_names_the_file_of_bad_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yml"
    bad.write_text("nlu:\n- intent: greet\n  examples: |\n    bonjour sans tiret\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="broken.yml"):
        read_file(bad)
    bad.write_text("nlu: [unclosed", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="broken.yml"):
        read_file(bad)
