"""Find the secrets residents text us, and redact them before anything is stored or shown.

Residents send their social security number (NIR), tax number, card or bank numbers, passwords
and the codes they just received, usually because a site asked for them and they think we need
them too. None of it may be kept (see docs/privacy.md). This module finds them in one inbound
text; :func:`redact` replaces each with a placeholder a mediator can read ("[NIR masqué]").

How each kind is recognised:

- Numbers are read as *chunks*: digit groups joined by a space, a dot or a dash. Every run of
  whole groups is tried against each identifier, so "mon tel 06 12 34 56 78 1 85 05 ..." still
  finds the NIR after the phone number.
- A check digit proves the kind on its own: NIR key (97 - n mod 97, Corsica 2A/2B), Luhn plus an
  issuer prefix and the usual 4-4-4-4 grouping for cards, ISO 13616 mod 97 for IBANs, the RIB key.
- Without a valid check digit a number is redacted only when the words around it say what it is
  ("mon numero de secu ...", "ma carte bancaire ..."): a mistyped NIR is still someone's NIR.
  The tax number has no public check digit, so it needs such words or the notice's grouping
  (07 01 987 765 432).
- Passwords and codes have no shape: they are found after the words that announce them
  ("mdp c ...", "code recu par sms 482913"), in SMS spelling.

Ordinary numbers are left alone on purpose: dates, amounts, phone numbers, postcodes, the CAF
allocataire number and the France Travail identifier (mediators need those; they open nothing).

Every regular expression is compiled once and runs in linear time (no nested quantifiers over the
same characters); a 10 kB message of digits or binary garbage takes milliseconds, never raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.privacy.checksums import (
    IBAN_LENGTHS,
    iban_checksum_valid,
    luhn_valid,
    nir_key_valid,
    rib_key_valid,
)

KINDS = ("nir", "card", "iban", "rib", "tax_number", "password", "code")
TEXTS_FILE = Path(__file__).with_name("redaction.yml")


@dataclass(frozen=True)
class Secret:
    """One secret in a text: its kind and where it is (``text[start:end]``)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """A text with its secrets replaced, and the kinds that were found (first appearance order)."""

    text: str
    kinds: tuple[str, ...]

    @property
    def redacted(self) -> bool:
        return bool(self.kinds)


# ---------------------------------------------------------------- patterns

# Between two digit groups: up to three spaces, or a dot or dash with optional spaces around.
_SEP = r"(?:[ \t]{1,3}|[ \t]?[.\-][ \t]?)"
_CHUNK = re.compile(rf"\d+(?:{_SEP}\d+)*")
_DIGITS = re.compile(r"\d+")
_CORSICAN_NIR = re.compile(
    rf"(?<![0-9A-Za-z])[1-478]{_SEP}?\d\d{_SEP}?\d\d{_SEP}?2[ABab]{_SEP}?\d{{3}}{_SEP}?\d{{3}}"
    rf"(?:{_SEP}?\d\d)?(?![0-9A-Za-z])"
)
# Two letters, two check digits, then letters and digits with optional single separators; the match
# is trimmed afterwards to the country's length (it may run into the next word).
# A space between country and check digits ("FR 76 3000 ...") only in capitals, as copied from a statement.
_IBAN = re.compile(r"(?<![0-9A-Za-z])(?:[A-Z]{2}[ \t]?|[A-Za-z]{2})\d{2}(?:[ \t\-]?[0-9A-Za-z]){10,32}")

