"""A flood from one number is throttled and flagged; every message is kept; other residents are unaffected."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels.base import InboundMessage
from bot.channels.settings import TwilioSettings
from bot.channels.texts import channel_texts
from bot.db.models import AuditEntry, Message, OutboxItem, Resident, Ticket
from bot.inbound.flood import FloodSettings
from bot.inbound.pipeline import receive
from bot.sms.gsm7 import prepare
from bot.structures import default_structure
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.console.conftest import log_in
from tests.tickets.people import mediator

PUBLIC = "https://relais.example.org"
FLOODER, OTHER = "+33611111111", "+33622222222"
WAIT = prepare(channel_texts()["flood_wait"]).text


@pytest.fixture
def flood_runtime(runtime):
    settings = runtime.settings.model_copy(update={
        "public_url": PUBLIC,
        "twilio": TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"),
        "flood": FloodSettings(max_messages=3, window_seconds=60),
    })
    return dataclasses.replace(runtime, settings=settings)


@pytest.fixture
def client(flood_runtime):
    app = create_app(flood_runtime.settings, flood_runtime, background_jobs=False, decide_in_background=True)
    with TestClient(app, base_url="https://testserver") as client:
        client.runtime = flood_runtime
        client.decisions = app.state.decisions
        yield client


def sms(client, body: str, sid: str, sender: str) -> None:
    form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "To": "38123", "Body": body,
            "NumMedia": "0"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/channels/twilio/sms", form)
    assert client.post("/channels/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}).status_code == 200


def replies_to(session, message: Message) -> list[str]:
    return list(session.scalars(select(OutboxItem.body).where(OutboxItem.in_reply_to == message.id)
                                .order_by(OutboxItem.id)))


def test_a_flood_is_kept_throttled_told_once_and_flagged_while_others_are_answered(client):
    for i in range(4):
        sms(client, f"bonjour {i}", f"SMA{i:030d}", FLOODER)
    sms(client, "jai oublie mon code caf", "SMB" + "0" * 30, OTHER)  # in the middle of the flood
    for i in range(4, 10):
        sms(client, f"bonjour {i}", f"SMA{i:030d}", FLOODER)
    assert client.decisions.wait_idle(timeout=20)

    with client.runtime.db.transaction() as session:
        flooder = session.scalars(select(Resident).where(Resident.address == FLOODER)).one()
        mine = session.scalars(select(Message).where(Message.resident_id == flooder.id, Message.direction == "in")
                               .order_by(Message.id)).all()
        assert [m.body for m in mine] == [f"bonjour {i}" for i in range(10)]  # nothing lost
        assert [m.status for m in mine] == ["decided"] * 3 + ["throttled"] * 7
        # Under the limit the bot answers (the later ones may be decided after the flood ticket opened: then the
        # bot says once that a mediator has the conversation).
        assert replies_to(session, mine[0]) and replies_to(session, mine[1])
        assert replies_to(session, mine[3]) == [WAIT]  # told once to wait...
        assert all(replies_to(session, m) == [] for m in mine[4:])  # ...then no reply per message
        assert session.scalars(select(OutboxItem.body).where(OutboxItem.resident_id == flooder.id)).all().count(
            WAIT) == 1
        ticket = session.scalars(select(Ticket).where(Ticket.resident_id == flooder.id)).one()
        assert (ticket.status, ticket.reason) == ("open", "flood")
        assert {m.ticket_id for m in mine[3:]} == {ticket.id}
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.resident_id == flooder.id)).all().count(
            "flood_throttled") == 1

        other = session.scalars(select(Message).join(Resident).where(Resident.address == OTHER,
                                                                     Message.direction == "in")).one()
        assert other.status == "decided" and other.intent == "password_reset"
        assert any(body.startswith("1/4 Ouvrez le site caf.fr") for body in replies_to(session, other))

        structure = default_structure(session, client.runtime.settings)
        mediator(session, "lea@relais.fr", [structure])
    log_in(client, "lea@relais.fr")
    queue = client.get("/console")
    assert "Envoie beaucoup de messages" in queue.text and FLOODER in queue.text
    page = client.get(f"/console/tickets/{ticket.id}")
    assert "bonjour 9" in page.text and "sans réponse du bot" in page.text


def test_the_wait_sms_is_one_gsm7_segment():
    prepared = prepare(channel_texts()["flood_wait"])
    assert (prepared.encoding, prepared.segments) == ("GSM-7", 1)


def _at(when: datetime, index: int) -> InboundMessage:
    return InboundMessage(channel="sms", address=FLOODER, text=f"message {index}", provider_id=f"sim-{index}",
                          received_at=when, provider="simulator")


def test_a_new_flood_after_a_calm_spell_is_told_and_flagged_again(flood_runtime):
    start = datetime.now(UTC) - timedelta(hours=1)
    results = [receive(flood_runtime, _at(start + timedelta(seconds=i), i)) for i in range(5)]
    calm = receive(flood_runtime, _at(start + timedelta(minutes=10), 5))  # one message, minutes later
    again = [receive(flood_runtime, _at(start + timedelta(minutes=10, seconds=1 + i), 6 + i)) for i in range(4)]
    with flood_runtime.db.transaction() as session:
        statuses = [session.get(Message, r.message_id).status for r in [*results, calm, *again]]
        assert statuses == ["decided"] * 3 + ["throttled"] * 2 + ["decided"] * 3 + ["throttled"] * 2
        assert session.scalars(select(OutboxItem.body)).all().count(WAIT) == 2
        audits = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "flood_throttled")).all()
        assert len(audits) == 2
        # The flood ticket opened the first time is still open: the second flood is noted on it.
        assert len(session.scalars(select(Ticket)).all()) == 1


def test_the_limit_is_a_setting(flood_runtime):
    relaxed = dataclasses.replace(flood_runtime, settings=flood_runtime.settings.model_copy(
        update={"flood": FloodSettings(max_messages=20, window_seconds=60)}))
    now = datetime.now(UTC)
    results = [receive(relaxed, _at(now + timedelta(seconds=i), i)) for i in range(10)]
    with relaxed.db.transaction() as session:
        assert {session.get(Message, r.message_id).status for r in results} == {"decided"}
