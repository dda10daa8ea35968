"""Writes tests/privacy/labelled_secrets.yml: resident SMS with the secrets each one holds.

Run it again only to change the set (it is seeded, so the output is stable):

    .venv/bin/python tests/privacy/generate_labelled_secrets.py

Every NIR, card number and IBAN here is generated with a correct (or, for the lookalikes,
deliberately wrong) check digit from random digits: none belongs to a real person. Messages are
written the way residents text (no accents, SMS spelling, run-on sentences); each template is
used with a couple of formats (grouped by the usual blocks, contiguous, dots, dashes).
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from bot.privacy.checksums import luhn_valid, nir_key

OUT = Path(__file__).with_name("labelled_secrets.yml")
rng = random.Random(20261122)


# ---------------------------------------------------------------- value generators
def _nir_digits(corsica: bool = False, temporary: bool = False) -> str:
    sex = rng.choice("78") if temporary else rng.choice("12")
    year = f"{rng.randint(0, 99):02d}"
    month = f"{rng.randint(1, 12):02d}"
    if corsica:
        department = rng.choice(["2A", "2B"])
        commune = f"{rng.randint(1, 366):03d}"
    else:
        kind = rng.random()
        if kind < 0.15:  # born abroad: department 99 and the country's code
            department, commune = "99", str(rng.choice([350, 351, 352, 134, 139, 328, 330, 341, 393]))
        elif kind < 0.22:  # overseas: 97 + a 3-digit commune code starting with the département's digit
            department, commune = "97", f"{rng.randint(1, 6)}{rng.randint(1, 34):02d}"
        else:
            department = f"{rng.choice([75, 93, 94, 95, 13, 69, 59, 92, 91, 77, 78, 33, 31, 67, 6]):02d}"
            commune = f"{rng.randint(1, 999):03d}"
    order = f"{rng.randint(1, 999):03d}"
    first13 = sex + year + month + department + commune + order
    key = nir_key(first13)
    assert key is not None
    return first13 + f"{key:02d}"


def _nir_bad_key(nir: str) -> str:
    key = int(nir[13:])
    wrong = (key - 1 + rng.randint(1, 95)) % 97 + 1  # any other key in 1..97
    return nir[:13] + f"{wrong:02d}"


def _format_nir(nir: str, style: str) -> str:
    parts = [nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]]
    if style == "spaces":
        return " ".join(parts)
    if style == "compact":
        return nir
    if style == "dots":
        return ".".join(parts)
    if style == "dashes":
        return "-".join(parts)
    if style == "key_apart":
        return nir[:13] + " " + nir[13:]
    if style == "vitale":  # as printed on the carte Vitale
        return " ".join(parts[:6]) + " " + parts[6]
    if style == "no_key":
        return " ".join(parts[:6])
    raise ValueError(style)


def _luhn_complete(prefix_and_body: str) -> str:
    for check in "0123456789":
        if luhn_valid(prefix_and_body + check):
            return prefix_and_body + check
    raise AssertionError


def _card_digits(brand: str) -> str:
    if brand == "visa":
        body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    elif brand == "mastercard":
        body = rng.choice(["51", "52", "53", "54", "55"]) + "".join(rng.choice("0123456789") for _ in range(13))
    elif brand == "mastercard2":
        body = str(rng.randint(2221, 2720)) + "".join(rng.choice("0123456789") for _ in range(11))
    elif brand == "amex":
        body = rng.choice(["34", "37"]) + "".join(rng.choice("0123456789") for _ in range(12))
    else:
        raise ValueError(brand)
    return _luhn_complete(body)


def _card_bad_luhn(card: str) -> str:
    last = int(card[-1])
    return card[:-1] + str((last + rng.randint(1, 9)) % 10)


def _format_card(card: str, style: str) -> str:
    if style == "compact":
        return card
    if len(card) == 15:  # American Express: 4-6-5
        blocks = [card[:4], card[4:10], card[10:]]
    else:
        blocks = [card[i : i + 4] for i in range(0, len(card), 4)]
    return {"spaces": " ", "dashes": "-"}[style].join(blocks)


def _rib(bank: str | None = None) -> tuple[str, str, str, str]:
    bank = bank or rng.choice(["30004", "30002", "20041", "10278", "30003", "10107", "17515", "16958", "12548"])
    branch = f"{rng.randint(0, 99999):05d}"
    account = f"{rng.randint(0, 10**11 - 1):011d}"
    if rng.random() < 0.15:  # La Banque Postale style accounts carry a letter
        account = account[:7] + "A" + account[8:]
    translated = account.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789"))
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(translated)) % 97
    return bank, branch, account, f"{key:02d}"


def _iban_from_bban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in (bban + country + "00").upper())
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def _iban(country: str) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if country == "FR":
        return _iban_from_bban("FR", "".join(_rib()))
    bban = {
        "BE": lambda: digits(12),
        "DE": lambda: digits(18),
        "ES": lambda: digits(20),
        "IT": lambda: rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") + digits(10) + digits(12),
        "PT": lambda: digits(21),
        "TN": lambda: digits(20),
        "MA": lambda: digits(24),
        "RO": lambda: "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(4)) + digits(16),
        "GB": lambda: "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(4)) + digits(14),
        "SN": lambda: "SN" + digits(22),
    }[country]()
    return _iban_from_bban(country, bban)


def _iban_bad(iban: str) -> str:
    # One mistyped digit in the account part: breaks both the IBAN check and the inner RIB key.
    position = len(iban) - 5
    wrong = str((int(iban[position]) + rng.randint(1, 9)) % 10)
    return iban[:position] + wrong + iban[position + 1 :]


def _format_iban(iban: str, style: str) -> str:
    if style == "compact":
        return iban
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    if style == "spaces":
        return grouped
    if style == "lower":
        return grouped.lower()
    raise ValueError(style)


def _tax(style: str) -> str:
    number = rng.choice("0123") + "".join(rng.choice("0123456789") for _ in range(12))
    if style == "grouped":
        return " ".join([number[:2], number[2:4], number[4:7], number[7:10], number[10:]])
    return number


def _code(length: int, spaced: bool = False) -> str:
    code = "".join(rng.choice("0123456789") for _ in range(length))
    if spaced and length == 6:
        return code[:3] + " " + code[3:]
    return code


PASSWORDS = [
    "Azerty123",
    "Soleil2019!",
    "Camille93",
    "Nour*2024",
    "motdepasse1",
    "Bonjour@75",
    "Marseille13",
    "Lina2015",
    "Yasmine.06",
    "Ines2010!",
    "P@ssw0rd",
    "doudou77",
    "Hamza2012",
    "Kenza#18",
    "Mamadou01",
    "Fatou2020",
    "Rayan93200",
    "azerty1234",
    "Maman2024",
    "Sofiane_91",
    "ilyes2016",
    "Aya!2013",
    "Bledard75",
    "Chaton22",
    "Toulouse31!",
]
PLAIN_WORD_PASSWORDS = ["soleil", "chouchou", "loulou", "princesse", "Bismillah", "liberte"]


# ---------------------------------------------------------------- templates
# Each template is formatted with fresh values; {x} names a value whose kind is given alongside.
NIR_TEMPLATES = [
    "bjr mon numero de secu c {nir} jarrive pa a me connecter caf",
    "mon num secu {nir}",
    "{nir}",
    "voila mon numero de securite sociale {nir} merci",
    "Bonjour, je m'appelle Samira, mon numéro de sécurité sociale est le {nir}. Je n'arrive pas à créer mon "
    "compte ameli.",
    "slt jsui bloke sur ameli il demande num secu jai mis {nir} ca marche pa",
    "numero ss: {nir}",
    "ma carte vitale c {nir} et jai perdu le code",
    "NIR {nir}",
    "Mon identifiant caf cest {nir} mais le site dit erreur",
    "{nir} c mon numero",
    "Bonjour madame voici le numero de secu de mon mari {nir} pour le dossier",
    "le numero sur ma carte vital {nir}",
    "cest pour ma fille elle a 20 ans son numero secu {nir}",
    "numero de secu : {nir} date de naissance 12/03/1985",
    "pour france travail il demande mon numero de securite social {nir} c normal ?",
    "svp aidez moi jai tapé {nir} sur le site caf et ca dit identifiant incorrect",
    "mon num sécu c {nir}\ntel 06 12 34 56 78",
    "Numéro de sécu {nir}, je suis née à Alger",
    "jai un rdv le 14 a 10h. mon numero {nir}",
    "sa marche pa avec {nir} jai essayer 3 fois",
    "c bon ou pas {nir} ??",
    "MON NUMERO DE SECU {nir} MERCI DE MAIDER",
    "le monsieur de la caf ma demander mon numero {nir} pour verifier",
    "je vous envoie mon numero de securite sociale {nir} comme ca vous regardez",
]
NIR_CORSICA_TEMPLATES = [
    "mon numero de secu c {nir} je suis ne a ajaccio",
    "num secu {nir}",
    "{nir} cest mon numero de secu",
]
NIR_TEMPORARY_TEMPLATES = [
    "jai que un numero provisoire de la secu {nir} la caf veut pas",
    "mon numero de secu provisoire {nir}",
]
NIR_NO_KEY_TEMPLATES = [
    "mon numero de secu c {nir} la cle je sais plus",
    "numero securite sociale {nir} il manque les 2 derniers chiffres",
]
CARD_TEMPLATES = [
    "ma carte bancaire c {card} pouvez vous payer pour moi",
    "jai donner ma cb {card} sur un site c grave ?",
    "numero de carte {card} exp 08/27",
    "{card}",
    "le site de lantai demande carte bleue {card} c normal",
    "Bonjour j'ai reçu un SMS de l'ameli, j'ai mis ma carte {card}, est-ce une arnaque ?",
    "carte visa {card}",
    "voila {card} c ma carte",
    "jai payé avec la carte {card} et ca a pas marché",
    "jai recu un sms colis a payer 1,99 euros jai mis {card} aidez moi",
    "Mastercard {card} bloquee depuis hier",
    "la banque dit que ma carte {card} est opposée",
    "mon fils a pris ma carte {card} pour un jeu",
    "jai fais opposition sur {card} ?",
    "cb {card} merci",
    "sur le site des impots ils demandent pas la carte? moi jai {card}",
    "c ma carte: {card}",
    "Bonjour voici les chiffres de ma carte {card} pour payer l'atelier",
]
CARD_CVV_TEMPLATES = [
    "num cb: {card} crypto {cvv}",
    "carte {card} cryptogramme {cvv}",
]
IBAN_TEMPLATES = [
    "mon rib c {iban}",
    "voici mon iban {iban} pour la caf",
    "IBAN : {iban} BIC : BNPAFRPPXXX",
    "{iban}",
    "la caf a pas le bon iban, le nouveau c {iban}",
    "jai changer de banque mon nouvo iban {iban}",
    "iban {iban} merci de le mettre pour france travail",
    "mon compte {iban} a la poste",
    "Bonjour, je voudrais changer mes coordonnées bancaires sur ameli. Mon nouvel IBAN est {iban}.",
    "slt c le iban de mon mari {iban} on fait comment",
    "jai mis {iban} sur le site et il dit invalide",
    "IBAN {iban}\nnumero allocataire 1234567",
    "pour le virement : {iban}",
    "le rib de mon fils {iban} cest pour la bourse",
    "il me demande iban jai mis {iban} cest bon ?",
]
IBAN_FOREIGN_TEMPLATES = [
    "mon compte au {country} {iban} la caf peut verser dessus ?",
    "iban {iban}",
    "jai un compte a letranger {iban}",
    "{iban} c mon iban",
]
RIB_TEMPLATES = [
    "mon rib: {rib}",
    "voila mon RIB {rib}",
    "code banque guichet compte cle : {rib}",
    "{rib} c mon rib",
]
TAX_TEMPLATES = [
    "mon numero fiscal c {tax}",
    "num fiscal {tax} jarrive pa a creer mon compte impot",
    "impots: numero fiscal {tax} mot de passe oublié",
    "sur mon avis dimpot ya {tax}",
    "Bonjour, mon numéro fiscal est le {tax}, je n'ai pas reçu mon avis d'imposition.",
    "numero fiscal {tax}",
    "pour les impots jai le numero {tax} c lequel il faut mettre",
    "le site impot.gouv dit numero fiscal invalide jai mis {tax}",
]
TAX_GROUPED_BARE_TEMPLATES = [
    "{tax}",
    "jai trouver ce numero {tax} en haut de la feuille",
    "c ca? {tax}",
]
PASSWORD_TEMPLATES = [
    "mon mdp c {pw}",
    "mot de passe: {pw}",
    "mon mot de passe cest {pw}",
    "mdp {pw} et ca marche pas",
    "mon mot 2 passe c {pw}",
    "le mot de passe caf est {pw}",
    "password {pw}",
    "mdp: {pw} identifiant 1234567",
    "Bonjour, j'ai essayé avec le mot de passe {pw} mais le site dit que c'est faux",
    "mot de passe = {pw}",
    "mon mdp ameli c {pw} jsp si c le bon",
    "je vous donne mon mot de passe {pw} comme ca vous faites pour moi",
    "mdp caf {pw}",
    "mon mot de pass cest {pw} stp aide moi",
    "Mon mdp pour pronote c'est {pw}",
    "motdepasse {pw}",
    "mdp c {pw} ou {pw2} je sais plus",
    "le mot de passe que jai mis c {pw}",
    "MOT DE PASSE {pw}",
    "mon mdp france travail: {pw}",
]
PLAIN_PASSWORD_TEMPLATES = [
    "mon mdp c {pw}",
    "mon mot de passe c'est {pw}",
    "mot de passe: {pw}",
    "le mdp est {pw}",
]
CODE_TEMPLATES = [
    ("mon code est {code}", 4),
    ("code confidentiel {code}", 8),
    ("le code recu par sms {code}", 6),
    ("code c {code}", 4),
    ("mon code caf c {code} il marche plus", 8),
    ("jai recu le code {code} je le met ou", 6),
    ("Votre code de vérification est : {code}. Ne le communiquez à personne. c normal ?", 6),
    ("code pin {code}", 4),
    ("le code a 6 chiffres c {code}", 6),
    ("code de validation {code}", 6),
    ("mon code secret c {code}", 4),
    ("code sms: {code}", 6),
    ("voila le code {code}", 6),
    ("mon code confidentiel caf cest {code}", 8),
    ("{code} cest le code", 6),
    ("le code que jai recu {code} sa marche pas", 6),
    ("numero d'acces en ligne {code}", 7),
    ("code d'activation educonnect {code}", 6),
    ("g recu un code {code} par sms", 6),
    ("code provisoire {code} de lameli", 8),
    ("mon code ameli c {code}", 8),
    ("le code de verification c {code} aidez moi", 6),
    ("CODE {code}", 6),
    ("jai le code {code} mais il dit expiré", 6),
    ("code: {code}", 4),
]
CODE_SPACED_TEMPLATES = [
    "le code c {code}",
    "code de vérification {code}",
]
MIXED_TEMPLATES = [
    ("num secu {nir} mdp {pw}", ["nir", "password"]),
    ("mon numero fiscal {tax} et mon mot de passe c {pw}", ["tax_number", "password"]),
    ("iban {iban} et ma carte {card}", ["iban", "card"]),
    ("numero secu {nir} code {code}", ["nir", "code"]),
    ("Bonjour, identifiant caf {nir}, mot de passe {pw}, merci de regarder pour moi", ["nir", "password"]),
    ("numero fiscal {tax} numero d'accès en ligne {code}", ["tax_number", "code"]),
    ("mon rdv c le 12/03/2025 a 14h. mon numero de secu {nir}", ["nir"]),
    ("Appelez moi au 06 12 34 56 78, mon iban c {iban}", ["iban"]),
]
# Check digit wrong, but the resident says what it is: still redacted (see docs/privacy.md).
LOOKALIKE_WITH_CONTEXT = [
    ("mon numero de secu c {bad_nir}", "nir"),
    ("num secu {bad_nir} jsp si c juste", "nir"),
    ("ma carte vitale {bad_nir}", "nir"),
    ("ma carte bancaire {bad_card}", "card"),
    ("numero de cb {bad_card}", "card"),
    ("mon iban {bad_iban}", "iban"),
    ("rib: {bad_iban}", "iban"),
    ("mon numero de securite sociale {bad_nir} le site dit faux", "nir"),
]
# Same shapes without a word saying what they are, and a wrong check digit: ordinary numbers.
LOOKALIKE_WITHOUT_CONTEXT = [
    "jai un numero {bad_nir} sur le courrier cest quoi",
    "reference {bad_nir}",
    "numero de dossier {bad_card}",
    "{bad_card}",
    "le numero de suivi c {bad_card}",
    "{bad_nir}",
    "commande {bad_card} pas recu",
    "reference du courrier {bad_iban}",
]

NEGATIVES = [
    # dates and times
    "rdv le 12/03/2024 a 14h30",
    "je peux venir mardi 3 decembre a 14 h ?",
    "jai recu un courrier date du 05.11.2025",
    "ma declaration trimestrielle avant le 25/01",
    "le 28 je fais lactualisation ?",
    "né le 01/01/1980",
    "atelier le 2024-12-03 a 10:00 ?",
    "rdv 15h45 le 21 novembre 2026",
    "periode du 01/07/2025 au 30/09/2025",
    "je suis arrivée en france en 2019",
    "depuis 2021 jai plus de compte",
    "le 3 et le 17 je travaille",
    # amounts
    "la caf ma verse 1 250,50 € ce mois",
    "jai recu 600 euros au lieu de 750",
    "rsa 635,71 € et prime dactivite 189 €",
    "le loyer c 450 euros et l'apl 280",
    "jai une dette de 3 200 € a la caf",
    "salaire brut 1 802,15 euros pour 151,67 heures",
    "amende de 180 € pour le titre de sejour ?",
    "ils me demandent de rembourser 12 450,00 EUR",
    "mon revenu fiscal de reference c 14 523",
    "quotient familial 612",
    # phone numbers and help lines
    "jai appele le 3230 personne repond",
    "le 3949 ca coute combien ?",
    "le 3646 est toujours occupé",
    "appelez moi au 06 12 34 56 78",
    "mon numero c +33 6 12 34 56 78",
    "tel: 0712345678",
    "la dame ma dit dappeler le 01 70 772 372",
    "numero 07.81.22.45.90 svp rappelez",
    "mon ancien numero etait 06-45-78-12-33",
    "+33612345678 c mon nouveau numero",
    "jai transferer le sms au 33700",
    "appelez moi 0033 6 12 34 56 78",
    "mon tel 06 12 34 56 78 et celui de mon fils 07 98 76 54 32",
    "le numero 0800 123 456 c gratuit ?",
    # postcodes, addresses
    "jhabite 12 rue des lilas 93200 saint denis",
    "code postal 93200",
    "mon code postal c 69008",
    "bat B esc 3 appt 42, 75019 Paris",
    "cest a la maison de quartier 4 place de la mairie 59100",
    # steps, workshops, counts, choices
    "etape 3 je comprend pas",
    "1",
    "2",
    "3 Autre chose",
    "je veux latelier numero 2",
    "jsui a letape 4 sur 6",
    "jai 3 enfants de 4, 7 et 12 ans",
    "atelier 1 et 3 svp",
    "oui pour les 2",
    "je suis au 5eme etage",
    # identifiers mediators need (not secrets)
    "mon numero allocataire c 1234567",
    "numero allocataire 7654321 pour ma declaration",
    "mon identifiant france travail c 1234567A",
    "identifiant pole emploi 0456789K",
    "numero de dossier ANEF 7501234567",
    "numero etranger 9912345678",
    "numero de predemande ants AB12CD34EF",
    "numero de colis 6A12345678901",
    "facture n 2024-000123",
    "numero de carte vitale c quoi ? jai que lattestation",
    # words that look like the contexts, with no secret
    "jai oublie mon mot de passe caf",
    "mot de passe oublié",
    "mon mdp marche pas",
    "mot de passe incorrect ca dit",
    "mon mot de passe est bloqué",
    "mdp perdu aidez moi",
    "le mot de passe cest quoi deja ?",
    "il faut changer le mot de passe tous les combien ?",
    "mon code caf bloké",
    "jai pas recu le code",
    "le code c quoi",
    "code promo 2024",
    "le code de la route cest a la prefecture ?",
    "jai oublie mon code confidentiel",
    "le code secret de ma carte jai oublié",
    "jai recu un code mais il a expiré",
    "il me demande un code a 6 chiffres",
    "il me demande mon iban c normal ?",
    "jai pas de rib",
    "ou je trouve mon numero fiscal ?",
    "cest quoi mon numero de secu ?",
    "jai perdu ma carte vitale",
    "ma carte bancaire a été refusée pour 1 250 euros",
    "mon numero de secu commence par 2 c normal ?",
    "le numero fiscal a 13 chiffres ?",
    "ma cb est bloquée depuis le 12/11",
    "le mdp doit avoir 12 caracteres",
    "mot de passe trop court",
    "mon mot de passe c le meme que avant",
    "mon mdp est pas bon",
    "code erroné 3 fois",
    "le mot de passe est le meme que gmail",
    # plain help requests
    "jai oublie mon code caf",
    "jarrive pa a ouvrir pronot",
    "slt jveu parlé a qqn",
    "ce sms de lameli cest normal?",
    "comment on fait lactualisation france travail",
    "je veux une attestation de paiement caf",
    "bonjour",
    "merci beaucoup",
    "STOP",
    "OUI",
    "NON",
    "AIDE",
    "aide moi stp mon telephone est plein",
    "mon titre de sejour expire le 15 mars",
    "jai 2 comptes ameli ?",
    "cest 4 photos pour le passeport ?",
    "ou est la france services la plus proche de 93200",
    "j'ai 45 ans et je cherche du travail",
    "la caf ma envoyé 3 courriers",
    "version 17.4 de l'application",
    "mon portable est un samsung a14 avec 64 go",
    "il reste 2 places pour latelier du 12 ?",
    "le bus 148 passe devant ?",
    "jai fait 35 heures cette semaine",
    "score 3-2 lol",
    "n° 12 bis",
    "il est 10h15",
    "mon fils est en 6eme au college",
    "je suis en france depuis 15 ans",
    "jai 3 mois de retard de loyer soit 1 350 €",
    "numero de demande de logement social 093071234567890",
    "ref client 1234 5678 90",
    "SIRET 123 456 789 00012",
]


# Written after the detector's first version, labelled before it was run on them (tag "holdout/...").
# The benchmark reports them apart so the figures are not only on messages the rules were tuned to.
HOLDOUT = [
    ("numero de securite sociale :\n{nir_spaces}", [("nir", "nir_spaces")]),
    (
        "Bonjour je vous écris parce que depuis le mois dernier je n'arrive plus à me connecter, le site me dit "
        "que mon identifiant est faux alors que c'est bien mon numéro {nir_compact}",
        [("nir", "nir_compact")],
    ),
    ("n° SS {nir_dots}", [("nir", "nir_dots")]),
    ("MON NUMERO DE SECURITE SOCIALE EST {nir_spaces}", [("nir", "nir_spaces")]),
    ("{nir_odd} c mon num de secu", [("nir", "nir_odd")]),
    ("la femme de la caf ma dit denvoyer le numero: {nir_spaces} merci", [("nir", "nir_spaces")]),
    ("{card_dashes} exp 12/26", [("card", "card_dashes")]),
    ("{card_dots}", [("card", "card_dots")]),
    ("amex {amex}", [("card", "amex")]),
    ("jai payer sur un faux site avec {card_spaces} je fais quoi", [("card", "card_spaces")]),
    ("carte: {card_compact} code {code4}", [("card", "card_compact"), ("code", "code4")]),
    ("{iban_dashes}", [("iban", "iban_dashes")]),
    ("iban: {iban_fr_space}", [("iban", "iban_fr_space")]),
    ("Mes coordonnées bancaires : {iban_spaces} merci", [("iban", "iban_spaces")]),
    ("Bonjour, le conseiller m'a demandé mon RIB, le voici : {iban_compact}", [("iban", "iban_compact")]),
    ("N° fiscal : {tax_grouped}", [("tax_number", "tax_grouped")]),
    ("numero fiscal de reference {tax_compact}", [("tax_number", "tax_compact")]),
    ("mon mot de passe : Lucas2016", [("password", "Lucas2016")]),
    ("Mdp = Kiki1234!", [("password", "Kiki1234!")]),
    ("voici mon mdp Sarah93", [("password", "Sarah93")]),
    ("le mdp c 'Bonjour2024'", [("password", "Bonjour2024")]),
    ("mon password c'est Nadia1985", [("password", "Nadia1985")]),
    ("mot d passe c Soleil75", [("password", "Soleil75")]),
    ("mdp gmail: rachid.b1985", [("password", "rachid.b1985")]),
    ("mes mdp c Azerty1 pour caf et Azerty2 pour ameli", [("password", "Azerty1"), ("password", "Azerty2")]),
    ("Code: {code6}", [("code", "code6")]),
    ("jai recu {code6} par sms", [("code", "code6")]),
    ("le code pour france connect c {code6} ça expire vite", [("code", "code6")]),
    ("code confidentiel = {code8}", [("code", "code8")]),
    ("mon code pin de carte c {code4}", [("code", "code4")]),
    ("rdv a 14h30 le 03/12", []),
    ("jai payé 49,99€ pour rien", []),
    ("mon numéro allocataire est le 1234567 et ma date de naissance 01/02/1990", []),
    ("code postal 75019 Paris", []),
    ("jai 2 codes differents sur les courriers", []),
    ("le code de la porte de la maison de quartier c 1234B", []),
    ("tel 06 12 34 56 78 / 07 98 76 54 32", []),
    ("IMEI de mon telephone 356938035643809", []),
    ("numero de facture EDF 30001234567890", []),
    ("jai 1500 euros de loyer en retard depuis 2023", []),
    ("mon mot de passe ne marche plus depuis le 3 mars", []),
    ("mdp oublié 3 fois bloqué", []),
    ("le mot de passe doit contenir 8 caracteres dont 1 chiffre", []),
    ("numero de telephone de la caf : 3230", []),
    ("je suis né le 12 04 1985 a oran", []),
    ("mes enfants ont 3, 8 et 14 ans", []),
    ("ligne 13 du metro puis bus 253", []),
    ("numero de recepisse 123456789012", []),
    ("mon numero etranger c 7501234567", []),
    ("identifiant FranceConnect : fatima.benali@gmail.com", []),
]


# A second batch, written and labelled once the rules were final; its first-run result is what the
# benchmark reports for "holdout2" (the rules were NOT changed after seeing it; see docs/privacy.md).
HOLDOUT2 = [
    (
        "Madame je vous donne mon numéro de sécurité sociale pour que vous puissiez regarder : {nir_spaces}",
        [("nir", "nir_spaces")],
    ),
    ("secu {nir_compact}", [("nir", "nir_compact")]),
    ("Le numéro de ma carte vitale est le {nir_spaces}", [("nir", "nir_spaces")]),
    ("{nir_spaces} voila", [("nir", "nir_spaces")]),
    (
        "jai mis le numero de secu de ma femme {nir_compact} et le mien {nir2_compact}",
        [("nir", "nir_compact"), ("nir", "nir2_compact")],
    ),
    ("numéro d'immatriculation {nir_spaces}", [("nir", "nir_spaces")]),
    ("Ma carte bleue: {card_spaces}, elle expire en 2027", [("card", "card_spaces")]),
    (
        "j'ai donné le numéro {card_compact} au téléphone a un monsieur qui disait etre de la banque",
        [("card", "card_compact")],
    ),
    ("payer l'amende ANTAI avec la carte {card_dashes} ?", [("card", "card_dashes")]),
    ("visa {card_spaces} cvv {cvv}", [("card", "card_spaces"), ("code", "cvv")]),
    ("Voici mon IBAN : {iban_spaces}\nBIC : CEPAFRPP751", [("iban", "iban_spaces")]),
    ("{iban_compact} cest le rib de mon compte nickel", [("iban", "iban_compact")]),
    ("Bonjour ma conseillere veut mon rib {iban_lower}", [("iban", "iban_lower")]),
    ("iban tunisie {iban_tn}", [("iban", "iban_tn")]),
    ("numéro fiscal: {tax_compact}", [("tax_number", "tax_compact")]),
    ("mon identifiant impots.gouv c {tax_compact}", [("tax_number", "tax_compact")]),
    ("mdp: Bouchra1979", [("password", "Bouchra1979")]),
    ("Mon mot de passe c'est Mimosa44 avec un majuscule au debut", [("password", "Mimosa44")]),
    ("jai mis Karim2019 comme mot de passe", [("password", "Karim2019")]),
    ("identifiant: jean.dupont mot de passe: Dupont#1960", [("password", "Dupont#1960")]),
    ("le mdp de mon compte ameli = Zineb2008", [("password", "Zineb2008")]),
    ("code reçu : {code6}", [("code", "code6")]),
    ("on ma envoyé le code {code6} il faut le mettre ou", [("code", "code6")]),
    ("le code secret de ma carte c {code4}", [("code", "code4")]),
    ("mon code de connexion cest {code8}", [("code", "code8")]),
    ("{code6}", [("code", "code6")]),
    ("code cb {code4}", [("code", "code4")]),
    ("Je suis disponible le 14/11 entre 9h et 12h", []),
    ("mon numéro de téléphone a changé c 07 52 18 90 44", []),
    ("la CAF me demande 2 345,67 € de trop perçu", []),
    ("jai 2 numéros allocataire 1234567 et 7654321 c normal", []),
    ("mon numéro de sécu finit par 45 c grave ?", []),
    ("ma carte vitale est périmée", []),
    ("numero de telephone du centre 01 48 23 45 67", []),
    ("code article 4006381333931 sur le ticket", []),
    ("numéro de commande 1234567890123456", []),
    ("ma référence client EDF 6004 1234 5678", []),
    ("le mot de passe de mon compte est trop long a retenir", []),
    ("mdp et identifiant c pareil ?", []),
    ("le code de ma carte bleue je le donne a personne", []),
    ("numero de badge 20240315", []),
    ("mon numero de dossier caf 2024-1234567", []),
]


def _secret(kind: str, value: str) -> dict[str, str]:
    return {"kind": kind, "value": value}


def _message(text: str, secrets: list[dict[str, str]], tag: str) -> dict[str, object]:
    for secret in secrets:
        assert text.count(secret["value"]) >= 1, (text, secret)
    return {"text": text, "tag": tag, "secrets": secrets}


def build() -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    nir_styles = ["spaces", "compact", "dots", "dashes", "key_apart", "vitale"]
    for index, template in enumerate(NIR_TEMPLATES):
        for style in (nir_styles[index % len(nir_styles)], nir_styles[(index + 3) % len(nir_styles)]):
            value = _format_nir(_nir_digits(), style)
            messages.append(_message(template.format(nir=value), [_secret("nir", value)], f"nir/{style}"))
    for template in NIR_CORSICA_TEMPLATES:
        for style in ("spaces", "compact"):
            value = _format_nir(_nir_digits(corsica=True), style)
            messages.append(_message(template.format(nir=value), [_secret("nir", value)], "nir/corsica"))
    for template in NIR_TEMPORARY_TEMPLATES:
        value = _format_nir(_nir_digits(temporary=True), "spaces")
        messages.append(_message(template.format(nir=value), [_secret("nir", value)], "nir/temporary"))
    for template in NIR_NO_KEY_TEMPLATES:
        value = _format_nir(_nir_digits(), "no_key")
        messages.append(_message(template.format(nir=value), [_secret("nir", value)], "nir/no_key"))

    brands = ["visa", "mastercard", "visa", "mastercard2", "amex"]
    card_styles = ["spaces", "compact", "dashes"]
    for index, template in enumerate(CARD_TEMPLATES):
        for turn in range(2):
            brand = brands[(index + turn) % len(brands)]
            style = card_styles[(index + turn) % len(card_styles)]
            value = _format_card(_card_digits(brand), style)
            messages.append(_message(template.format(card=value), [_secret("card", value)], f"card/{brand}"))
    for template in CARD_CVV_TEMPLATES:
        card, cvv = _format_card(_card_digits("visa"), "spaces"), _code(3)
        messages.append(
            _message(template.format(card=card, cvv=cvv), [_secret("card", card), _secret("code", cvv)], "card/cvv")
        )

    iban_styles = ["spaces", "compact", "spaces", "lower"]
    for index, template in enumerate(IBAN_TEMPLATES):
        for turn in range(2):
            style = iban_styles[(index + turn) % len(iban_styles)]
            value = _format_iban(_iban("FR"), style)
            messages.append(_message(template.format(iban=value), [_secret("iban", value)], f"iban/FR/{style}"))
    countries = {
        "BE": "belgique",
        "DE": "allemagne",
        "ES": "espagne",
        "IT": "italie",
        "PT": "portugal",
        "TN": "tunisie",
        "MA": "maroc",
        "RO": "roumanie",
        "GB": "royaume uni",
        "SN": "senegal",
    }
    for index, (country, name) in enumerate(countries.items()):
        template = IBAN_FOREIGN_TEMPLATES[index % len(IBAN_FOREIGN_TEMPLATES)]
        value = _format_iban(_iban(country), "spaces" if index % 3 else "compact")
        messages.append(
            _message(template.format(iban=value, country=name), [_secret("iban", value)], f"iban/{country}")
        )
    for template in RIB_TEMPLATES:
        value = " ".join(_rib())
        messages.append(_message(template.format(rib=value), [_secret("rib", value)], "rib"))

    for index, template in enumerate(TAX_TEMPLATES):
        for style in ("compact", "grouped") if index % 2 else ("grouped", "compact"):
            value = _tax(style)
            messages.append(_message(template.format(tax=value), [_secret("tax_number", value)], f"tax/{style}"))
    for template in TAX_GROUPED_BARE_TEMPLATES:
        value = _tax("grouped")
        messages.append(_message(template.format(tax=value), [_secret("tax_number", value)], "tax/grouped_bare"))

    for index, template in enumerate(PASSWORD_TEMPLATES):
        pw = PASSWORDS[index % len(PASSWORDS)]
        pw2 = PASSWORDS[(index + 7) % len(PASSWORDS)]
        secrets = [_secret("password", pw)] + ([_secret("password", pw2)] if "{pw2}" in template else [])
        messages.append(_message(template.format(pw=pw, pw2=pw2), secrets, "password"))
    for index, pw in enumerate(PLAIN_WORD_PASSWORDS):
        template = PLAIN_PASSWORD_TEMPLATES[index % len(PLAIN_PASSWORD_TEMPLATES)]
        messages.append(_message(template.format(pw=pw), [_secret("password", pw)], "password/plain_word"))

    for template, length in CODE_TEMPLATES:
        code = _code(length)
        messages.append(_message(template.format(code=code), [_secret("code", code)], "code"))
    for template in CODE_SPACED_TEMPLATES:
        code = _code(6, spaced=True)
        messages.append(_message(template.format(code=code), [_secret("code", code)], "code/spaced"))

    for template, kinds in MIXED_TEMPLATES:
        values = {
            "nir": _format_nir(_nir_digits(), "spaces"),
            "pw": rng.choice(PASSWORDS),
            "tax": _tax("compact"),
            "iban": _format_iban(_iban("FR"), "spaces"),
            "card": _format_card(_card_digits("visa"), "spaces"),
            "code": _code(6),
        }
        names = {"nir": "nir", "password": "pw", "tax_number": "tax", "iban": "iban", "card": "card", "code": "code"}
        secrets = [_secret(kind, values[names[kind]]) for kind in kinds]
        messages.append(_message(template.format(**values), secrets, "mixed"))

    for template, kind in LOOKALIKE_WITH_CONTEXT:
        values = {
            "bad_nir": _format_nir(_nir_bad_key(_nir_digits()), "spaces"),
            "bad_card": _format_card(_card_bad_luhn(_card_digits("visa")), "spaces"),
            "bad_iban": _format_iban(_iban_bad(_iban("FR")), "spaces"),
        }
        value = values[{"nir": "bad_nir", "card": "bad_card", "iban": "bad_iban"}[kind]]
        messages.append(_message(template.format(**values), [_secret(kind, value)], f"lookalike_context/{kind}"))
    for template in LOOKALIKE_WITHOUT_CONTEXT:
        values = {
            "bad_nir": _format_nir(_nir_bad_key(_nir_digits()), "compact"),
            "bad_card": _format_card(_card_bad_luhn(_card_digits("mastercard")), "compact"),
            "bad_iban": _format_iban(_iban_bad(_iban("FR")), "spaces"),
        }
        messages.append(_message(template.format(**values), [], "negative/lookalike"))

    for text in NEGATIVES:
        messages.append(_message(text, [], "negative"))

    for template, secrets in HOLDOUT:
        values = {
            "nir_spaces": _format_nir(_nir_digits(), "spaces"),
            "nir_compact": _format_nir(_nir_digits(), "compact"),
            "nir_dots": _format_nir(_nir_digits(), "dots"),
            "nir_odd": (lambda n: f"{n[:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}")(_nir_digits()),
            "card_dashes": _format_card(_card_digits("visa"), "dashes"),
            "card_dots": ".".join(_format_card(_card_digits("mastercard"), "spaces").split()),
            "card_spaces": _format_card(_card_digits("mastercard2"), "spaces"),
            "card_compact": _format_card(_card_digits("visa"), "compact"),
            "amex": _format_card(_card_digits("amex"), "spaces"),
            "iban_dashes": "-".join(_format_iban(_iban("FR"), "spaces").split()),
            "iban_fr_space": (lambda i: i[:2] + " " + _format_iban(i, "spaces")[2:])(_iban("FR")),
            "iban_spaces": _format_iban(_iban("FR"), "spaces"),
            "iban_compact": _format_iban(_iban("FR"), "compact"),
            "tax_grouped": _tax("grouped"),
            "tax_compact": _tax("compact"),
            "code4": _code(4),
            "code6": _code(6),
            "code8": _code(8),
        }
        text = template.format(**values)
        labelled = [_secret(kind, values.get(value, value)) for kind, value in secrets]
        messages.append(_message(text, labelled, "holdout/negative" if not secrets else "holdout"))

    for template, secrets in HOLDOUT2:
        values = {
            "nir_spaces": _format_nir(_nir_digits(), "spaces"),
            "nir_compact": _format_nir(_nir_digits(), "compact"),
            "nir2_compact": _format_nir(_nir_digits(), "compact"),
            "card_spaces": _format_card(_card_digits("visa"), "spaces"),
            "card_compact": _format_card(_card_digits("mastercard"), "compact"),
            "card_dashes": _format_card(_card_digits("visa"), "dashes"),
            "cvv": _code(3),
            "iban_spaces": _format_iban(_iban("FR"), "spaces"),
            "iban_compact": _format_iban(_iban("FR"), "compact"),
            "iban_lower": _format_iban(_iban("FR"), "lower"),
            "iban_tn": _format_iban(_iban("TN"), "spaces"),
            "tax_compact": _tax("compact"),
            "code4": _code(4),
            "code6": _code(6),
            "code8": _code(8),
        }
        text = template.format(**values)
        labelled = [_secret(kind, values.get(value, value)) for kind, value in secrets]
        messages.append(_message(text, labelled, "holdout2/negative" if not secrets else "holdout2"))
    return messages


def main() -> None:
    messages = build()
    header = (
        "# Labelled resident messages for the secret detector (bot/privacy/secrets.py).\n"
        "# Generated by tests/privacy/generate_labelled_secrets.py (seeded); every NIR, card and IBAN is\n"
        "# synthetic. Each message lists the secrets it holds: kind and the exact text of the secret.\n"
        "# Tags starting with 'negative' hold no secret and must come out unchanged.\n"
    )
    body = yaml.safe_dump({"messages": messages}, allow_unicode=True, sort_keys=False, width=200)
    OUT.write_text(header + body, encoding="utf-8")
    positives = sum(1 for m in messages if m["secrets"])
    print(f"{OUT}: {len(messages)} messages, {positives} with secrets, {len(messages) - positives} without")


if __name__ == "__main__":
    main()