# Words saying what a number is. Searched in a small window around each number.
_CONTEXT = re.compile(
    r"(?P<nir>s[eé]cu\b|s[eé]curit[eé][ \t]+social|\bnir\b|\bnia\b|\bn?ss\b|n°[ \t]*ss|carte[ \t]+vital"
    r"|\bvital[e]?\b|immatriculation|\binsee\b|\bameli\b)"
    r"|(?P<tax>fiscal|imp[oô]ts?\b|\bspi\b|\bnif\b|avis[ \t]+d.imp|finances[ \t]+publiques|\bdgfip\b)"
    r"|(?P<card>\bcb\b|\bvisa\b|master[ \t]*card|\bamex\b|\bcarte\b(?![ \t]+(?:vital|de[ \t]+s[eé]jour"
    r"|d['’][ \t]*identit|grise|d['’][ \t]*[eé]lecteur|navigo|de[ \t]+r[eé]sident|sim\b|mobilit)))"
    r"|(?P<bank>\biban\b|\brib\b|\bbic\b|compte[ \t]+(?:bancaire|banquaire|en[ \t]+banque)|bancaires?\b"
    r"|virement)",
    re.IGNORECASE,
)
# A placeholder left by an earlier redaction ("[carte masquée]") must not act as context words.
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{0,40}masqu[^\[\]\n]{0,10}\]")
_CONTEXT_BEFORE = 60
_CONTEXT_AFTER = 40

_SERVICE_WORDS = (
    r"caf|ameli|imp[oô]ts?|pronote|ent|educonnect|france[ \t]*connect|ft|pe|france[ \t]+travail|pole[ \t]+emploi"
    r"|gmail|hotmail|yahoo|mail|e-?mail|messagerie|la[ \t]+poste|laposte|banque|wifi|compte|site|appli"
    r"|application|espace|perso|personnel|actuel|nouveau|nouvo|ancien|provisoire|temporaire"
)
_CONNECTOR = (
    r"(?::|=>|->|=|c['’][ \t]*est\b|c[ \t]+est\b|cest\b|c[eé]\b|ces\b|c\b|s[eé]\b|est\b|etait\b|était\b|[eé]\b)"
)
_PASSWORD = re.compile(
    r"(?<![0-9A-Za-z])(?:mots?[ \t\-]*(?:de|d['’]?|du|2|deu)?[ \t\-]*pass?e?s?|mo[ \t]*(?:de|2)[ \t]*pass?e?"
    r"|mdp|mtp|password|passwd|pwd|pass[ \t]*word)(?![0-9A-Za-z])"
    rf"(?:(?:[ \t]+|(?<=['’]))(?:de|du|d['’]|pour|la|le|mon|ma|sur|que|qu['’]|j['’]ai|jai|g|ai|mis|mi|met|mets"
    rf"|utilis[eé]|tap[eé]|{_SERVICE_WORDS})(?:(?<=['’])|(?![0-9A-Za-z]))){{0,5}}"
    rf"[ \t]*(?P<conn>(?:{_CONNECTOR}[ \t]*){{0,2}})"
    r"(?P<secret>[^\s\[\]]{2,64})",
    re.IGNORECASE,
)
# "mot de passe du wifi de la mediatheque c Media2024": any few words, then "c", ":" or "=". Only a token
# shaped like a password (digit, symbol or inner capital) counts here, since the words are unchecked.
_PASSWORD_AFTER_WORDS = re.compile(
    r"(?<![0-9A-Za-z])(?:mots?[ \t\-]*(?:de|d['’]?|du|2)?[ \t\-]*pass?e?s?|mdp|password)(?![0-9A-Za-z])"
    r"(?:[ \t]+[^\s\[\]:=]{1,20}){1,6}?[ \t]*(?::|=|[ \t]c['’][ \t]*est\b|[ \t]cest\b|[ \t]c\b)[ \t]*"
    r"(?P<secret>[^\s\[\]]{3,64})",
    re.IGNORECASE,
)
_CODE_QUALIFIER = (
    r"confidentiel(?:le)?|secret|perso(?:nnel)?|pin|caf|ameli|sms|re[cç]us?|envoy[eé]e?s?|par|de|d['’]|du|la|le"
    r"|les|des|un|v[eé]rification|verif|validation|activation|confirmation|connexion|s[eé]curit[eé]|acc[eè]s|en"
    r"|ligne|provisoire|temporaire|unique|otp|a|à|\d{1,2}[ \t]*chiffres|chiffres|que|qu['’]|j['’]ai|jai|g|on"
    r"|m['’]a|ma|mon|m['’]ont|mont|ils|il|qui|wifi|carte|cb|bancaire|bleue|imp[oô]ts?|fiscal|france|travail|ft"
    r"|pe|pronote|educonnect|franceconnect|connect|e-?mail|mail|nouveau|nouvo|dernier|donn[eé]|dans|au"
    r"|t[eé]l[eé]phone|tel|portable|ce|cet|sur|votre|ton|pour"
)
# Words after "code" that make it something else than a secret.
_NOT_A_SECRET_CODE = (
    r"postale?|promo|de[ \t]+la[ \t]+route|de[ \t]+route|barres?|-barres?|ape|naf|du[ \t]+travail|civil|couleur"
    r"|source|article|client|dossier|insee|guichet|banque|bic|swift|iban|commune|d[eé]partement|r[eé]gion|ville"
    r"|porte|d['’]entr[eé]e|immeuble|interphone|b[aâ]timent|qr"
)
_CODE = re.compile(
    r"(?<![0-9A-Za-z])(?P<keyword>code|pin|otp|cryptogramme|crypto|cvv|cvc"
    r"|(?:num[eé]ro|num|n°)[ \t]*d['’]?[ \t]*acc[eè]s(?:[ \t]+en[ \t]+ligne)?)(?![0-9A-Za-z])"
    rf"(?![ \t]*(?:{_NOT_A_SECRET_CODE})(?![0-9A-Za-z]))"
    rf"(?:(?:[ \t]+|(?<=['’]))(?:{_CODE_QUALIFIER})(?:(?<=['’])|(?![0-9A-Za-z]))){{0,6}}"
    rf"[ \t]*(?P<conn>(?:{_CONNECTOR}[ \t]*){{0,2}})"
    r"(?P<secret>\d{3}[ .]\d{3}(?![0-9])|\d{2}[ ]\d{2}[ ]\d{2}(?![ ]?[0-9])|\d{3,8}(?![0-9])"
    r"|[A-Za-z0-9]{4,12}(?![0-9A-Za-z]))",
    re.IGNORECASE,
)
# "482913 c mon code", "12345678 est votre code confidentiel"
_CODE_FIRST = re.compile(
    r"(?<![0-9A-Za-z.,/])(?P<secret>\d{4,8})[ \t]*(?:c['’][ \t]*est|cest|c|est|=|:)?[ \t]*"
    r"(?:mon|le|ma|votre|ton|ta)[ \t]+(?:nouveau[ \t]+)?(?P<what>code|mdp|mot[ \t]+de[ \t]+passe)(?![0-9A-Za-z])"
    rf"(?![ \t]*(?:{_NOT_A_SECRET_CODE})(?![0-9A-Za-z]))",
    re.IGNORECASE,
)
# "jai recu 482913 par sms": the number came by SMS or mail, so it is a one-time code.
_CODE_BY_MESSAGE = re.compile(
    r"(?<![0-9A-Za-z.,/])(?P<secret>\d{4,8})[ \t]+(?:par|en|dans[ \t]+(?:le|un|mon))[ \t]+"
    r"(?:sms|texto|message|mail|e-?mail|courriel)(?![0-9A-Za-z])",
    re.IGNORECASE,
)
# After a code: units that make the number an amount, a time or a date.
_NOT_A_CODE_AFTER = re.compile(r"[ \t]*(?:€|euros?\b|eur\b|e\b|h\b|h\d|%|/\d|ans\b|fois\b|heures?\b)", re.IGNORECASE)

