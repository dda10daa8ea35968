"""Synthetic identifiers with correct (or deliberately wrong) check digits, for the privacy tests."""

from __future__ import annotations

from bot.privacy.checksums import luhn_valid, nir_key


def nir(first13: str) -> str:
    key = nir_key(first13)
    assert key is not None
    return first13 + f"{key:02d}"


def nir_with_wrong_key(first13: str) -> str:
    key = nir_key(first13)
    assert key is not None
    return first13 + f"{key % 97 + 1:02d}"


def card(body: str) -> str:
    """``body`` completed with its Luhn check digit."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in (bban + country + "00").upper())
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def rib(bank: str, branch: str, account: str) -> str:
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    return f"{bank}{branch}{account}{key:02d}"


def grouped(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def nir_spaced(value: str) -> str:
    return " ".join([value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:]])
