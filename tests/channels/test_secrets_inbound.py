"""Secrets texted by residents are redacted before anything is stored, on every channel, and they are warned once.

Through the real webhooks (signed Twilio SMS, Telegram with its secret, the simulator API), with
the decision worker running as in production: the secret is in no text column of any table, not
in the console's ticket page, the engine saw the redacted text, the resident is told once, and
the normal reply still comes.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, String, Text, select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels.settings import TelegramSettings, TwilioSettings
from bot.db.models import Base, Message, OutboxItem, Resident
from bot.privacy.secrets import redaction_texts
from bot.sms.gsm7 import prepare
from bot.structures import default_structure
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.console.conftest import log_in
from tests.privacy.values import card, grouped, iban, nir, nir_spaced
from tests.tickets.people import mediator

PUBLIC = "https://relais.example.org"
TELEGRAM_SECRET = "s3cret-token_for-tests"
NIR = nir("1850578006084")
CARD = card("497401234567890")
IBAN = iban("FR", "30006000011234567890189")
PASSWORD = "Karim2019!"

# What the resident texts, and the digits/characters that must be found nowhere afterwards.
SECRETS = {
    "nir": (f"mon numero de secu c {nir_spaced(NIR)}", NIR),
    "card": (f"ma carte {grouped(CARD)} ca marche pas", CARD),
    "iban": (f"mon iban {grouped(IBAN)}", IBAN),
    "password": (f"mon mdp caf c {PASSWORD}", PASSWORD),
}


@pytest.fixture
def app_runtime(runtime):
    settings = runtime.settings.model_copy(update={
        "public_url": PUBLIC,
        "twilio": TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"),
        "telegram": TelegramSettings(bot_token="123:abc", webhook_secret=TELEGRAM_SECRET),
    })
    return dataclasses.replace(runtime, settings=settings)


@pytest.fixture
def client(app_runtime):
    app = create_app(app_runtime.settings, app_runtime, background_jobs=False, decide_in_background=True)
    with TestClient(app, base_url="https://testserver") as client:  # https: the console's cookies are secure
        client.runtime = app_runtime
        client.decisions = app.state.decisions
        yield client


def sms(client, body: str, sid: str, sender: str = "+33612345678"):
    form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "To": "38123", "Body": body,
            "NumMedia": "0"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/channels/twilio/sms", form)
    answer = client.post("/channels/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    assert client.decisions.wait_idle(timeout=20)


def everything_stored(client) -> str:
    """Every text, string and JSON value of every row of every table, as one string."""
    parts: list[str] = []
    with client.runtime.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if columns:
                for row in session.execute(select(*columns)):
                    parts.extend(str(value) for value in row if value is not None)
    return "\n".join(parts)


def digits(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z!]", "", value)


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_a_secret_texted_by_sms_is_stored_nowhere_and_the_reply_still_comes(client, kind):
    text, secret = SECRETS[kind]
    sms(client, text, "SM" + "1" * 32)
    stored = everything_stored(client)
    assert secret not in stored and digits(secret) not in digits(stored)
    placeholder = redaction_texts().placeholders[kind]
    with client.runtime.db.transaction() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert placeholder in inbound.body and inbound.redacted_kinds == kind
        assert inbound.status == "decided"  # the engine ran, on the redacted text
        replies = session.scalars(select(OutboxItem).where(OutboxItem.in_reply_to == inbound.id)
                                  .order_by(OutboxItem.id)).all()
    warning = prepare(redaction_texts().resident_warning).text
    assert [r.body for r in replies].count(warning) == 1
    assert any(r.body != warning for r in replies), "the bot's normal reply is missing"


def test_the_warning_goes_once_however_many_secrets(client):
    sms(client, SECRETS["nir"][0], "SM" + "1" * 32)
    sms(client, SECRETS["card"][0], "SM" + "2" * 32)
    sms(client, SECRETS["password"][0], "SM" + "3" * 32)
    warning = prepare(redaction_texts().resident_warning).text
    with client.runtime.db.transaction() as session:
        bodies = session.scalars(select(OutboxItem.body)).all()
        assert bodies.count(warning) == 1
        assert session.scalars(select(Resident.secret_warning_at)).one() is not None


def test_the_warning_is_one_gsm7_sms():
    prepared = prepare(redaction_texts().resident_warning)
    assert (prepared.encoding, prepared.segments) == ("GSM-7", 1)


def test_a_mediator_sees_the_placeholder_never_the_secret(client):
    sms(client, "je veux parler a quelquun", "SM" + "a" * 32)
    sms(client, SECRETS["nir"][0], "SM" + "b" * 32)
    with client.runtime.db.transaction() as session:
        structure = default_structure(session, client.runtime.settings)
        mediator(session, "lea@relais.fr", [structure])
        inbound = session.scalars(select(Message).where(Message.provider_message_id == "SM" + "b" * 32)).one()
        ticket_id = inbound.ticket_id
    assert ticket_id is not None
    log_in(client, "lea@relais.fr")
    page = client.get(f"/console/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "[NIR masqué]" in page.text
    assert NIR not in page.text and nir_spaced(NIR) not in page.text and NIR not in digits(page.text)
    poll = client.get(f"/console/api/tickets/{ticket_id}")
    assert NIR not in digits(poll.text)


def test_a_secret_sent_on_telegram_is_redacted_too(client):
    update = {"update_id": 7001, "message": {
        "message_id": 1, "date": 1700000000, "chat": {"id": 4242, "type": "private"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Awa"}, "text": SECRETS["iban"][0]}}
    answer = client.post("/channels/telegram", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert answer.status_code == 200
    assert client.decisions.wait_idle(timeout=20)
    assert digits(IBAN) not in digits(everything_stored(client))
    with client.runtime.db.transaction() as session:
        assert redaction_texts().resident_warning in session.scalars(select(OutboxItem.body)).all()


def test_the_simulator_answers_with_the_warning_and_the_reply(client):
    answer = client.post("/simulator/api/messages", json={"from": "0612345678", "text": SECRETS["card"][0]})
    assert answer.status_code == 200
    texts = [reply["text"] for reply in answer.json()["replies"]]
    assert prepare(redaction_texts().resident_warning).text in texts and len(texts) >= 2
    thread = client.get("/simulator/api/messages", params={"from": "0612345678"}).json()
    assert "[carte masquée]" in thread[0]["text"] and CARD not in digits(str(thread))
    assert digits(CARD) not in digits(everything_stored(client))
