"""Inbound SMS and status callbacks through the real app, signed as Twilio signs them."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels.settings import TwilioSettings
from bot.db.models import Message, OutboxItem, Resident, Ticket
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN

PUBLIC = "https://relais.example.org/relais"  # behind a reverse proxy that adds a path prefix
SMS_URL = PUBLIC + "/channels/twilio/sms"
STATUS_URL = PUBLIC + "/channels/twilio/status"


@pytest.fixture
def client(runtime):
    settings = runtime.settings.model_copy(update={
        "public_url": PUBLIC,
        "twilio": TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"),
    })
    runtime = dataclasses.replace(runtime, settings=settings)
    # The app is reached at http://testserver: only the configured public URL makes signatures match.
    with TestClient(create_app(settings, runtime, background_jobs=False)) as client:
        client.runtime = runtime
        yield client


def _form(sid: str = "SM" + "1" * 32, body: str = "jai oublie mon code caf", **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": "+33612345678", "To": "38123",
            "Body": body, "NumMedia": "0", "NumSegments": "1", **extra}


def _post(client, path: str, url: str, form: dict[str, str], signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=form, headers=headers)


def _count(client, model, *where) -> int:
    with client.runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_signed_sms_is_stored_answered_with_empty_twiml_and_replies_go_to_the_outbox(client):
    answer = _post(client, "/channels/twilio/sms", SMS_URL, _form())
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert answer.text.endswith("<Response />")
    assert _count(client, Message, Message.direction == "in", Message.provider == "twilio") == 1
    with client.runtime.db.transaction() as session:
        rows = session.scalars(select(OutboxItem)).all()
        assert rows and {(r.provider, r.address) for r in rows} == {("twilio", "+33612345678")}


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_forged_sms_is_refused_and_nothing_is_stored(client, signature):
    assert _post(client, "/channels/twilio/sms", SMS_URL, _form(), signature).status_code == 403
    assert _count(client, Message) == 0 and _count(client, Resident) == 0


def test_a_signature_for_another_url_or_altered_body_is_refused(client):
    form = _form()
    wrong_url = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver/channels/twilio/sms", form)
    assert _post(client, "/channels/twilio/sms", SMS_URL, form, wrong_url).status_code == 403
    good = RequestValidator(AUTH_TOKEN).compute_signature(SMS_URL, form)
    assert _post(client, "/channels/twilio/sms", SMS_URL, {**form, "Body": "STOP"}, good).status_code == 403
    assert _count(client, Message) == 0


def test_fields_twilio_adds_later_are_covered_by_the_signature(client):
    answer = _post(client, "/channels/twilio/sms", SMS_URL, _form(FromCountry="FR", ApiVersion="2010-04-01"))
    assert answer.status_code == 200


def test_a_retry_with_the_same_message_sid_gets_one_reply_only(client):
    assert _post(client, "/channels/twilio/sms", SMS_URL, _form()).status_code == 200
    replies = _count(client, OutboxItem)
    assert replies >= 1
    assert _post(client, "/channels/twilio/sms", SMS_URL, _form()).status_code == 200
    assert _count(client, OutboxItem) == replies
    assert _count(client, Message, Message.direction == "in") == 1


def test_a_national_sender_number_is_stored_in_e164(client):
    _post(client, "/channels/twilio/sms", SMS_URL, _form(From="0612345678"))
    with client.runtime.db.transaction() as session:
        assert session.scalars(select(Resident.address)).one() == "+33612345678"


def test_a_photo_is_answered_plainly_and_attached_to_the_open_ticket(client):
    _post(client, "/channels/twilio/sms", SMS_URL, _form(sid="SM" + "a" * 32, body="je veux parler a quelquun"))
    assert _count(client, Ticket) == 1
    photo = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"
    form = _form(sid="MM" + "b" * 32, body="", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    assert _post(client, "/channels/twilio/sms", SMS_URL, form).status_code == 200
    with client.runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        inbound = session.scalars(select(Message).where(Message.provider_message_id == form["MessageSid"])).one()
        assert inbound.media_urls == [photo] and inbound.ticket_id == ticket.id
        last = session.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
        assert "photos" in last.body and last.encoding == "GSM-7" and last.segments == 1
    # Twilio retrying the photo message does not tell the resident twice.
    before = _count(client, OutboxItem)
    _post(client, "/channels/twilio/sms", SMS_URL, form)
    assert _count(client, OutboxItem) == before


def test_status_callbacks_record_delivery_and_error_code(client):
    _post(client, "/channels/twilio/sms", SMS_URL, _form())
    with client.runtime.db.transaction() as session:
        reply = session.scalars(select(OutboxItem)).first()
        reply.provider_message_id = "SM" + "f" * 32
        session.get(Message, reply.message_id).provider_message_id = reply.provider_message_id
        message_id = reply.message_id
    for status in ("sent", "delivered"):
        form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
        assert _post(client, "/channels/twilio/status", STATUS_URL, form).status_code == 204
    with client.runtime.db.transaction() as session:
        assert session.get(Message, message_id).status == "delivered"
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _post(client, "/channels/twilio/status", STATUS_URL, form).status_code == 204
    with client.runtime.db.transaction() as session:
        message = session.get(Message, message_id)
        assert (message.status, message.error_code) == ("undelivered", "30003")


def test_an_unsigned_status_callback_changes_nothing(client):
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed", "ErrorCode": "30005"}
    assert _post(client, "/channels/twilio/status", STATUS_URL, form, None).status_code == 403


def test_a_late_unsubscribed_error_in_a_callback_opts_the_resident_out(client):
    _post(client, "/channels/twilio/sms", SMS_URL, _form())
    with client.runtime.db.transaction() as session:
        reply = session.scalars(select(OutboxItem)).first()
        reply.provider_message_id = "SM" + "e" * 32
    form = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "failed", "ErrorCode": "21610"}
    assert _post(client, "/channels/twilio/status", STATUS_URL, form).status_code == 204
    with client.runtime.db.transaction() as session:
        assert session.scalars(select(Resident)).one().opted_out


def test_replies_go_out_through_the_official_client_to_the_twilio_api(client, twilio_api):
    from bot.channels.twilio_sms import TwilioSender
    from bot.outbox.dispatcher import dispatch_due

    settings = client.runtime.settings.twilio.model_copy(update={"api_base_url": twilio_api,
                                                                  "messages_per_second": 50})
    client.runtime.senders["twilio"] = TwilioSender(settings, PUBLIC)
    _post(client, "/channels/twilio/sms", SMS_URL, _form())
    # Prism answers every create with the spec's one example SID: send one row, as real SIDs are unique.
    report = dispatch_due(client.runtime, limit=1)
    assert len(report.sent) == 1 and not report.failed and not report.retrying
    with client.runtime.db.transaction() as session:
        row = session.get(OutboxItem, report.sent[0])
        assert row.status == "sent" and row.provider_message_id.startswith("SM")
        assert session.get(Message, row.message_id).status == "queued"


def test_an_unsubscribed_recipient_is_opted_out_and_never_retried(client, twilio_api, monkeypatch):
    from twilio.base.exceptions import TwilioRestException

    from bot.channels.twilio_sms import TwilioSender
    from bot.outbox.dispatcher import dispatch_due

    sender = TwilioSender(client.runtime.settings.twilio.model_copy(update={"api_base_url": twilio_api,
                                                                            "messages_per_second": 50}), PUBLIC)

    def unsubscribed(*_a, **_k):
        raise TwilioRestException(400, "uri", msg="Attempt to send to unsubscribed recipient", code=21610)

    monkeypatch.setattr(sender.client.messages, "create", unsubscribed)
    client.runtime.senders["twilio"] = sender
    _post(client, "/channels/twilio/sms", SMS_URL, _form())
    report = dispatch_due(client.runtime)
    assert report.failed and not report.retrying
    with client.runtime.db.transaction() as session:
        assert session.scalars(select(Resident)).one().opted_out
        assert {row.status for row in session.scalars(select(OutboxItem))} == {"failed"}
