from __future__ import annotations

import pytest

from nlu.contract import service_values
from nlu.services import extract_service, extract_services


@pytest.mark.parametrize(("text", "value", "surface"), [
    ("jarrive pa a ouvrir pronot", "pronote", "pronot"),
    ("mon compte ammeli", "ameli", "ammeli"),
    ("franse travail", "france_travail", "franse travail"),
    ("inscription pole emploi", "france_travail", "pole emploi"),
    ("Pôle Emploi", "france_travail", "Pôle Emploi"),
    ("mdp PE", "france_travail", "PE"),
    ("actualisation FT", "france_travail", "FT"),
    ("la secu", "ameli", "la secu"),
    ("carte vitale perdue", "ameli", "carte vitale"),
    ("ce sms de lameli", "ameli", "lameli"),
    ("cest quoi lENT", "pronote", "lENT"),
    ("ecole directe", "pronote", "ecole directe"),
    ("mon mail", "email", "mail"),
    ("gmail", "email", "gmail"),
    ("code caf", "caf", "caf"),
    ("CAF", "caf", "CAF"),
    ("impots.gouv.fr", "impots", "impots.gouv.fr"),
    ("la banque postale", "banque", "la banque postale"),
    ("colis la poste", "la_poste", "la poste"),
    ("france connect", "franceconnect", "france connect"),
])
def test_finds_the_service_and_where_it_is(text: str, value: str, surface: str) -> None:
    entity = extract_service(text)
    assert entity is not None, text
    assert (entity.value, text[entity.start:entity.end]) == (value, surface)
    assert entity.entity == "service"


@pytest.mark.parametrize("text", [
    "bonjour", "mes parents", "mon pere", "je pe pas venir", "cest trop lent", "un enfant", "apres le repas",
    "je suis au chomage depuis mai", "mais non", "jai recu un courrier", "mon cafe", "le gouvernement",
    "la carte grise", "lemploi du temps", "mes impressions", "",
])
def test_no_service_in_ordinary_words(text: str) -> None:
    assert extract_services(text) == []


def test_several_services_in_order() -> None:
    found = extract_services("mail de la caf et de pole emploi")
    assert [e.value for e in found] == ["email", "caf", "france_travail"]


def test_values_are_the_contract_values() -> None:
    found = extract_services("caf pole emploi ameli impots pronote ants anef franceconnect mail msa la poste banque")
    assert [e.value for e in found] == list(service_values())
