"""GSM 03.38 encoding, transliteration and segment counting for every outbound SMS.

A single character outside the GSM-7 alphabet switches a whole SMS to UCS-2, which cuts
a segment from 160 to 70 characters and can triple the price. So every outbound text goes
through :func:`prepare`: French accents that GSM-7 lacks are transliterated (ê→e, œ→oe),
typographic punctuation is straightened (’→', « »→"), emoji are dropped. Only text in
another script (Arabic, Cyrillic...) is kept in UCS-2, and then explicitly, never silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set, in code-point order (0x1B is the escape to the extension table).
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Extension table: each of these costs two septets (escape + code).
EXTENSION_TABLE = "\f^{}\\[~]|€"

BASIC = frozenset(BASIC_TABLE) - {"\x1b"}
EXTENSION = frozenset(EXTENSION_TABLE)

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTIPART_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTIPART_SEGMENT = 67

Encoding = Literal["GSM-7", "UCS-2"]

# Characters French text uses that GSM-7 lacks, with what a reader expects instead.
_TRANSLITERATION = {
    "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ÿ": "y",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I", "Ô": "O",
    "Ù": "U", "Û": "U", "Ÿ": "Y",
    # Lower-case ç only exists as capital Ç in GSM-7 and many phones show it as Ç: write c.
    "ç": "c",
    "œ": "oe", "Œ": "OE",
    "’": "'", "‘": "'", "‚": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"',
    "…": "...", "–": "-", "—": "-", "‑": "-", "‐": "-", "−": "-",
    "°": "o", "•": "-", "·": ".", "×": "x",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ",
    "\t": " ",
}
_GUILLEMET_SPACES = re.compile("«[ \u00a0\u202f\u2009\u2007]*|[ \u00a0\u202f\u2009\u2007]*»")
# Zero-width and joiner characters carry nothing a reader sees.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufe0f", "\ufe0e"}


@dataclass(frozen=True)
class SmsText:
    """A text ready to send by SMS, with what it will cost."""

    text: str
    encoding: Encoding
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(ch in BASIC or ch in EXTENSION for ch in text)


def non_gsm7_characters(text: str) -> list[str]:
    """The characters of ``text`` that would switch an SMS to UCS-2, in order, without repeats."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in BASIC and ch not in EXTENSION:
            seen.setdefault(ch)
    return list(seen)


def septets(text: str) -> int:
    """Length of a GSM-7 text in septets: extension characters count double."""
    return sum(2 if ch in EXTENSION else 1 for ch in text)


def _transliterate_char(ch: str) -> str | None:
    """A GSM-7 rendering of one character, or None when it has none (emoji, other scripts)."""
    if ch in BASIC or ch in EXTENSION:
        return ch
    if ch in _TRANSLITERATION:
        return _TRANSLITERATION[ch]
    if ch in _INVISIBLE:
        return ""
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    # Latin letters with diacritics: keep the base letter (á→a, ñ stays in the table above).
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and base != ch and all(c in BASIC for c in base):
        return base
    if category.startswith("M"):
        return ""
    return None


def transliterate(text: str) -> tuple[str, list[str]]:
    """Rewrite ``text`` in GSM-7 where a reader loses nothing.

    Returns the rewritten text and the characters that have no GSM-7 rendering.
    Symbols and emoji among them are dropped from the text; letters of other scripts are kept
    (the caller decides to send UCS-2 rather than lose words).
    """
    # French puts a (non-breaking) space inside guillemets: « oui » becomes "oui", not " oui ".
    text = _GUILLEMET_SPACES.sub(lambda m: '"', text)
    out: list[str] = []
    untranslatable: list[str] = []
    for ch in text:
        rendering = _transliterate_char(ch)
        if rendering is not None:
            out.append(rendering)
            continue
        untranslatable.append(ch)
        if unicodedata.category(ch)[0] in "LN":  # a letter or digit of another script: keep it
            out.append(ch)
    # Dropping emoji can leave double spaces or a space before punctuation.
    result = "".join(out)
    while "  " in result:
        result = result.replace("  ", " ")
    return result.strip(" "), untranslatable


def count_segments(text: str) -> SmsText:
    """How ``text`` would travel as it is: encoding, number of segments and units."""
    if is_gsm7(text):
        units = septets(text)
        if units <= GSM7_SINGLE_SEGMENT:
            return SmsText(text, "GSM-7", 1, units)
        # An escape pair is never split across two segments.
        segments, used = 1, 0
        for ch in text:
            width = 2 if ch in EXTENSION else 1
            if used + width > GSM7_MULTIPART_SEGMENT:
                segments, used = segments + 1, 0
            used += width
        return SmsText(text, "GSM-7", segments, units)
    code_units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(code_units)
    if units <= UCS2_SINGLE_SEGMENT:
        return SmsText(text, "UCS-2", 1, units)
    segments, used = 1, 0
    for width in code_units:  # a surrogate pair is never split either
        if used + width > UCS2_MULTIPART_SEGMENT:
            segments, used = segments + 1, 0
        used += width
    return SmsText(text, "UCS-2", segments, units)


def prepare(text: str) -> SmsText:
    """The form in which ``text`` goes out by SMS: GSM-7 whenever a reader loses nothing."""
    rewritten, _ = transliterate(text)
    return count_segments(rewritten)
