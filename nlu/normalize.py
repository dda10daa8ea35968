"""Text normalisation shared by the model, the service extractor and the engine's keyword matching.

``normalize("Jé oubliééé mon MDP !!")`` gives ``"je oublie mon mot de passe"``: lowercase, no accents,
apostrophes joined the way residents type ("j'ai" -> "jai"), punctuation and symbols dropped, letters
repeated three times or more collapsed, SMS spellings replaced (nlu/lexicon/sms_spellings.yml).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_FILE = Path(__file__).parent / "lexicon" / "sms_spellings.yml"

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_WORD = re.compile(r"[\W_]+")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, str], dict[str, str]]:
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    return dict(data.get("tokens") or {}), dict(data.get("symbols") or {})


def fold(text: str) -> str:
    """Lowercase and strip accents, keeping every character's position (one char in, one char out).

    Letters of other scripts (Arabic, Cyrillic...) are kept as they are.
    """
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFKD", char.translate(_LIGATURES))
        base = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
        # Keep offsets stable: a character that decomposes into several (ligatures, "ﬁ") keeps its first.
        out.append(base[:1] if base else " ")
    return "".join(out)


def normalize(text: str) -> str:
    """The plain form of a resident's message, for matching and for the model."""
    tokens_table, symbols_table = _lexicon()
    for symbol, word in symbols_table.items():
        if symbol in text:
            text = text.replace(symbol, f" {word} ")
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    text = _REPEATED_LETTER.sub(r"\1", text)
    return " ".join(tokens_table.get(token, token) for token in text.split())
