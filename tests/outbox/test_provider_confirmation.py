"""A send the provider took while we never heard back (timeout, process killed) is not sent twice:
Twilio's status callback carries the outbox id and marks the row sent."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels.base import SendResult
from bot.channels.settings import TwilioSettings
from bot.db.models import Message, OutboxItem
from bot.outbox.dispatcher import claim_due, dispatch_due, recover_stale
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN

PUBLIC = "https://relais.example.org"
SID = "SM" + "a" * 32


class CountingSender:
    provider = "twilio"

    def __init__(self, result: SendResult) -> None:
        self.result, self.sent = result, []

    def send(self, message) -> SendResult:  # noqa: ANN001
        self.sent.append(message.outbox_id)
        return self.result


@pytest.fixture
def clock():
    return [datetime(2026, 3, 10, 10, 0, tzinfo=UTC)]


@pytest.fixture
def client(runtime, clock):
    settings = runtime.settings.model_copy(update={
        "public_url": PUBLIC,
        "twilio": TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"),
    })
    runtime = dataclasses.replace(runtime, settings=settings, clock=lambda: clock[0])
    with TestClient(create_app(settings, runtime, background_jobs=False)) as client:
        client.runtime = runtime
        yield client


def _signed_post(client, path: str, form: dict[str, str]):
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def _reply_queued(client) -> int:
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": ACCOUNT_SID, "From": "+33612345678", "To": "38123",
            "Body": "jai oublie mon code caf", "NumMedia": "0"}
    assert _signed_post(client, "/channels/twilio/sms", form).status_code == 200
    with client.runtime.db.transaction() as session:
        return session.scalars(select(OutboxItem).order_by(OutboxItem.id)).first().id


def _callback(client, outbox_id: int, status: str = "sent"):
    return _signed_post(client, f"/channels/twilio/status?outbox_id={outbox_id}",
                        {"MessageSid": SID, "MessageStatus": status, "AccountSid": ACCOUNT_SID})


def _row(client, outbox_id: int) -> tuple[str, str | None, str | None]:
    with client.runtime.db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        return item.status, item.provider_message_id, session.get(Message, item.message_id).provider_message_id


def test_a_send_that_timed_out_but_was_taken_is_confirmed_by_the_callback_and_not_resent(client, clock):
    outbox_id = _reply_queued(client)
    sender = CountingSender(SendResult(ok=False, status="failed", transient=True, error_code="timeout"))
    client.runtime.senders["twilio"] = sender
    dispatch_due(client.runtime, ids=[outbox_id])
    assert _row(client, outbox_id)[0] == "pending"  # would be retried after its backoff...

    assert _callback(client, outbox_id).status_code == 204  # ...but Twilio says it took it

    assert _row(client, outbox_id) == ("sent", SID, SID)
    clock[0] += timedelta(hours=1)
    dispatch_due(client.runtime)
    assert sender.sent.count(outbox_id) == 1


def test_a_send_interrupted_by_a_crash_is_confirmed_before_it_is_recovered(client, clock):
    outbox_id = _reply_queued(client)
    assert [item.id for item in claim_due(client.runtime, ids=[outbox_id])] == [outbox_id]  # then SIGKILL
    assert _callback(client, outbox_id).status_code == 204
    clock[0] += timedelta(hours=1)
    assert recover_stale(client.runtime) == 0
    assert _row(client, outbox_id)[0] == "sent"


def test_a_late_timeout_does_not_undo_the_confirmation(client):
    outbox_id = _reply_queued(client)

    class ConfirmedMeanwhile(CountingSender):
        def send(self, message):  # noqa: ANN001 - the callback lands before the client gives up
            assert _callback(client, message.outbox_id).status_code == 204
            return super().send(message)

    client.runtime.senders["twilio"] = ConfirmedMeanwhile(
        SendResult(ok=False, status="failed", transient=True, error_code="timeout"))
    dispatch_due(client.runtime, ids=[outbox_id])
    assert _row(client, outbox_id)[0] == "sent"


def test_a_callback_with_an_unknown_or_foreign_outbox_id_changes_nothing(client):
    outbox_id = _reply_queued(client)
    assert _callback(client, outbox_id + 1000).status_code == 204
    assert _signed_post(client, "/channels/twilio/status?outbox_id=abc",
                        {"MessageSid": SID, "MessageStatus": "sent"}).status_code == 204
    assert _row(client, outbox_id)[0] == "pending"
    # A forged callback (bad signature) for a real row is refused.
    forged = client.post(f"/channels/twilio/status?outbox_id={outbox_id}",
                         data={"MessageSid": SID, "MessageStatus": "sent"}, headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403 and _row(client, outbox_id)[0] == "pending"


def test_recover_stale_waits_for_the_configured_time(client, clock):
    outbox_id = _reply_queued(client)
    claim_due(client.runtime, ids=[outbox_id])
    clock[0] += timedelta(seconds=299)
    assert recover_stale(client.runtime) == 0
    clock[0] += timedelta(seconds=2)
    assert recover_stale(client.runtime) == 1 and _row(client, outbox_id)[0] == "pending"
