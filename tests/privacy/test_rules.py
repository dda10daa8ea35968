"""Each detection rule, on the messages residents actually send: what is redacted, and what is not."""

from __future__ import annotations

import pytest

from bot.privacy import KINDS, find_secrets, redact, redaction_texts
from bot.sms.gsm7 import count_segments, is_gsm7
from tests.privacy.values import card, grouped, iban, nir, nir_spaced, nir_with_wrong_key, rib

NIR = nir("1850578006084")  # synthetic: born May 1985, département 78
NIR_BAD_KEY = nir_with_wrong_key("1850578006084")
VISA = card("497010123456789")
VISA_BAD = VISA[:-1] + str((int(VISA[-1]) + 3) % 10)
IBAN_FR = iban("FR", rib("30004", "00123", "00012345678"))
IBAN_FR_BAD = IBAN_FR[:-3] + str((int(IBAN_FR[-3]) + 1) % 10) + IBAN_FR[-2:]
IBAN_DE = iban("DE", "370400440532013000")


def found(text: str) -> list[tuple[str, str]]:
    return [(secret.kind, text[secret.start : secret.end]) for secret in find_secrets(text)]


# ------------------------------------------------------------------ NIR


@pytest.mark.parametrize(
    "written",
    [
        nir_spaced(NIR),
        NIR,
        ".".join(nir_spaced(NIR).split()),
        "-".join(nir_spaced(NIR).split()),
        NIR[:13] + " " + NIR[13:],
    ],
)
def test_a_nir_with_a_valid_key_is_redacted_however_it_is_grouped(written: str) -> None:
    assert found(f"bjr voila {written} merci") == [("nir", written)]


def test_a_corsican_nir_is_checked_with_2a_and_2b() -> None:
    for department in ("2A", "2B"):
        value = nir(f"25307{department}073004")
        written = f"{value[0]} {value[1:3]} {value[3:5]} {value[5:7]} {value[7:10]} {value[10:13]} {value[13:]}"
        assert found(f"mon numero {written}") == [("nir", written)]
        assert found(f"mon numero {value.lower()}") == [("nir", value.lower())]


def test_a_temporary_number_starting_with_7_or_8_is_a_nir_too() -> None:
    value = nir("7850599350123")
    assert found(f"numero provisoire {value}") == [("nir", value)]


def test_a_wrong_key_counts_only_when_the_resident_says_it_is_their_secu_number() -> None:
    # Our choice: a mistyped NIR is still 13 digits of someone's NIR, so the words decide.
    assert found(f"mon numero de secu c {nir_spaced(NIR_BAD_KEY)}") == [("nir", nir_spaced(NIR_BAD_KEY))]
    assert found(f"reference {NIR_BAD_KEY}") == []


def test_thirteen_digits_without_key_count_only_after_secu() -> None:
    assert found(f"num secu {NIR[:13]}") == [("nir", NIR[:13])]
    assert found(f"commande {NIR[:13]}") == []


def test_a_month_the_insee_never_uses_is_not_a_nir_even_with_a_matching_key() -> None:
    impossible = nir("1851378006084")  # month 13
    assert found(f"numero {impossible}") == []


def test_a_nir_after_a_phone_number_in_the_same_run_of_digits() -> None:
    text = f"tel 06 12 34 56 78 {nir_spaced(NIR)}"
    assert found(text) == [("nir", nir_spaced(NIR))]


def test_a_nir_with_a_wrong_key_next_to_a_tax_number_is_still_one_nir() -> None:
    text = f"numero de carte vitale {nir_spaced(NIR_BAD_KEY)} et numero fiscal 0701987765432"
    assert found(text) == [("nir", nir_spaced(NIR_BAD_KEY)), ("tax_number", "0701987765432")]


# ------------------------------------------------------------------ cards


@pytest.mark.parametrize("written", [grouped(VISA), VISA, "-".join(grouped(VISA).split())])
def test_a_card_number_passing_luhn_is_redacted(written: str) -> None:
    assert found(f"ma cb {written}") == [("card", written)]
    assert found(written) == [("card", written)]


def test_american_express_grouping() -> None:
    amex = card("37828224631000")
    written = f"{amex[:4]} {amex[4:10]} {amex[10:]}"
    assert found(f"amex {written}") == [("card", written)]


