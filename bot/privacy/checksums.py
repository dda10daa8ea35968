"""Check digits of the identifiers residents may text: NIR key, Luhn, IBAN and RIB mod 97.

Pure functions over compact strings (no spaces); each returns False rather than raising on
anything malformed, because they run on whatever a resident typed.
"""

from __future__ import annotations

# Registered IBAN lengths (SWIFT IBAN registry), plus the national formats of countries many residents
# bank in (Maghreb, West and Central Africa). French overseas départements use FR.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    # Experimental or national formats (not in the registry, but printed as IBANs on statements).
    "DZ": 26, "MA": 28, "SN": 28, "CI": 28, "ML": 28, "BJ": 28, "BF": 28, "CM": 27, "MG": 27, "TG": 28,
    "NE": 28, "GA": 27, "CG": 27, "CF": 27, "TD": 27, "KM": 27, "GQ": 27,
}  # fmt: skip


def nir_key(first13: str) -> int | None:
    """The NIR key, 97 - (n mod 97); Corsica's 2A and 2B count as 19 and 18. None if malformed."""
    if len(first13) != 13:
        return None
    department = first13[5:7].upper()
    if department == "2A":
        first13 = first13[:5] + "19" + first13[7:]
    elif department == "2B":
        first13 = first13[:5] + "18" + first13[7:]
    if not first13.isascii() or not first13.isdigit():
        return None
    return 97 - int(first13) % 97


def nir_key_valid(nir: str) -> bool:
    """True when the 15-character NIR ends with the key of its first 13 characters."""
    if len(nir) != 15 or not nir[13:].isascii() or not nir[13:].isdigit():
        return False
    return nir_key(nir[:13]) == int(nir[13:])


def luhn_valid(digits: str) -> bool:
    """The Luhn check of payment card numbers (and IMEIs)."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _alnum_to_number(text: str) -> int | None:
    """Letters count as 10..35 (A..Z), as ISO 13616 and ISO 7064 mod 97-10 require."""
    converted = []
    for char in text.upper():
        if "0" <= char <= "9":
            converted.append(char)
        elif "A" <= char <= "Z":
            converted.append(str(ord(char) - 55))
        else:
            return None
    return int("".join(converted)) if converted else None


def iban_checksum_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end; the number mod 97 must be 1."""
    if len(iban) < 5:
        return False
    number = _alnum_to_number(iban[4:] + iban[:4])
    return number is not None and number % 97 == 1


def iban_length_known(iban: str) -> bool:
    """True when the country code is known and the IBAN has that country's length."""
    return IBAN_LENGTHS.get(iban[:2].upper()) == len(iban)


# Letters in a French RIB account number stand for digits (A,J→1 ... I,R→9; S→2 ... Z→9).
_RIB_LETTERS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789")


def rib_key_valid(rib: str) -> bool:
    """French RIB (bank 5, branch 5, account 11, key 2): 97 - (89 bank + 15 branch + 3 account) mod 97."""
    if len(rib) != 23:
        return False
    translated = rib.upper().translate(_RIB_LETTERS)
    if not translated.isascii() or not translated.isdigit():
        return False
    bank, branch, account, key = (
        int(translated[:5]),
        int(translated[5:10]),
        int(translated[10:21]),
        int(translated[21:]),
    )
    return 97 - (89 * bank + 15 * branch + 3 * account) % 97 == key
