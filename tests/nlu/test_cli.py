"""`relais nlu train | parse | test`, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlu import model_store
from nlu.cli import app
from nlu.settings import NluSettings

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder so no config.yml or RELAIS_NLU__* variable changes the defaults."""
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("RELAIS_"):
            monkeypatch.delenv(name)


def last_json(output: str) -> dict:
    return json.loads(output[output.index("{"):])


def test_train_writes_a_stamped_model_file(tiny_data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--data-dir", str(tiny_data_dir), "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    summary = last_json(result.stdout)
    assert summary["data_hash"] == model_store.data_hash(tiny_data_dir)
    assert Path(summary["model_file"]) == model_store.model_path(tmp_path / "m", summary["data_hash"])
    assert Path(summary["model_file"]).exists()
    assert summary["examples"] == 9 and summary["intents"] == 3


def test_train_reports_bad_data(tmp_path: Path) -> None:
    data = tmp_path / "bad"
    data.mkdir()
    (data / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: 12\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "--data-dir", str(data), "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "nlu.yml" in result.output


def test_parse_prints_rasa_json(nlu_settings: NluSettings, model) -> None:
    result = runner.invoke(app, ["parse", "code caf bloké", "--model-dir", str(nlu_settings.model_dir)])
    assert result.exit_code == 0, result.output
    body = last_json(result.stdout)
    assert body["intent"]["name"] == "password_reset"
    assert body["entities"][0]["value"] == "caf"


def test_test_writes_the_results_folder(nlu_settings: NluSettings, model, tmp_path: Path) -> None:
    data = tmp_path / "mine.yml"
    data.write_text(
        'version: "3.1"\nnlu:\n- intent: password_reset\n  examples: |\n'
        "    - jai perdu le code de la [caf](service)\n    - mot de passe [pole emploi](service) oublie\n"
        "- intent: greet\n  examples: |\n    - bonjour madame\n- intent: thank\n  examples: |\n"
        "    - il fait beau\n",  # deliberately mislabelled: must show up as an error
        encoding="utf-8",
    )
    out = tmp_path / "results"
    result = runner.invoke(
        app, ["test", "--data", str(data), "--out", str(out), "--model-dir", str(nlu_settings.model_dir)]
    )
    assert result.exit_code == 0, result.output
    summary = last_json(result.stdout)
    assert summary["examples"] == 4
    assert summary["accuracy"] == 0.75
    assert summary["service"]["f1"] == 1.0
    report = json.loads((out / "intent_report.json").read_text())
    assert report["password_reset"]["recall"] == 1.0 and report["thank"]["recall"] == 0.0
    assert {"precision", "recall", "f1-score", "support"} <= set(report["macro avg"])
    errors = json.loads((out / "intent_errors.json").read_text())
    assert [(e["text"], e["intent"], e["intent_prediction"]["name"]) for e in errors] == [
        ("il fait beau", "thank", "out_of_scope")]
    assert (out / "intent_confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_test_defaults_to_the_held_out_split(nlu_settings: NluSettings, model, tmp_path: Path) -> None:
    result = runner.invoke(app, ["test", "--out", str(tmp_path / "r"), "--model-dir", str(nlu_settings.model_dir)])
    assert result.exit_code == 0, result.output
    summary = last_json(result.stdout)
    assert summary["examples"] >= 22 * 15
    assert summary["data"].endswith("test")


def test_test_rejects_a_file_without_examples(nlu_settings: NluSettings, tmp_path: Path) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("nlu: []\n", encoding="utf-8")
    result = runner.invoke(app, ["test", "--data", str(empty), "--model-dir", str(nlu_settings.model_dir)])
    assert result.exit_code == 2
    assert "no intent examples" in result.output
