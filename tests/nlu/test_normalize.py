from __future__ import annotations

import pytest

from nlu.normalize import fold, normalize


@pytest.mark.parametrize(("raw", "expected"), [
    ("Jé oubliééé mon MDP !!", "je oublie mon mot de passe"),
    ("J'ai oublié", "jai oublie"),
    ("j’arrive pa", "jarrive pas"),
    ("slt jveu parlé a qqn", "salut je veux parle a quelquun"),
    ("merciiiii", "merci"),
    ("Ça marche ?!...", "ca marche"),
    ("cœur", "coeur"),
    ("code CAF bloké", "code caf bloque"),
    ("👍", "ok"),
    ("", ""),
    ("   \n\t ", ""),
    ("mon CV", "mon cv"),  # a curriculum vitae, never "ca va"
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_keeps_other_scripts_and_digits() -> None:
    assert normalize("سلام 06 12") == "سلام 06 12"


def test_fold_keeps_one_character_per_character() -> None:
    text = "Pôle Emploi œuvre ÉCOLE"
    assert len(fold(text)) == len(text)
    assert fold(text) == "pole emploi ouvre ecole"