# Words that follow "mot de passe" / "mdp" in ordinary sentences: never a password themselves.
_NOT_A_PASSWORD = frozenset(
    """
    le la les l un une de des du d mon ma mes ton ta tes son sa ses notre votre vos leur leurs ce cet cette ces c ca
    cela ci qui que quoi quel quelle quels quelles quand comment pourquoi ou et mais donc or ni car pas plus ne n
    jamais rien tout tous toute toutes toujours tjrs tjs tjr encore deja aussi trop tres bien mal bon bonne bons
    mauvais mauvaise faux fausse juste correct correcte incorrect incorrecte invalide valide errone erronee perdu
    perdue oublie oubliee oublier oublies bloque bloquee bloquer bloke expire expiree change changer modifie
    modifier modifiee refuse refusee refuser reinitialiser reinitialise reset recu recus envoye envoyer marche
    marchait marcher fonctionne fonctionnait fonctionner passe pass ok okay nul vide long longue court courte
    different differente meme nouveau nouvelle nouvo ancien ancienne provisoire temporaire demande demander svp stp
    merci aide aider aidez help besoin sur pour par avec sans dans en au aux a y il elle je j jai g on nous vous
    ils elles moi toi lui eux sais sait connais rappelle souviens trouve trouver retrouve retrouver voir vois
    caf ameli impots impot pronote ent educonnect franceconnect gmail mail email france travail ft pe pole emploi
    laposte compte site appli application portable telephone tel sms masque masquee erreur faut doit dois veut
    veux peux peut pa plu tro koi kwa ke ki ds ac pr ns vs jsp jsais chai se est etait sera avant apres
    obligatoire requis securise securite secret identifiant identifiants login numero num code codes mdp
    chiffres caracteres lettres majuscule minuscule symbole oubli perte probleme souci identique pareil vieux
    actuel actuelle dernier derniere premier premiere comme celui celle lequel laquelle non oui si deux trois
    quatre cinq six sept huit neuf dix douze aucun aucune rien facile simple complique difficile dur durs
    compliquee saisi saisie ecrit ecrite note notee perime verrouille desactive suspendu inconnu introuvable
    bizarre pareille accepte enregistre sauvegarde mis tape rentre entre mauvaise peut-etre
    """.split()
)


