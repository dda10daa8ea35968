"""Typo-tolerant extraction of the `service` entity ("pronot", "ammeli", "franse travail", "PE").

The synonym table is the ``synonym:`` items of nlu/data (the same table Rasa's EntitySynonymMapper
uses) plus each canonical value itself. Matching works on the folded tokens of the original text, so
entity offsets point into what the resident typed:

- phrases of 1 to 4 tokens are compared with the table, longest first, without overlaps;
- names of 5 letters or more also match with a small typo (rapidfuzz ratio >= ``FUZZY_CUTOFF``);
  shorter ones ("caf", "ent", "pe", "ft", "secu") must match a whole token exactly, so "ent" inside
  "parent" or "pe" inside "pere" never count;
- an elided article glued to a name ("lameli", "dameli") is recognised for names of 5 letters or more;
- a few short forms that are also ordinary words need their capitals or their context (see
  ``_ambiguous_ok``): "lENT" is the ENT but "c'est lent" is slow, "PE" is Pole emploi but "je pe pas"
  is "je peux pas".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from nlu.contract import service_values
from nlu.normalize import fold
from nlu.result import Entity
from nlu.training_data import TrainingData, load

DATA_DIR = Path(__file__).parent / "data"
EXTRACTOR = "RelaisServiceExtractor"
FUZZY_CUTOFF = 86.0
FUZZY_MIN_LENGTH = 5
MAX_PHRASE_TOKENS = 4

_TOKEN = re.compile(r"[^\W_]+")
_ELISIONS = ("l", "d", "j", "m", "s", "n", "qu")
_SUBJECT_PRONOUNS = {"je", "j", "tu", "il", "elle", "on", "ils", "elles", "ca", "sa", "ce", "ne"}
# Ordinary words one typo away from a service name: never read as one ("courrier" is paper mail).
_NOT_SERVICES = {"courrier", "courriers", "import", "imports", "emplois", "banques"}
_PREPOSITIONS = {"sur", "pour", "dans", "de", "a", "avec", "via", "par", "au", "du"}
_NEGATIONS = {"pa", "pas", "plus", "plu", "rien", "jamais", "venir", "faire", "aller", "etre"}


@dataclass(frozen=True)
class _Token:
    folded: str
    start: int
    end: int


@dataclass(frozen=True)
class ServiceTable:
    exact: dict[str, str]  # folded phrase -> canonical value
    fuzzy_choices: dict[int, tuple[str, ...]]  # token count -> phrases long enough for typo tolerance

    @classmethod
    def from_training_data(cls, data: TrainingData) -> ServiceTable:
        values = set(service_values())
        exact: dict[str, str] = {}
        for value in values:
            exact[_phrase(value.replace("_", " "))] = value
        for surface, value in data.synonyms.items():
            if value in values:
                exact[_phrase(surface)] = value
        fuzzy: dict[int, list[str]] = {}
        for phrase in sorted(exact):
            if len(phrase.replace(" ", "")) >= FUZZY_MIN_LENGTH:
                fuzzy.setdefault(phrase.count(" ") + 1, []).append(phrase)
        return cls(exact=exact, fuzzy_choices={size: tuple(p) for size, p in fuzzy.items()})


def _phrase(text: str) -> str:
    return " ".join(_TOKEN.findall(fold(text)))


@lru_cache(maxsize=1)
def default_table() -> ServiceTable:
    return ServiceTable.from_training_data(load(DATA_DIR, exclude=[DATA_DIR / "test"]))


def _ambiguous_ok(phrase: str, original: str, tokens: list[_Token], first: int, last: int) -> bool:
    """Short forms that are also ordinary words need their capitals or a telling context."""
    if phrase == "lent":  # "l'ENT" glued, or "sur lent", but "c'est lent" is slow
        before = tokens[first - 1].folded if first > 0 else ""
        return original.endswith("ENT") or before in _PREPOSITIONS
    if phrase == "pe":
        if original == "PE":
            return True
        before = tokens[first - 1].folded if first > 0 else ""
        after = tokens[last + 1].folded if last + 1 < len(tokens) else ""
        return before not in _SUBJECT_PRONOUNS and after not in _NEGATIONS and not before.startswith("j")
    return True


def _lookup(phrase: str, table: ServiceTable) -> str | None:
    value = table.exact.get(phrase)
    if value is not None:
        return value
    if len(phrase.replace(" ", "")) < FUZZY_MIN_LENGTH or phrase in _NOT_SERVICES:
        return None
    # Only phrases of as many words: "et la banque postale" must not stand for "la banque postale".
    choices = table.fuzzy_choices.get(phrase.count(" ") + 1, ())
    match = process.extractOne(phrase, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if match is None or not _same_short_words(phrase, match[0]):
        return None
    return table.exact[match[0]]


def _same_short_words(phrase: str, candidate: str) -> bool:
    """Word by word: short words exact ("mes impots" is not "les impots"), long ones with the same first letter."""
    for word, expected in zip(phrase.split(), candidate.split(), strict=True):
        if (len(word) <= 3 or len(expected) <= 3) and word != expected:
            return False
        if word[0] != expected[0]:  # typos rarely hit the first letter; "lemploi" is not "polemploi"
            return False
    return True


def _match(phrase: str, table: ServiceTable) -> str | None:
    value = _lookup(phrase, table)
    if value is not None:
        return value
    for prefix in _ELISIONS:  # "lameli", "dassurance maladie": an article glued to the name
        rest = phrase[len(prefix):]
        if phrase.startswith(prefix) and len(rest.split(" ")[0]) >= 3 and len(rest) >= FUZZY_MIN_LENGTH:
            value = _lookup(rest, table)
            if value is not None:
                return value
    return None


def extract_services(text: str, table: ServiceTable | None = None) -> list[Entity]:
    """Every service named in ``text``, in order, with offsets into ``text``."""
    table = table or default_table()
    folded = fold(text)
    tokens = [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(folded)]
    found: list[Entity] = []
    index = 0
    while index < len(tokens):
        matched = False
        for size in range(min(MAX_PHRASE_TOKENS, len(tokens) - index), 0, -1):
            last = index + size - 1
            phrase = " ".join(t.folded for t in tokens[index:last + 1])
            value = _match(phrase, table)
            if value is None:
                continue
            start, end = tokens[index].start, tokens[last].end
            if not _ambiguous_ok(phrase, text[start:end], tokens, index, last):
                continue
            found.append(Entity(entity="service", value=value, start=start, end=end, extractor=EXTRACTOR))
            index = last + 1
            matched = True
            break
        if not matched:
            index += 1
    return found


def extract_service(text: str, table: ServiceTable | None = None) -> Entity | None:
    """The first service named in ``text`` ("caf", "pole emploi", "ammeli"...), or None."""
    found = extract_services(text, table)
    return found[0] if found else None
