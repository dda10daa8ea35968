"""bot/sms/gsm7.py against the GSM 03.38 tables as the `gsm0338` codec implements them."""

from __future__ import annotations

import gsm0338  # noqa: F401  (registers the 'gsm03.38' codec)
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sms.gsm7 import count_segments, is_gsm7, non_gsm7_characters, prepare, transliterate


def _codec_tables() -> tuple[set[str], set[str]]:
    """Every code point the codec encodes, split into one-septet and escaped (two-septet) characters."""
    single, double = set(), set()
    for code_point in range(0x110000):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        ch = chr(code_point)
        try:
            encoded = ch.encode("gsm03.38")
        except UnicodeEncodeError:
            continue
        (single if len(encoded) == 1 else double).add(ch)
    single.discard("\x1b")  # the escape itself is not a character anyone can send
    return single, double


SINGLE, DOUBLE = _codec_tables()


def test_the_codec_tables_have_the_standard_sizes():
    assert len(SINGLE) == 127 and len(DOUBLE) == 10


def test_every_unicode_character_is_gsm7_exactly_when_the_codec_can_encode_it():
    for code_point in range(0x110000):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        ch = chr(code_point)
        assert is_gsm7(ch) == (ch in SINGLE or ch in DOUBLE), hex(code_point)


def test_extension_characters_cost_two_septets_and_basic_ones_one():
    for ch in SINGLE:
        assert count_segments(ch).units == len(ch.encode("gsm03.38")) == 1
    for ch in DOUBLE:
        assert count_segments(ch).units == len(ch.encode("gsm03.38")) == 2


def test_non_gsm7_characters_lists_what_would_switch_to_ucs2_in_order():
    assert non_gsm7_characters("Fenêtre « ouverte » fenêtre") == ["ê", "«", "»"]
    assert non_gsm7_characters("Code CAF à é è ù €") == []


@pytest.mark.parametrize(("raw", "sms"), [
    ("Vous êtes à l'étape 2", "Vous etes à l'étape 2"),
    ("Ça marche, reçu", "Ça marche, recu"),
    ("cœur de l'œuvre", "coeur de l'oeuvre"),
    ("L’attestation", "L'attestation"),
    ("« Mon Compte »", "\"Mon Compte\""),
    ("Repondez « oui » ou «non»", "Repondez \"oui\" ou \"non\""),
    ("Touchez «\u00a0Valider\u00a0» puis «\u202fOK\u202f»", "Touchez \"Valider\" puis \"OK\""),
    ("10\u00a0€ et 5\u202f%", "10 € et 5 %"),
    ("Attendez… 2–3 jours", "Attendez... 2-3 jours"),
    ("Merci 🙏 à bientôt 👋", "Merci à bientot"),
    ("Île, Âge, Être, Ôter", "Ile, Age, Etre, Oter"),
    ("naïf Noël maïs", "naif Noel mais"),
    ("Température 20°", "Température 20o"),
])
def test_french_is_transliterated_into_gsm7(raw, sms):
    prepared = prepare(raw)
    assert prepared.text == sms
    assert prepared.encoding == "GSM-7"
    assert is_gsm7(prepared.text)


def test_other_scripts_are_kept_and_sent_as_ucs2_explicitly():
    text, lost = transliterate("مرحبا code")
    assert "مرحبا" in text and lost
    assert prepare("مرحبا code").encoding == "UCS-2"


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3),
                                                  (460, 4)])
def test_gsm7_segments_are_160_then_153(length, segments):
    result = count_segments("a" * length)
    assert (result.encoding, result.segments, result.units) == ("GSM-7", segments, length)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments_are_70_then_67(length, segments):
    result = count_segments("ж" * length)
    assert (result.encoding, result.segments) == ("UCS-2", segments)


def test_extension_characters_count_double_against_the_160_limit():
    assert count_segments("€" * 80).segments == 1
    assert count_segments("a" + "€" * 80).segments == 2


def test_an_escape_pair_is_never_split_across_segments():
    # 152 septets then '€' (2 septets) does not fit the first 153-septet part: it moves whole.
    text = "a" * 152 + "€" + "a" * 10
    assert count_segments(text).units == 164
    assert count_segments(text).segments == 2
    text = "a" * 152 + "€" * 77  # 152 | 1 free + 76 pairs need 152 -> the 77th pair goes to a third part
    assert count_segments(text).segments == 3


def test_emoji_surrogate_pairs_count_two_ucs2_units():
    assert count_segments("ж😀").units == 3


@given(st.text())
def test_prepare_never_silently_switches_to_ucs2(text):
    prepared = prepare(text)
    if prepared.encoding == "UCS-2":
        assert any(ch.isalnum() for ch in transliterate(text)[1])  # only letters of another script force it
    else:
        assert is_gsm7(prepared.text)
        assert len(prepared.text.encode("gsm03.38")) == prepared.units


@given(st.text(alphabet=st.sampled_from(sorted(SINGLE | DOUBLE)), max_size=600))
def test_segment_count_matches_a_reference_packing(text):
    septets = [len(ch.encode("gsm03.38")) for ch in text]
    if sum(septets) <= 160:
        expected = 1
    else:
        expected, used = 1, 0
        for width in septets:
            if used + width > 153:
                expected, used = expected + 1, 0
            used += width
    assert count_segments(text).segments == expected