# ---------------------------------------------------------------- detection


# A span known to be something else, which no other candidate may claim.
_NOT_A_SECRET = "not_a_secret"


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    kind: str
    rank: int  # higher wins an overlap: checksum-proven before context-only before word-announced


_RANK_IBAN = 100
_RANK_NIR = 95
_RANK_IBAN_CONTEXT = 93  # above cards: digits inside an IBAN are not a card number
_RANK_RIB = 92
_RANK_CARD_CONTEXT = 88
_RANK_CARD = 85
_RANK_TAX = 70
_RANK_CONTEXT_ONLY = 65
_RANK_PASSWORD = 50
_RANK_CODE = 40

_NIR_BOUNDS = frozenset({1, 3, 5, 7, 10, 13})
_TAX_NOTICE_BOUNDS = frozenset({2, 4, 7, 10})
_CARD_BOUNDS = frozenset({4, 8, 12, 16})
_AMEX_BOUNDS = frozenset({4, 10})
_RIB_BOUNDS = frozenset({5, 10, 21})


def find_secrets(text: str) -> list[Secret]:
    """Every secret in ``text``, sorted by position and never overlapping."""
    text = _as_text(text)
    if not text:
        return []
    # Context words are looked up in a copy without placeholders, same length so positions agree.
    context_text = _PLACEHOLDER.sub(lambda m: " " * len(m.group()), text) if "masqu" in text else text
    candidates: list[_Candidate] = []
    candidates.extend(_iban_candidates(text, context_text))
    candidates.extend(_corsican_nir_candidates(text, context_text))
    candidates.extend(_number_candidates(text, context_text))
    candidates.extend(_password_candidates(text))
    candidates.extend(_code_candidates(text))
    return _select(candidates, len(text))


def _as_text(value: object) -> str:
    # Callers should pass str; bytes or None from a broken adapter must not crash the inbound path.
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _select(candidates: list[_Candidate], length: int) -> list[Secret]:
    taken = bytearray(length)
    chosen: list[Secret] = []
    for candidate in sorted(candidates, key=lambda c: (-c.rank, c.start, c.start - c.end)):
        if candidate.end <= candidate.start or any(taken[candidate.start : candidate.end]):
            continue
        taken[candidate.start : candidate.end] = b"\x01" * (candidate.end - candidate.start)
        if candidate.kind != _NOT_A_SECRET:
            chosen.append(Secret(candidate.kind, candidate.start, candidate.end))
    return sorted(chosen, key=lambda s: s.start)


@dataclass(frozen=True)
class _Context:
    nir: bool
    tax: bool
    card: bool
    bank: bool


def _context_around(text: str, start: int, end: int) -> _Context:
    window = text[max(0, start - _CONTEXT_BEFORE) : start] + " \n " + text[end : end + _CONTEXT_AFTER]
    found = {match.lastgroup for match in _CONTEXT.finditer(window)}
    return _Context(nir="nir" in found, tax="tax" in found, card="card" in found, bank="bank" in found)


