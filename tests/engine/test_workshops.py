"""Workshops by SMS as transcripts: the engine alone, given the workshops and enrolments it may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.engine import ResidentView
from bot.engine.events import OptedOut, SendReply
from bot.engine.workshop_events import CancelEnrolment, EnrolRequested, FollowupsSwitched, ReminderAnswered
from bot.engine.workshops import AwaitingAnswer, EnrolmentView, WorkshopView
from bot.sms.gsm7 import count_segments
from tests.engine.conftest import START, parse_as

MAIL = WorkshopView(11, "Envoyer un mail", datetime(2026, 12, 1, 13, 0, tzinfo=UTC), "Maison de quartier Saint-Eloi")
CAF = WorkshopView(12, "Le site de la CAF", datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "Centre social Nord")
PHONE = WorkshopView(13, "Mon telephone", datetime(2026, 12, 8, 13, 0, tzinfo=UTC), "Centre social Nord")
LISTING = (
    "Repondez le numero pour vous inscrire :\n"
    "1 Envoyer un mail, mardi 1/12 à 14 h\n"
    "2 Le site de la CAF, jeudi 3/12 à 10 h 30\n"
    "3 Mon telephone, mardi 8/12 à 14 h"
)

NLU = {
    "je veux faire un atelier": parse_as("je veux faire un atelier", "workshop_info", 0.9),
    "je pourrai pas venir a l atelier": parse_as("je pourrai pas venir a l atelier", "workshop_cancel", 0.85),
}


def decided(chat) -> list:
    """What the engine decided besides its replies."""
    return [event for event in chat.events if not isinstance(event, SendReply)]


@pytest.fixture
def chat(chat_factory):
    chat = chat_factory(NLU)
    chat.resident = ResidentView(workshops=(MAIL, CAF, PHONE))
    return chat


def test_atelier_lists_the_next_three_and_a_number_enrols(chat):
    assert chat.send("ATELIER") == [LISTING]
    assert count_segments(LISTING).segments == 1
    assert chat.send("2") == []  # the reply depends on seats, written when the enrolment is applied
    assert decided(chat) == [EnrolRequested(12)]
    assert chat.state.pending is None


def test_the_workshop_intent_lists_them_too(chat):
    assert chat.send("je veux faire un atelier") == [LISTING]
    assert chat.send("1") == [] and decided(chat) == [EnrolRequested(11)]


def test_a_number_out_of_range_asks_again(chat):
    chat.send("ateliers")
    assert chat.send("7") == ["Repondez avec un numero de 1 a 3."]
    assert chat.send("3") == [] and decided(chat) == [EnrolRequested(13)]


def test_no_workshop_planned(chat):
    chat.resident = ResidentView()
    assert chat.send("Atelier") == ["Pas d'atelier prevu pour le moment. Nous vous ecrirons quand il y en aura."]


def test_annuler_with_one_enrolment_cancels_it(chat):
    chat.resident = ResidentView(enrolments=(EnrolmentView(5, 11, MAIL.title, MAIL.starts_at, "confirmed"),))
    assert chat.send("ANNULER") == []
    assert decided(chat) == [CancelEnrolment(5)]


def test_cancel_intent_with_two_enrolments_asks_which(chat):
    chat.resident = ResidentView(enrolments=(
        EnrolmentView(5, 11, MAIL.title, MAIL.starts_at, "confirmed"),
        EnrolmentView(6, 12, CAF.title, CAF.starts_at, "waiting"),
    ))
    assert chat.send("je pourrai pas venir a l atelier") == [
        "Quel atelier voulez-vous annuler ? Repondez avec le numero :\n"
        "1 Envoyer un mail, mardi 1/12 à 14 h\n"
        "2 Le site de la CAF, jeudi 3/12 à 10 h 30"
    ]
    assert chat.send("2") == [] and decided(chat) == [CancelEnrolment(6)]


def test_annuler_without_enrolment(chat):
    assert chat.send("annuler") == ["Vous n'etes inscrit a aucun atelier. ATELIER pour voir les prochains."]


def test_reminder_answers_yes_and_no(chat):
    sent = START - timedelta(hours=1)
    chat.resident = ResidentView(awaiting=AwaitingAnswer(40, "workshop_reminder", sent, enrolment_id=5))
    assert chat.send("oui") == ["Merci ! A bientot a l'atelier."]
    assert decided(chat) == [ReminderAnswered(40, "yes")]
    chat.state.last_activity = None
    assert chat.send("Non") == []
    assert decided(chat) == [ReminderAnswered(40, "no"), CancelEnrolment(5)]


def test_an_answer_is_not_taken_for_a_reminder_the_resident_talked_past(chat):
    chat.send("bonjour")  # after the reminder, the resident talked about something else
    chat.resident = ResidentView(awaiting=AwaitingAnswer(40, "workshop_reminder", START - timedelta(hours=1), 5))
    chat.send("non", after=timedelta(minutes=1))
    assert not any(isinstance(e, (ReminderAnswered, CancelEnrolment)) for e in decided(chat))


def test_follow_up_after_a_workshop(chat):
    chat.resident = ResidentView(awaiting=AwaitingAnswer(41, "followup_workshop", START - timedelta(hours=2)))
    assert chat.send("1") == ["Merci pour votre reponse !"]
    assert decided(chat) == [ReminderAnswered(41, "1")]


def test_follow_up_after_a_no_show_offers_the_next(chat):
    chat.resident = ResidentView(awaiting=AwaitingAnswer(42, "followup_no_show", START - timedelta(hours=2),
                                                         offered_workshop_id=12))
    assert chat.send("1") == []
    assert decided(chat) == [ReminderAnswered(42, "yes"), EnrolRequested(12)]


def test_procedure_follow_up_no_goes_to_a_mediator(chat):
    chat.resident = ResidentView(awaiting=AwaitingAnswer(43, "followup_procedure", START - timedelta(days=1)))
    assert chat.send("non") == ["C'est note. Un conseiller va vous repondre ici, par message."]
    assert decided(chat) == [ReminderAnswered(43, "no")]


def test_follow_ups_can_be_turned_off_and_on(chat):
    assert chat.send("STOP RAPPELS") == [
        "C'est note : plus de rappels ni de questions de suivi. Ecrivez RAPPELS pour les remettre."
    ]
    assert decided(chat) == [FollowupsSwitched(False)]
    assert chat.send("rappels") == ["C'est note : vous recevrez de nouveau les rappels."]
    assert decided(chat) == [FollowupsSwitched(True)]


def test_stop_still_means_stop_everything(chat):
    chat.send("STOP")
    assert decided(chat) == [OptedOut()]


def test_the_workshop_intent_with_nothing_planned_leaves_it_to_the_guide_library(chat_factory):
    chat = chat_factory(NLU)  # no workshop known: the test library has no workshop guide either
    assert chat.send("je veux faire un atelier") == [
        "Pas d'atelier prevu pour le moment. Nous vous ecrirons quand il y en aura."
    ]


def test_with_the_real_library_the_intent_explains_workshops_when_none_is_planned(chat_factory):
    from dataclasses import replace

    from flows.library import load_library

    chat = chat_factory(NLU)
    chat.context = replace(chat.context, library=load_library())
    assert chat.send("je veux faire un atelier")[0].startswith("Les ateliers numeriques.")
    chat.resident = ResidentView(workshops=(MAIL,))
    assert chat.send("je veux faire un atelier", after=timedelta(minutes=1))[0].startswith(
        "Repondez le numero pour vous inscrire :")
