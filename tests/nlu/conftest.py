"""NLU fixtures: the embedded model is trained once per test session, into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.embedded import EmbeddedModel
from nlu.model_store import load_or_train
from nlu.settings import NluSettings


@pytest.fixture(scope="session")
def nlu_settings(tmp_path_factory: pytest.TempPathFactory) -> NluSettings:
    return NluSettings(model_dir=tmp_path_factory.mktemp("nlu-models"))


@pytest.fixture(scope="session")
def model(nlu_settings: NluSettings) -> EmbeddedModel:
    return load_or_train(nlu_settings)


TINY_DATA = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - bonjour
    - salut
    - bonsoir madame
- intent: password_reset
  examples: |
    - jai oublie mon code [caf](service)
    - mot de passe [pole emploi]{"entity": "service", "value": "france_travail"} bloque
    - mdp perdu
- intent: out_of_scope
  examples: |
    - il fait beau
    - tu connais un kebab
    - le match de foot
"""


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> Path:
    """A small Rasa-format training folder: trains in a fraction of a second."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "nlu.yml").write_text(TINY_DATA, encoding="utf-8")
    return folder