def _iban_candidates(text: str, context_text: str) -> Iterator[_Candidate]:
    position = 0
    while match := _IBAN.search(text, position):
        # The match may run into the next word or the next IBAN: search again just after its start, or
        # after its end once it is proven (a match is at most ~70 characters, so this stays linear).
        position = match.start() + 1
        # Positions of the letters and digits, so the compact IBAN maps back onto the text.
        positions = [match.start() + i for i, char in enumerate(match.group()) if char.isalnum()]
        compact = "".join(text[p] for p in positions).upper()
        length = IBAN_LENGTHS.get(compact[:2])
        if length is None or len(compact) < length:
            continue
        end = positions[length - 1] + 1
        if end < len(text) and text[end].isalnum():
            continue  # the country's length ends inside a word: not an IBAN
        iban = compact[:length]
        if iban_checksum_valid(iban):
            position = end  # a proven IBAN: the next one starts after it
            yield _Candidate(match.start(), end, "iban", _RANK_IBAN)
        elif _context_around(context_text, match.start(), end).bank:
            yield _Candidate(match.start(), end, "iban", _RANK_IBAN_CONTEXT)
        else:
            # IBAN-shaped but failing its check, with no bank words: an ordinary reference. Nothing inside
            # it may then be taken for a card or a NIR (a 16-digit stretch of it can pass Luhn by chance).
            yield _Candidate(match.start(), end, _NOT_A_SECRET, _RANK_IBAN_CONTEXT)


def _corsican_nir_candidates(text: str, context_text: str) -> Iterator[_Candidate]:
    for match in _CORSICAN_NIR.finditer(text):
        compact = "".join(char for char in match.group() if char.isalnum()).upper()
        if len(compact) == 15 and nir_key_valid(compact) and _nir_plausible(compact):
            yield _Candidate(match.start(), match.end(), "nir", _RANK_NIR)
        elif _nir_plausible(compact) and _context_around(context_text, match.start(), match.end()).nir:
            yield _Candidate(match.start(), match.end(), "nir", _RANK_CONTEXT_ONLY)


def _nir_plausible(compact: str) -> bool:
    """Sex digit 1/2 (3/4/7/8 for temporary numbers) and a month the INSEE actually uses."""
    if compact[0] not in "123478" or not compact[3:5].isdigit():
        return False
    month = int(compact[3:5])
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def _card_prefix_plausible(digits: str) -> bool:
    """Issuer prefixes (IIN) and lengths of the cards common in France (CB is co-badged Visa/Mastercard)."""
    length = len(digits)
    first, two, four = digits[0], int(digits[:2]), int(digits[:4])
    if first == "4":
        return length in (13, 16, 19)
    if 51 <= two <= 55:
        return length == 16
    if 2221 <= four <= 2720:
        return length == 16
    if two in (34, 37):
        return length == 15
    if 3528 <= four <= 3589:
        return 16 <= length <= 19
    if first == "6":  # Maestro, Discover, UnionPay
        return 16 <= length <= 19
    return False  # Diners and rarer schemes: only with card words around (see _classify_number)


def _number_candidates(text: str, context_text: str) -> Iterator[_Candidate]:
    for chunk in _CHUNK.finditer(text):
        if chunk.end() - chunk.start() < 13:
            continue  # fewer than 13 characters cannot hold 13 digits
        groups = [(m.start(), m.end(), m.group()) for m in _DIGITS.finditer(text, chunk.start(), chunk.end())]
        if sum(len(g[2]) for g in groups) < 13:
            continue
        context: _Context | None = None
        for i in range(len(groups)):
            digits = ""
            bounds: list[int] = []
            for j in range(i, len(groups)):
                if digits:
                    bounds.append(len(digits))
                digits += groups[j][2]
                if len(digits) > 23:
                    break
                if len(digits) not in (13, 14, 15, 16, 17, 18, 19, 23):
                    continue
                if context is None:
                    context = _context_around(context_text, chunk.start(), chunk.end())
                start, end = groups[i][0], groups[j][1]
                for kind, rank in _classify_number(digits, frozenset(bounds), context):
                    yield _Candidate(start, end, kind, rank)


