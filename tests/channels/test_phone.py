"""Phone numbers to E.164, including France's overseas départements."""

from __future__ import annotations

import pytest

from bot.channels.phone import InvalidPhoneNumber, to_e164


@pytest.mark.parametrize(("raw", "e164"), [
    ("06 12 34 56 78", "+33612345678"),
    ("07.81.23.45.67", "+33781234567"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"),
    ("+33612345678", "+33612345678"),
    ("01 40 20 50 50", "+33140205050"),
    ("0692 12 34 56", "+262692123456"),  # La Réunion mobile
    ("0693 12 34 56", "+262693123456"),
    ("0690 12 34 56", "+590690123456"),  # Guadeloupe
    ("0696 12 34 56", "+596696123456"),  # Martinique
    ("0694 12 34 56", "+594694123456"),  # Guyane
    ("0639 01 23 45", "+262639012345"),  # Mayotte (0639 1x is outside phonenumbers' ranges)
    ("+262 692 12 34 56", "+262692123456"),
    ("+32 470 12 34 56", "+32470123456"),  # a Belgian resident
])
def test_numbers_are_normalised_to_e164(raw, e164):
    assert to_e164(raw) == e164


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("bonjour", "not a phone number"),
    ("06 12 34", "not a valid phone number"),
    ("+33 6 12 34 56 78 90", "not a valid phone number"),
])
def test_invalid_numbers_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(InvalidPhoneNumber, match=reason):
        to_e164(raw)
