"""The check-digit functions, against published examples and against their own definitions."""

from __future__ import annotations

import pytest

from bot.privacy.checksums import iban_checksum_valid, iban_length_known, luhn_valid, nir_key_valid, rib_key_valid
from tests.privacy.values import card, iban, nir, rib


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("295109912611193", True),  # INSEE's worked example
        ("295109912611199", False),
        ("253072B07300470", True),  # Corsica: 2B counts as 18
        ("253072A07300443", True),  # Corsica: 2A counts as 19
        ("253072C07300443", False),
        ("29510991261119", False),  # too short
        ("2951099126111９3", False),  # a full-width digit is not a digit here
    ],
)
def test_nir_key(value: str, valid: bool) -> None:
    assert nir_key_valid(value) is valid


def test_luhn_accepts_test_card_numbers_and_rejects_one_digit_changes() -> None:
    for number in ("4111111111111111", "5555555555554444", "378282246310005"):
        assert luhn_valid(number)
        for position in range(len(number)):
            changed = number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
            assert not luhn_valid(changed)
    assert luhn_valid(card("497010123456789"))
    assert not luhn_valid("")
    assert not luhn_valid("4111-1111")


def test_iban_checksum_on_published_examples_and_generated_ones() -> None:
    assert iban_checksum_valid("FR1420041010050500013M02606")  # the French example of the IBAN registry
    assert iban_checksum_valid("GB82WEST12345698765432")
    assert iban_checksum_valid("DE89370400440532013000")
    assert not iban_checksum_valid("DE89370400440532013001")
    assert iban_length_known("FR1420041010050500013M02606")
    assert not iban_length_known("FR142004101005050001")
    generated = iban("FR", rib("30004", "00123", "00012345678"))
    assert iban_checksum_valid(generated) and iban_length_known(generated)
    assert not iban_checksum_valid("FR!!")


def test_rib_key() -> None:
    assert rib_key_valid("20041010050500013M02606")  # the BBAN of the registry's French example
    value = rib("30004", "00123", "00012345678")
    assert rib_key_valid(value)
    assert not rib_key_valid(value[:-1] + str((int(value[-1]) + 1) % 10))
    assert not rib_key_valid("123")


def test_generated_nir_is_valid() -> None:
    assert nir_key_valid(nir("1850578006084"))