def _classify_number(digits: str, bounds: frozenset[int], context: _Context) -> Iterator[tuple[str, int]]:
    length = len(digits)
    contiguous = not bounds
    if length == 15 and _nir_plausible(digits):
        if nir_key_valid(digits):
            yield "nir", _RANK_NIR
        elif context.nir:
            yield "nir", _RANK_CONTEXT_ONLY
    if length == 13:
        nir_like = context.nir and _nir_plausible(digits) and (contiguous or bounds <= _NIR_BOUNDS)
        tax_like = digits[0] in "0123" and (context.tax or bounds == _TAX_NOTICE_BOUNDS)
        # Both words nearby ("carte vitale ... et numero fiscal ..."): the NIR's grouping decides.
        if tax_like and not (nir_like and not contiguous):
            yield "tax_number", _RANK_TAX
        elif nir_like:
            yield "nir", _RANK_CONTEXT_ONLY
    if 13 <= length <= 19:
        card_grouping = contiguous or bounds <= _CARD_BOUNDS or (length == 15 and bounds <= _AMEX_BOUNDS)
        if luhn_valid(digits):
            if context.card:
                yield "card", _RANK_CARD_CONTEXT
            elif card_grouping and _card_prefix_plausible(digits):
                yield "card", _RANK_CARD
        elif context.card and card_grouping and length in (15, 16):
            yield "card", _RANK_CONTEXT_ONLY
    if length == 23 and (contiguous or bounds <= _RIB_BOUNDS):
        if rib_key_valid(digits):
            yield "rib", _RANK_RIB
        elif context.bank:
            yield "rib", _RANK_CONTEXT_ONLY


def _folded(word: str) -> str:
    """Lower case, no accents, no surrounding punctuation: how stop-words are compared."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.strip(".,;:!?\"'’«»()")


# Tokens with digits that are still ordinary words: "1er essai", "2eme fois", "14h30", "12€".
_ORDINARY_TOKEN = re.compile(
    r"\d{1,2}(?:er|re|[eè]re|e|[eè]me|nd|nde|h\d{0,2}|min)|\d+(?:[.,]\d+)?(?:€|eur|euros?|%)", re.IGNORECASE
)


def _looks_like_password(token: str, announced: bool) -> bool:
    core = _folded(token)
    if len(core) < 3 or core in _NOT_A_PASSWORD or _ORDINARY_TOKEN.fullmatch(core):
        return False
    stripped = token.strip(".,;:!?\"'’«»()")
    if "'" in stripped or "’" in stripped:
        return False  # an elided French word ("j'ai", "c'est"), not a password
    has_digit = any(char.isdigit() for char in stripped)
    has_symbol = any(not char.isalnum() and char != "-" for char in stripped)
    mixed_case = any(char.isupper() for char in stripped[1:]) and any(char.islower() for char in stripped)
    if has_digit or has_symbol or mixed_case:
        return True
    # A plain word ("soleil") is a password only when announced: "mon mdp c soleil", not "mdp oublie";
    # and not a past participle: "mon mot de passe est verrouillé", "... est noté sur un papier".
    return announced and len(core) >= 4 and not stripped.lower().endswith(("é", "ée", "és", "ées"))


_LEADING_QUOTES = "\"'’«“("
_TRAILING_PUNCTUATION = ".,;:?\"'’»”)"
# "mdp c Azerty1 ou Soleil22", "Azerty1 pour caf et Azerty2 pour ameli": a second password.
_ALTERNATIVE_PASSWORD = re.compile(
    r"(?:[ \t]+(?:pour|sur|de|du)[ \t]+[^\s\[\]]{2,20})?[ \t]+(?P<joiner>ou|sinon|/|et)[ \t]+([^\s\[\]]{3,64})",
    re.IGNORECASE,
)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Leave out quotes and the sentence's punctuation around a password ("mdp: 'Azerty1',")."""
    while start < end and text[start] in _LEADING_QUOTES:
        start += 1
    while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
        end -= 1
    return start, end


