"""Phone numbers in E.164, as providers expect them and as residents are stored."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

# French overseas départements share the 0 + 9 digits national format with mainland numbers:
# the prefix tells which country code phonenumbers must use.
_OVERSEAS_PREFIXES = {
    "0692": "RE", "0693": "RE", "0262": "RE",  # La Réunion
    "0639": "YT", "0269": "YT",  # Mayotte
    "0690": "GP", "0691": "GP", "0590": "GP",  # Guadeloupe
    "0696": "MQ", "0697": "MQ", "0596": "MQ",  # Martinique
    "0694": "GF", "0594": "GF",  # Guyane
}


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number that can receive an SMS; the message says why."""


@lru_cache(maxsize=20_000)  # every inbound SMS asks, mostly for numbers seen before; a miss costs ~50 µs
def to_e164(raw: str, default_region: str = "FR") -> str:
    """'06 12 34 56 78' -> '+33612345678'; '0692 12 34 56' -> '+262692123456'."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    digits = "".join(ch for ch in text if ch.isdigit())
    region = default_region
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+") and len(digits) == 10:
        region = _OVERSEAS_PREFIXES.get(digits[:4], default_region)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
