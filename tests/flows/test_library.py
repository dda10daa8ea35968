"""The shipped library: a resident's need starts the right guide, and no guide asks for a secret."""

from __future__ import annotations

import re

import pytest

from bot.sms.gsm7 import count_segments
from flows.library import load_library
from flows.render import step_sms
from flows.schema import GUIDE_PREFIX

LIBRARY = load_library()


@pytest.mark.parametrize(("intent", "service", "guide_id"), [
    ("password_reset", "caf", "caf_code_oublie"),
    ("account_create", "caf", "caf_creer_compte"),
    ("caf_declaration", None, "caf_declaration_trimestrielle"),
    ("caf_declaration", "caf", "caf_declaration_trimestrielle"),
    ("document_request", "caf", "caf_attestation"),
    ("france_travail_update", None, "ft_actualisation"),
    ("password_reset", "france_travail", "ft_mot_de_passe"),
    ("job_search", "france_travail", "ft_inscription"),
    ("account_create", "france_travail", "ft_inscription"),
    ("job_search", None, "emploi_recherche"),
    ("pronote", None, "pronote"),
    ("pronote", "pronote", "pronote"),
    ("password_reset", "pronote", "pronote_connexion"),
    ("account_create", "ameli", "ameli_creer_compte"),
    ("password_reset", "ameli", "ameli_code_oublie"),
    ("document_request", "ameli", "ameli_attestation"),
    ("tax_return", None, "impots_declarer"),
    ("tax_return", "impots", "impots_declarer"),
    ("password_reset", "impots", "impots_acces"),
    ("document_request", "impots", "impots_avis"),
    ("account_create", "franceconnect", "franceconnect"),
    ("account_create", "email", "email_creer_adresse"),
    ("password_reset", "email", "email_mot_de_passe"),
    ("email_help", None, "email"),
    ("scan_document", None, "scanner_document"),
    ("id_documents", "ants", "ants_predemande"),
    ("id_documents", "anef", "anef_titre_sejour"),
    ("id_documents", None, "papiers"),
    ("smartphone_basics", "pronote", "pronote_appli"),
    ("scam_check", None, "arnaque_message"),
    ("scam_check", "ameli", "arnaque_message"),
    ("smartphone_basics", None, "telephone"),
    ("find_place", None, "aide_pres_de_chez_moi"),
    ("workshop_info", None, "ateliers"),
])
def test_a_need_starts_the_right_guide(intent, service, guide_id):
    guide = LIBRARY.for_intent(intent, service)
    assert guide is not None and guide.id == guide_id


@pytest.mark.parametrize("intent", ["password_reset", "account_create", "document_request"])
def test_a_need_without_its_site_makes_the_bot_ask_which_site(intent):
    assert LIBRARY.for_intent(intent) is None
    assert len(LIBRARY.services_for(intent)) >= 2


@pytest.mark.parametrize(("entry", "guides"), [
    ("pronote", {"pronote_connexion", "pronote_appli", "pronote_notes_absences"}),
    ("telephone", {"telephone_memoire", "telephone_appli", "email", "scanner_document"}),
    ("email", {"email_piece_jointe", "email_mot_de_passe", "email_creer_adresse"}),
    ("papiers", {"ants_predemande", "anef_titre_sejour"}),
])
def test_entry_guides_offer_every_guide_of_their_topic(entry, guides):
    guide = LIBRARY.get(entry)
    assert guide.entry
    targets = {c.next.removeprefix(GUIDE_PREFIX) for s in guide.steps if s.question for c in s.question.choices}
    assert guides <= targets


def test_every_step_is_one_gsm7_sms():
    for guide in LIBRARY.guides.values():
        for step in guide.steps:
            sms = count_segments(step_sms(guide, step))
            assert (sms.encoding, sms.segments) == ("GSM-7", 1), (guide.id, step.id)


# A step must never ask the resident to send a secret to us; it may tell them to type it on the site.
ASKS_FOR_SECRET = re.compile(
    r"(envoyez|ecrivez|donnez|repondez|transmettez)(-moi|-nous| moi| nous| ici)?[^.?!]{0,40}"
    r"(mot de passe|code|numero de securite sociale|numero fiscal|rib|iban|carte bancaire)",
    re.IGNORECASE,
)


def test_no_guide_asks_the_resident_to_text_a_secret():
    for guide in LIBRARY.guides.values():
        for step in guide.steps:
            for sentence in re.split(r"[.?!]", step.text):
                if ASKS_FOR_SECRET.search(sentence):
                    assert re.search(r"ne (le|la|les) donnez|jamais|sur le site|a personne", sentence, re.I), (
                        guide.id, step.id, sentence)


def test_guides_that_touch_secrets_warn_never_to_share_them():
    for guide_id in ["caf_code_oublie", "caf_creer_compte", "ft_mot_de_passe", "ameli_creer_compte",
                     "email_creer_adresse", "arnaque_message"]:
        texts = " ".join(s.text for s in LIBRARY.get(guide_id).steps).lower()
        assert "a personne" in texts or "jamais" in texts, guide_id


def test_france_travail_not_pole_emploi_and_caf_declaration_is_prefilled():
    every_text = " ".join(s.text.lower() for g in LIBRARY.guides.values() for s in g.steps)
    assert "pole emploi" not in every_text and "pôle emploi" not in every_text
    declaration = " ".join(s.text for s in LIBRARY.get("caf_declaration_trimestrielle").steps)
    assert "ecrit deja" in declaration and "verifier" in declaration


def test_the_menu_stays_one_sms_when_it_offers_to_resume_a_guide():
    from datetime import UTC, datetime, timedelta

    from bot.engine import ConversationState, EngineContext, ResidentView, Turn, respond
    from flows.texts import default_texts
    from nlu.result import IntentScore, ParseResult

    longest = max(LIBRARY.guides.values(), key=lambda g: len(g.title))
    context = EngineContext(
        library=LIBRARY, texts=default_texts(),
        understand=lambda text: ParseResult(text=text, intent=IntentScore("out_of_scope", 0.2), entities=[],
                                            intent_ranking=[]),
        extract_service=lambda text: None, confidence_threshold=0.5,
        resume_after=timedelta(hours=3), session_timeout=timedelta(hours=72),
    )
    state = ConversationState(guide_id=longest.id, step_id=longest.steps[0].id)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    outcome = respond(Turn(state, "MENU", now, ResidentView()), context)
    [menu] = outcome.replies
    assert menu.splitlines()[1].startswith("0 Reprendre")
    sms = count_segments(menu)
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), menu