def _password_candidates(text: str) -> Iterator[_Candidate]:
    for match in _PASSWORD_AFTER_WORDS.finditer(text):
        token = match.group("secret")
        if _looks_like_password(token, announced=False):
            start, end = _trimmed(text, match.start("secret"), match.end("secret"))
            yield _Candidate(start, end, "password", _RANK_PASSWORD)
    for match in _PASSWORD.finditer(text):
        if not _looks_like_password(match.group("secret"), announced=bool(match.group("conn").strip())):
            continue
        start, end = _trimmed(text, match.start("secret"), match.end("secret"))
        yield _Candidate(start, end, "password", _RANK_PASSWORD)
        # "mdp c Azerty1 ou Soleil22": a second guess is as secret as the first.
        alternative = _ALTERNATIVE_PASSWORD.match(text, match.end("secret"))
        # After "et" only a token shaped like a password counts ("Azerty2"), not any word ("et merci").
        announced = alternative is not None and alternative.group("joiner").lower() != "et"
        if alternative and _looks_like_password(alternative.group(2), announced=announced):
            start, end = _trimmed(text, alternative.start(2), alternative.end(2))
            yield _Candidate(start, end, "password", _RANK_PASSWORD)


def _code_candidates(text: str) -> Iterator[_Candidate]:
    for match in _CODE.finditer(text):
        token = match.group("secret")
        compact = token.replace(" ", "").replace(".", "")
        announced = bool(match.group("conn").strip())
        keyword = _folded(match.group("keyword"))
        if compact.isdigit():
            minimum = 3 if keyword in ("cryptogramme", "crypto", "cvv", "cvc") else 4
            if not minimum <= len(compact) <= 8:
                continue  # codes have 4 to 8 digits; "code envoye au 0612345678" is a phone number
            if _NOT_A_CODE_AFTER.match(text, match.end("secret")):
                continue  # "code ... 600 €", "14h30": an amount or a time
            if len(compact) == 4 and 1900 <= int(compact) <= 2099 and not announced:
                continue  # "code caf depuis 2024": a year
        elif not (any(c.isdigit() for c in compact) and any(c.isalpha() for c in compact)):
            continue  # a word, not a code
        yield _Candidate(match.start("secret"), match.end("secret"), "code", _RANK_CODE)
    for match in _CODE_BY_MESSAGE.finditer(text):
        yield _Candidate(match.start("secret"), match.end("secret"), "code", _RANK_CODE)
    for match in _CODE_FIRST.finditer(text):
        kind = "code" if match.group("what").lower() == "code" else "password"
        if _NOT_A_CODE_AFTER.match(text, match.end("secret")):
            continue
        yield _Candidate(
            match.start("secret"), match.end("secret"), kind, _RANK_CODE if kind == "code" else _RANK_PASSWORD
        )


# ---------------------------------------------------------------- redaction


@dataclass(frozen=True)
class RedactionTexts:
    """The words that replace secrets, and the SMS telling the resident not to send them."""

    placeholders: dict[str, str]
    resident_warning: str


@cache
def redaction_texts() -> RedactionTexts:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    placeholders = {str(kind): str(text) for kind, text in data["placeholders"].items()}
    missing = set(KINDS) - set(placeholders)
    if missing:
        raise ValueError(f"{TEXTS_FILE}: placeholders missing for {sorted(missing)}")
    return RedactionTexts(placeholders=placeholders, resident_warning=str(data["resident_warning"]))


def redact(text: str) -> Redaction:
    """``text`` with every secret replaced by its placeholder; ``kinds`` lists what was found."""
    text = _as_text(text)
    secrets = find_secrets(text)
    if not secrets:
        return Redaction(text=text, kinds=())
    placeholders = redaction_texts().placeholders
    parts: list[str] = []
    position = 0
    kinds: list[str] = []
    for secret in secrets:
        parts.append(text[position : secret.start])
        parts.append(placeholders[secret.kind])
        position = secret.end
        if secret.kind not in kinds:
            kinds.append(secret.kind)
    parts.append(text[position:])
    return Redaction(text="".join(parts), kinds=tuple(kinds))
