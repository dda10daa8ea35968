"""MES DONNEES and OUBLIER as transcripts: always a confirmation first, nothing happens without OUI."""

from __future__ import annotations

import pytest

from bot.engine.conversation import ResidentView
from bot.engine.events import DataSummaryRequested, ErasureConfirmed, OpenTicket
from bot.sms.gsm7 import count_segments
from tests.engine.conftest import parse_as

MY_DATA_CONFIRM = ("Vous voulez savoir ce que nous gardons sur vous et en recevoir une copie ? "
                   "Repondez OUI pour confirmer.")
FORGET_CONFIRM = ("Vous voulez effacer vos messages et vos demandes ? C'est definitif. "
                  "Vos inscriptions aux ateliers seront annulees. Repondez OUI pour confirmer.")
NOT_CONFIRMED = "C'est note, rien ne change. Ecrivez votre question quand vous voulez."
CAF_2 = '2/4 Touchez "Mot de passe oublie".'

NLU = {"jai oublie mon code caf": parse_as("jai oublie mon code caf", "password_reset", 0.93, "caf")}


@pytest.fixture
def chat(chat_factory):
    return chat_factory(NLU)


@pytest.mark.parametrize("text", ["MES DONNEES", "mes données", "  Mes Données !", "mes donnes", "MESDONNEES",
                                  "mes infos"])
def test_my_data_in_any_case_accents_spaces_or_with_a_typo_asks_for_confirmation(chat, text):
    assert chat.send(text) == [MY_DATA_CONFIRM]
    assert chat.events[-1].keyboard == ("OUI", "NON")
    assert chat.nlu_calls == []


@pytest.mark.parametrize("text", ["OUBLIER", "oublier", "Oubliez-moi", " oublier. ", "oublierr", "OUBLIÉR",
                                  "effacer mes données"])
def test_forget_in_any_case_accents_spaces_or_with_a_typo_asks_for_confirmation(chat, text):
    assert chat.send(text) == [FORGET_CONFIRM]
    assert not any(isinstance(e, ErasureConfirmed) for e in chat.events)


def test_forget_then_yes_is_the_erasure_and_the_engine_says_nothing_itself(chat):
    chat.send("OUBLIER")
    assert chat.send("oui") == []  # the confirmation SMS is written after the data is gone
    assert chat.events == [ErasureConfirmed()]
    assert chat.state.pending is None


def test_my_data_then_yes_asks_for_the_summary(chat):
    chat.send("MES DONNEES")
    assert chat.send("Oui") == []
    assert chat.events == [DataSummaryRequested()]


@pytest.mark.parametrize("answer", ["non", "NON", "nan"])
def test_no_cancels_and_nothing_is_erased(chat, answer):
    chat.send("OUBLIER")
    assert chat.send(answer) == [NOT_CONFIRMED]
    assert chat.events == [chat.events[0]] and not isinstance(chat.events[0], ErasureConfirmed)


def test_anything_else_than_yes_drops_the_request_and_is_read_as_usual(chat):
    chat.send("OUBLIER")
    replies = chat.send("jai oublie mon code caf")
    assert replies[1].startswith("1/4 ")
    assert not any(isinstance(e, ErasureConfirmed) for e in chat.events)
    assert chat.send("oui") != []  # a later OUI no longer confirms anything
    assert not any(isinstance(e, ErasureConfirmed) for e in chat.events)


def test_a_guide_in_progress_is_still_there_after_a_cancelled_request(chat):
    chat.send("jai oublie mon code caf")
    chat.send("MES DONNEES")
    chat.send("non")
    assert chat.send("suite") == [CAF_2]


def test_the_request_works_while_a_mediator_has_the_conversation(chat):
    chat.resident = ResidentView(has_open_ticket=True)
    assert chat.send("OUBLIER") == [FORGET_CONFIRM]
    assert chat.send("OUI") == []
    assert chat.events == [ErasureConfirmed()]
    assert not any(isinstance(e, OpenTicket) for e in chat.events)


def test_stop_during_the_confirmation_is_still_stop(chat):
    chat.send("OUBLIER")
    assert chat.send("STOP") == ["Vous ne recevrez plus de messages de Relais. Pour revenir, envoyez START."]
    assert chat.send("oui") != [] and not any(isinstance(e, ErasureConfirmed) for e in chat.events)


def test_every_privacy_text_of_the_engine_is_one_gsm7_sms(chat):
    for text in ("MES DONNEES", "non", "OUBLIER"):
        for reply in chat.send(text):
            sms = count_segments(reply)
            assert (sms.encoding, sms.segments) == ("GSM-7", 1), reply
