"""Keywords a resident can send at any time (SUITE, MENU, AIDE, STOP...), typo-tolerant."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from flows.texts import load_keywords


class Keyword(Enum):
    NEXT = "next"
    BACK = "back"
    REPEAT = "repeat"
    MENU = "menu"
    HUMAN = "human"
    RESUME = "resume"
    STOP = "stop"
    START = "start"
    YES = "yes"
    NO = "no"
    MY_DATA = "my_data"  # MES DONNEES: what is held about me (bot/engine/privacy.py)
    FORGET = "forget"  # OUBLIER: erase me


# Typos are tolerated only on words this long: "stp" must never read as "stop".
FUZZY_MIN_LENGTH = 5
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")


def simplify(text: str) -> str:
    """Lower case, no accents, no punctuation, letters repeated 3+ times folded: 'Ouiii !' -> 'oui'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = _NON_WORD.sub(" ", ascii_text).strip()
    return _REPEATS.sub(r"\1", words)


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Keyword]:
    vocabulary: dict[str, Keyword] = {}
    for name, words in load_keywords().items():
        for word in words:
            vocabulary[simplify(word)] = Keyword(name)
    return vocabulary


def match_keyword(text: str) -> Keyword | None:
    """The keyword the whole message is, if it is one."""
    simple = simplify(text)
    if not simple:
        return None
    vocabulary = _vocabulary()
    if simple in vocabulary:
        return vocabulary[simple]
    if len(simple) < FUZZY_MIN_LENGTH:
        return None
    best: tuple[int, Keyword] | None = None
    for word, keyword in vocabulary.items():
        if len(word) < FUZZY_MIN_LENGTH - 1:
            continue
        distance = Levenshtein.distance(simple, word, score_cutoff=1)
        if distance <= 1 and (best is None or distance < best[0]):
            best = (distance, keyword)
    return best[1] if best else None


def as_number(text: str) -> int | None:
    """The number a message is, if it is only a number ('2', ' 2. ', '2)')."""
    simple = simplify(text)
    return int(simple) if simple.isdigit() and len(simple) <= 3 else None


_LEADING_NUMBER = re.compile(r"^\s*(\d{1,2})(?:\s*[.):-]?\s*(?:[^\d].*)?)?$", re.DOTALL)


def leading_number(text: str) -> int | None:
    """The number an answer to a numbered question starts with: '2', '2)', '2 CAF' (a tapped button)."""
    match = _LEADING_NUMBER.match(text)
    return int(match.group(1)) if match else None