def test_a_luhn_failure_counts_only_after_card_words() -> None:
    assert found(f"ma carte bancaire {grouped(VISA_BAD)}") == [("card", grouped(VISA_BAD))]
    assert found(f"numero de dossier {VISA_BAD}") == []


def test_digits_grouped_like_phone_numbers_are_not_a_card_without_card_words() -> None:
    # 16 digits in pairs that happen to pass Luhn: two phone numbers' worth, not a card.
    pairs = " ".join(VISA[i : i + 2] for i in range(0, 16, 2))
    assert found(f"appelez {pairs}") == []


def test_a_cryptogram_is_a_code() -> None:
    assert found(f"carte {grouped(VISA)} crypto 123") == [("card", grouped(VISA)), ("code", "123")]


# ------------------------------------------------------------------ IBAN and RIB


@pytest.mark.parametrize(
    "written", [grouped(IBAN_FR), IBAN_FR, grouped(IBAN_FR).lower(), "-".join(grouped(IBAN_FR).split())]
)
def test_a_french_iban_is_redacted(written: str) -> None:
    assert found(f"mon rib {written} merci") == [("iban", written)]


def test_a_foreign_iban_and_one_with_a_space_after_the_country() -> None:
    assert found(f"compte en allemagne {grouped(IBAN_DE)}") == [("iban", grouped(IBAN_DE))]
    spaced = "FR " + grouped(IBAN_FR)[2:]
    assert found(f"iban: {spaced}") == [("iban", spaced)]


def test_an_iban_stops_at_its_country_length_even_when_a_word_follows() -> None:
    text = f"IBAN {IBAN_FR} BIC BNPAFRPPXXX"
    assert found(text) == [("iban", IBAN_FR)]


def test_a_wrong_iban_counts_only_after_bank_words() -> None:
    assert found(f"mon iban {grouped(IBAN_FR_BAD)}") == [("iban", grouped(IBAN_FR_BAD))]
    assert found(f"reference du courrier {grouped(IBAN_FR_BAD)}") == []


def test_a_rib_in_its_four_blocks() -> None:
    value = rib("30004", "00123", "00012345678")
    written = f"{value[:5]} {value[5:10]} {value[10:21]} {value[21:]}"
    assert found(f"mon rib: {written}") == [("rib", written)]


# ------------------------------------------------------------------ tax number


def test_a_tax_number_needs_the_words_or_the_notice_grouping() -> None:
    assert found("mon numero fiscal c 3012345678901") == [("tax_number", "3012345678901")]
    assert found("sur mon avis dimpot ya 1234567890123") == [("tax_number", "1234567890123")]
    assert found("jai trouve ca en haut 07 01 987 765 432") == [("tax_number", "07 01 987 765 432")]
    assert found("colis 3012345678901") == []
    assert found("numero fiscal 4012345678901") == []  # tax numbers start with 0 to 3


# ------------------------------------------------------------------ passwords


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("mon mdp c Azerty123", "Azerty123"),
        ("mot de passe: Soleil2019!", "Soleil2019!"),
        ("mon mot de passe cest Azerty123", "Azerty123"),
        ("mon mot 2 passe c Lina2015", "Lina2015"),
        ("mot d passe c Soleil75", "Soleil75"),
        ("password Nadia1985", "Nadia1985"),
        ("le mot de passe caf est Camille93", "Camille93"),
        ("mdp = 'Bonjour2024',", "Bonjour2024"),
        ("mon mdp c soleil", "soleil"),  # a plain word, but announced
        ("MOT DE PASSE Marseille13", "Marseille13"),
        ("mot de passe du wifi de la mediatheque c mediatheque2024", "mediatheque2024"),
        ("mot de passe de ma fille c Lina2015", "Lina2015"),
        ("le mdp est princesse", "princesse"),
        ("mon mdp c Jean-Pierre75", "Jean-Pierre75"),
    ],
)
def test_passwords_after_the_words_that_announce_them(text: str, password: str) -> None:
    assert found(text) == [("password", password)]


