"""Conversations as transcripts: the resident sends X, the bot sends exactly Y."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.engine.events import GuideEnded, OpenTicket, OptedIn, OptedOut
from tests.engine.conftest import parse_as

INTRO_CAF = "Code CAF oublie. 4 etapes. Apres chaque etape, repondez SUITE. AIDE pour parler a un conseiller."
CAF_1 = '1/4 Ouvrez le site caf.fr et touchez "Mon Compte".'
CAF_2 = '2/4 Touchez "Mot de passe oublie".'
CAF_3 = "3/4 La CAF envoie un lien.\nVous avez une adresse e-mail ?\n1 Oui\n2 Non"
CAF_4 = "4/4 Ouvrez le mail de la CAF et suivez le lien."
CLOSING = "C'est fini. Ca a marche ? Repondez OUI ou NON."
RESOLVED = "Bravo ! Si vous avez une autre question, ecrivez-la. MENU pour voir les sujets."
HANDOFF = "C'est note. Un conseiller va vous repondre ici, par message. Gardez votre telephone pres de vous."

NLU = {
    "jai oublie mon code caf": parse_as("jai oublie mon code caf", "password_reset", 0.93, "caf"),
    "mot de passe oublie": parse_as("mot de passe oublie", "password_reset", 0.9),
    "je vois pas les notes de mon fils": parse_as("je vois pas les notes de mon fils", "pronote", 0.88, "pronote"),
    "bonjour": parse_as("bonjour", "greet", 0.95),
    "merci": parse_as("merci", "thank", 0.95),
    "il fait beau ?": parse_as("il fait beau ?", "out_of_scope", 0.9),
    "jveu parler a qqn": parse_as("jveu parler a qqn", "human_handoff", 0.8),
    "truc caf bizarre": parse_as(
        "truc caf bizarre", "password_reset", 0.35, "caf",
        ranking=[("password_reset", 0.35), ("document_request", 0.3), ("out_of_scope", 0.2)],
    ),
}


@pytest.fixture
def chat(chat_factory):
    return chat_factory(NLU)


def test_a_guide_from_first_question_to_resolved(chat):
    assert chat.send("jai oublie mon code caf") == [INTRO_CAF, CAF_1]
    assert chat.send("SUITE") == [CAF_2]
    assert chat.send("suite") == [CAF_3]
    assert chat.send("1") == [CAF_4]
    assert chat.send("ok") == [CLOSING]
    assert chat.send("oui") == [RESOLVED]
    assert GuideEnded("caf_code", "resolved", "mail") in chat.events
    assert chat.state.guide_id is None


def test_keywords_tolerate_case_accents_and_one_typo(chat):
    chat.send("jai oublie mon code caf")
    assert chat.send("Suitte !") == [CAF_2]
    assert chat.send("RÉPÉTER") == [CAF_2]
    assert chat.send("retour") == [CAF_1]
    assert chat.send("Retour") == ["Vous etes deja a la premiere etape.", CAF_1]


def test_one_answers_next_when_no_question_is_pending(chat):
    chat.send("jai oublie mon code caf")
    assert chat.send("1") == [CAF_2]


def test_a_choice_can_lead_to_a_mediator_with_the_guide_and_step_recorded(chat):
    chat.send("jai oublie mon code caf")
    chat.send("suite")
    chat.send("suite")
    assert chat.send("2") == [HANDOFF]
    ticket = next(e for e in chat.events if isinstance(e, OpenTicket))
    assert (ticket.reason, ticket.guide_id, ticket.step_id) == ("choice", "caf_code", "has_mail")
    assert ticket.theme == "aide_aux_demarches_administratives" and ticket.service == "caf"


def test_a_number_out_of_range_is_asked_again(chat):
    chat.send("jai oublie mon code caf")
    chat.send("suite")
    chat.send("suite")
    assert chat.send("7") == ["Repondez avec un numero de 1 a 2."]
    assert chat.send("1") == [CAF_4]


def test_no_at_the_end_opens_a_ticket_at_the_last_step(chat):
    chat.send("jai oublie mon code caf")
    for _ in range(2):
        chat.send("suite")
    chat.send("1")
    chat.send("suite")
    assert chat.send("non") == [HANDOFF]
    ticket = next(e for e in chat.events if isinstance(e, OpenTicket))
    assert (ticket.reason, ticket.guide_id, ticket.step_id) == ("guide_failed", "caf_code", "mail")
    assert GuideEnded("caf_code", "failed", "mail") in chat.events


def test_slot_filling_asks_which_site_and_takes_a_number_or_a_word(chat_factory):
    ask = "C'est pour quel site ? Repondez avec le numero :\n1 CAF\n2 France Travail"
    chat = chat_factory(NLU)
    assert chat.send("mot de passe oublie") == [ask]
    assert chat.send("2")[0].startswith("Mot de passe France Travail.")
    chat = chat_factory(NLU)
    chat.send("mot de passe oublie")
    assert chat.send("pole emploi")[1] == '1/2 Ouvrez francetravail.fr et touchez "Se connecter".'


def test_low_confidence_asks_a_numbered_clarification_never_a_guess(chat):
    assert chat.send("truc caf bizarre") == [
        "Vous voulez parler de quoi ? Repondez avec le numero :\n1 Code CAF oublie\n"
        "2 Attestation, document CAF\n3 Autre chose"
    ]
    assert chat.send("1") == [INTRO_CAF, CAF_1]


def test_two_misunderstandings_in_a_row_offer_a_mediator(chat):
    assert chat.send("blablabla") == [
        "Je n'ai pas compris. Ecrivez votre question en quelques mots. Exemple : code CAF oublie. "
        "MENU pour voir les sujets."
    ]
    offer = "Je ne comprends pas bien. Voulez-vous parler a un conseiller ?\n1 Oui, un conseiller\n2 Non, je reformule"
    assert chat.send("zzz") == [offer]
    assert chat.send("oui") == [HANDOFF]
    assert next(e for e in chat.events if isinstance(e, OpenTicket)).reason == "misunderstood"


def test_out_of_scope_is_said_plainly(chat):
    assert chat.send("il fait beau ?") == [
        "Je ne peux pas aider pour ca. J'aide pour les demarches en ligne et le telephone. MENU pour voir les sujets."
    ]


def test_aide_hands_over_at_any_time(chat):
    chat.send("jai oublie mon code caf")
    assert chat.send("AIDE") == [HANDOFF]
    ticket = next(e for e in chat.events if isinstance(e, OpenTicket))
    assert (ticket.reason, ticket.guide_id, ticket.step_id) == ("asked", "caf_code", "open")


def test_asking_for_a_person_in_words_opens_a_ticket(chat):
    assert chat.send("jveu parler a qqn") == [HANDOFF]


def test_while_a_mediator_has_the_conversation_the_bot_steps_aside(chat):
    chat.send("AIDE")
    chat.resident = chat.resident.__class__(has_open_ticket=True)
    assert chat.send("vous etes la ?") == []
    assert chat.send("allo") == []
    chat.resident = chat.resident.__class__(has_open_ticket=False)
    assert chat.send("bonjour")[0].startswith("Bonjour !")


def test_first_message_after_a_ticket_opened_by_a_mediator_is_acknowledged(chat):
    chat.resident = chat.resident.__class__(has_open_ticket=True)
    assert chat.send("allo") == ["Votre message est transmis au conseiller. Il vous repond ici."]
    assert chat.send("allo ?") == []


def test_asking_something_else_mid_guide_switches_topic_and_menu_offers_the_way_back(chat):
    chat.send("jai oublie mon code caf")
    chat.send("suite")
    replies = chat.send("je vois pas les notes de mon fils")
    assert replies[1] == '1/3 Ouvrez l\'ENT de votre region.'
    assert chat.send("MENU") == [
        "Repondez avec le numero :\n0 Reprendre mon guide\n"
        "1 Code CAF oublie\n2 Mot de passe\n3 Pronote"
    ]
    assert chat.send("0") == [CAF_2]


def test_reprendre_goes_back_to_the_guide_left_for_another_topic(chat):
    chat.send("jai oublie mon code caf")
    chat.send("suite")
    chat.send("je vois pas les notes de mon fils")
    assert chat.send("reprendre") == [CAF_2]


def test_coming_back_hours_later_says_where_they_were(chat):
    chat.send("jai oublie mon code caf")
    chat.send("suite")
    assert chat.send("bonjour", after=timedelta(hours=5)) == [
        'Vous etiez a l\'etape 2 sur 4 de "Code CAF oublie". SUITE pour continuer, MENU pour autre chose.'
    ]
    assert chat.send("suite") == [CAF_3]


def test_a_session_idle_past_the_timeout_starts_afresh(chat):
    chat.send("jai oublie mon code caf")
    assert chat.send("suite", after=timedelta(days=4)) == [
        "Vous n'avez pas de guide en cours. Ecrivez votre question, ou MENU pour voir les sujets."
    ]


def test_a_guide_whose_last_step_says_end_asks_the_closing_question(chat):
    chat.send("je vois pas les notes de mon fils")
    chat.send("suite")
    chat.send("suite")
    assert chat.send("suite") == [CLOSING]


@pytest.mark.parametrize("word", ["STOP", "stop", " Arrêt ", "ARRET", "stop sms", "DESABONNER", "Désabonner"])
def test_stop_words_opt_out_with_one_confirmation(chat, word):
    assert chat.send(word) == ["Vous ne recevrez plus de messages de Relais. Pour revenir, envoyez START."]
    assert chat.events.count(OptedOut()) == 1


def test_start_opts_back_in(chat):
    chat.send("STOP")
    assert chat.send("START") == [
        "C'est note, vous recevez a nouveau nos messages. Ecrivez votre question quand vous voulez."
    ]
    assert OptedIn() in chat.events


def test_stp_is_not_stop(chat):
    chat.send("stp")
    assert OptedOut() not in chat.events


def test_keywords_never_reach_the_nlu(chat):
    chat.send("jai oublie mon code caf")
    chat.nlu_calls.clear()
    for word in ("suite", "retour", "repeter", "MENU", "1"):
        chat.send(word)
    assert chat.nlu_calls == []


def test_empty_message_gets_a_plain_answer(chat):
    assert chat.send("   ") == ["Votre message est vide. Ecrivez votre question en quelques mots."]


def test_state_round_trips_through_json(chat):
    from bot.engine.state import ConversationState

    chat.send("jai oublie mon code caf")
    chat.send("suite")
    chat.send("suite")
    restored = ConversationState.from_dict(chat.state.to_dict())
    assert restored == chat.state