def test_two_passwords_in_one_message() -> None:
    assert found("mdp c Azerty1 ou Soleil22 je sais plus") == [("password", "Azerty1"), ("password", "Soleil22")]
    assert found("mes mdp c Azerty1 pour caf et Azerty2 pour ameli") == [
        ("password", "Azerty1"),
        ("password", "Azerty2"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "jai oublie mon mot de passe caf",
        "mot de passe oublié",
        "mon mdp marche pas",
        "mon mot de passe est bloqué",
        "le mot de passe cest quoi deja ?",
        "mot de passe trop court",
        "mon mot de passe c le meme que avant",
        "le mdp doit avoir 12 caracteres",
        "mdp perdu aidez moi",
        "mon mot de passe [mot de passe masqué]",
        "mon mot de passe est verrouillé",
        "mon mot de passe est facile",
        "mon mdp est enregistré dans le telephone",
        "mot de passe: aucun",
        "mdp oublié: j'ai fait 3 fois",
        "mdp faux : 1er essai",
        "mdp c peut-être faux",
        "mdp ne marche pas : Erreur 403",
    ],
)
def test_sentences_about_passwords_hold_no_password(text: str) -> None:
    assert found(text) == []


# ------------------------------------------------------------------ codes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("mon code est 1234", "1234"),
        ("code confidentiel 12345678", "12345678"),
        ("le code recu par sms 482913", "482913"),
        ("code c 1234", "1234"),
        ("Votre code de vérification est : 482913. Ne le communiquez à personne.", "482913"),
        ("code d'activation educonnect 580264", "580264"),
        ("le code c 482 913", "482 913"),
        ("482913 cest le code", "482913"),
        ("jai recu 095908 par sms", "095908"),
        ("numero d'acces en ligne 1234567", "1234567"),
        ("mon code est 2019", "2019"),  # a year-like PIN, announced
    ],
)
def test_codes_after_the_words_that_announce_them(text: str, code: str) -> None:
    assert found(text) == [("code", code)]


@pytest.mark.parametrize(
    "text",
    [
        "code postal 93200",
        "mon code postal c 69008",
        "93200 c mon code postal",
        "code promo 2024",
        "jai pas recu le code",
        "le code c quoi",
        "il me demande un code a 6 chiffres",
        "mon code caf marche plus depuis 2024",
        "code de la route",
        "le code de la porte c 1234B",
        "code envoye au 0612345678",
        "le code a ete envoye au 06 12 34 56 78",
    ],
)
def test_sentences_about_codes_hold_no_code(text: str) -> None:
    assert found(text) == []


# ------------------------------------------------------------------ ordinary numbers


@pytest.mark.parametrize(
    "text",
    [
        "rdv le 12/03/2024 a 14h30",
        "jai recu 600 euros au lieu de 750",
        "la caf ma verse 1 250,50 € ce mois",
        "appelez moi au 06 12 34 56 78",
        "mon numero c +33 6 12 34 56 78",
        "jai appele le 3230 personne repond",
        "le 3949 et le 3646",
        "solidarite numerique 01 70 772 372",
        "jhabite 12 rue des lilas 93200 saint denis",
        "etape 3 je comprend pas",
        "atelier 2",
        "mon numero allocataire c 1234567",
        "mon identifiant france travail c 1234567A",
        "tel 0612345678 0712345678",
        "SIRET 123 456 789 00012",
        "",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert found(text) == []
    assert redact(text).text == text and redact(text).kinds == ()


# ------------------------------------------------------------------ redaction


def test_redact_replaces_each_secret_with_its_placeholder_and_lists_the_kinds_once() -> None:
    text = f"secu {nir_spaced(NIR)} mdp Azerty1 ou Soleil22 iban {IBAN_FR}"
    result = redact(text)
    assert result.text == "secu [NIR masqué] mdp [mot de passe masqué] ou [mot de passe masqué] iban [IBAN masqué]"
    assert result.kinds == ("nir", "password", "iban")
    assert result.redacted


def test_every_kind_has_a_placeholder_and_the_warning_fits_one_gsm7_sms() -> None:
    texts = redaction_texts()
    assert set(KINDS) <= set(texts.placeholders)
    warning = texts.resident_warning
    assert is_gsm7(warning) and count_segments(warning).segments == 1


def test_anything_that_is_not_text_is_handled_without_raising() -> None:
    assert find_secrets(None) == []  # type: ignore[arg-type]
    assert redact(f"secu {NIR}".encode()).kinds == ("nir",)  # type: ignore[arg-type]
    assert redact(b"\xff\xfe\x00garbage").kinds == ()  # type: ignore[arg-type]
