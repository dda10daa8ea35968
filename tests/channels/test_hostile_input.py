"""Hostile input on every public endpoint: random, huge, badly encoded, forged -> a 4xx with a reason, never a 500.

Hypothesis drives the real ASGI app (TestClient, server exceptions turned into responses so a crash
shows up as a 500). Each endpoint gets a moderate number of examples so the suite stays fast.
A forged request must leave the database exactly as it was (row counts before and after).
"""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels.settings import TelegramSettings, TwilioSettings
from bot.db.models import Conversation, Message, OutboxItem, Reminder, Resident, Ticket
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN

PUBLIC = "https://relais.example.org"
SMS_PATH, STATUS_PATH = "/channels/twilio/sms", "/channels/twilio/status"
TELEGRAM_PATH, SIMULATOR_PATH, PARSE_PATH = "/channels/telegram", "/simulator/api/messages", "/model/parse"
TELEGRAM_SECRET = "hostile-input-secret_0123456789"
ALL_PATHS = (SMS_PATH, STATUS_PATH, TELEGRAM_PATH, SIMULATOR_PATH, PARSE_PATH)

# 40 examples per test keep the suite fast; RELAIS_FUZZ_EXAMPLES=2000 for a deeper run before a release.
FUZZ = settings(max_examples=int(os.environ.get("RELAIS_FUZZ_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text that hurts: NUL and other control characters, lone surrogates excluded (not encodable), emoji, RTL marks.
nasty_text = st.text(
    alphabet=st.characters(codec="utf-8"), max_size=300
) | st.sampled_from(["", " ", "\x00", "STOP\x00", "é" * 2000, "💥" * 500, "\u202e\u200b", "<script>x</script>",
                     "' OR 1=1 --", "%00", "9" * 200])
content_types = st.sampled_from([
    None, "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data", "multipart/form-data; boundary=zzz", "application/json", "text/plain",
    "application/xml", "application/octet-stream", "application/json; charset=utf-16",
])
raw_bodies = st.binary(max_size=2000) | st.sampled_from([
    b"", b"\xff\xfe\x00", "Body=\xe9t\xe9&From=+33612345678&MessageSid=SM1".encode("latin-1"),
    b"Body=%E9t%E9&From=%2B33612345678&MessageSid=SMx", b"{", b"[]", b"null", b'{"update_id": "1"}',
    b'{"from": "+33612345678", "text": "\xff\xfe"}', b"--zzz\r\nContent-Disposition: form-data\r\n\r\n",
    b"a=" + b"x" * 300_000,
])


@pytest.fixture
def client(runtime):
    app_settings = runtime.settings.model_copy(update={
        "public_url": PUBLIC,
        "twilio": TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"),
        "telegram": TelegramSettings(webhook_secret=TELEGRAM_SECRET),
    })
    runtime = dataclasses.replace(runtime, settings=app_settings)
    app = create_app(app_settings, runtime, background_jobs=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.runtime = runtime
        yield test_client


def stored(client) -> dict[str, int]:
    """How many rows each table a request could write holds."""
    with client.runtime.db.transaction() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Resident, Conversation, Message, OutboxItem, Ticket, Reminder)}


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A form with possibly repeated keys, in the shape httpx posts and Twilio's validator reads."""
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


class _MultiDict(dict):
    def getall(self, key: str) -> list[str]:  # how Twilio's validator reads repeated fields
        value = self[key]
        return value if isinstance(value, list) else [value]


def sign(form: dict[str, str] | dict[str, list[str]], path: str) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, _MultiDict(form))


def assert_clear_refusal_or_success(response, allowed: set[int]) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert detail, "a refusal says why"


finite_floats = st.floats(allow_nan=False, allow_infinity=False)
twilio_field = st.sampled_from(["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "MediaUrl0",
                                "MessageStatus", "ErrorCode", "AccountSid"]) | st.text(max_size=20)
twilio_forms = st.lists(st.tuples(twilio_field, nasty_text), max_size=12)
# What can travel in an HTTP header: printable latin-1.
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=60)


# -- forged requests: refused, nothing stored ----------------------------------------------------------------------


@FUZZ
@given(form=twilio_forms, signature=st.none() | header_text | st.just("c2lnbmVk"),
       path=st.sampled_from([SMS_PATH, STATUS_PATH]))
def test_a_forged_twilio_request_is_refused_and_stores_nothing(client, form, signature, path):
    before = stored(client)
    headers = {} if signature is None else {"X-Twilio-Signature": signature.encode("latin-1")}
    response = client.post(path, data=as_form(form), headers=headers)
    assert response.status_code == 403 and "X-Twilio-Signature" in response.json()["detail"]
    assert stored(client) == before


def test_a_signature_for_other_values_is_forged():
    form = {"MessageSid": "SM" + "1" * 32, "From": "+33612345678", "Body": "bonjour"}
    assert sign(form, SMS_PATH) != sign({**form, "Body": "STOP"}, SMS_PATH)


@FUZZ
@given(body=raw_bodies, content_type=content_types, path=st.sampled_from(ALL_PATHS))
def test_random_bytes_with_any_content_type_never_crash_and_store_nothing_unsigned(client, body, content_type, path):
    before = stored(client)
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(path, content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert 400 <= response.status_code < 500  # no signature, no secret, or not a valid document
    assert stored(client) == before


@FUZZ
@given(update=st.recursive(st.none() | st.booleans() | st.integers() | finite_floats | nasty_text,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                      max_size=4), max_leaves=12),
       secret=st.none() | header_text)
def test_a_telegram_update_without_the_secret_token_is_refused_and_stores_nothing(client, update, secret):
    before = stored(client)
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret.encode("latin-1")}
    response = client.post(TELEGRAM_PATH, json=update, headers=headers)
    assert response.status_code == 403 and "Secret-Token" in response.json()["detail"]
    assert stored(client) == before


# -- authentic but malformed requests: a 4xx with a reason, or 200 when the input is valid --------------------------


@FUZZ
@given(sid=nasty_text | st.just("SM" + "a" * 32), sender=nasty_text | st.just("+33612345678"), body=nasty_text,
       num_media=st.sampled_from(["0", "1", "-1", "abc", "", "99999999999999999999", "2"]),
       extra=twilio_forms, duplicate=st.booleans())
def test_a_signed_sms_with_any_values_is_answered_or_refused_with_a_reason(client, sid, sender, body, num_media,
                                                                          extra, duplicate):
    form = as_form([("MessageSid", sid), ("From", sender), ("Body", body), ("NumMedia", num_media), *extra])
    if duplicate:
        form["MessageSid"].append("SM" + "d" * 32)
    headers = {"X-Twilio-Signature": sign(form, SMS_PATH)}
    before = stored(client)
    response = client.post(SMS_PATH, data=form, headers=headers)
    # Twilio never repeats a field; when a forger does, refusing the signature (403) is fine.
    repeated = any(len(values) > 1 for values in form.values())
    assert_clear_refusal_or_success(response, {200, 400, 403} if repeated else {200, 400})
    after = stored(client)
    if response.status_code != 200:
        assert after == before
    else:
        assert after["messages"] - before["messages"] >= 0 and after["residents"] - before["residents"] <= 1


@FUZZ
@given(sid=nasty_text, status=nasty_text | st.sampled_from(["delivered", "failed", "undelivered"]),
       error=st.none() | nasty_text | st.sampled_from(["21610", "30003"]), extra=twilio_forms)
def test_a_signed_status_callback_with_any_values_is_recorded_or_refused(client, sid, status, error, extra):
    form = as_form([*extra, ("MessageSid", sid), ("MessageStatus", status)] + ([("ErrorCode", error)] if error else []))
    response = client.post(STATUS_PATH, data=form, headers={"X-Twilio-Signature": sign(form, STATUS_PATH)})
    repeated = any(len(values) > 1 for values in form.values())
    assert_clear_refusal_or_success(response, {204, 400, 403} if repeated else {204, 400})


chat_ids = st.integers(min_value=-(2**70), max_value=2**70) | nasty_text | st.none() | finite_floats
telegram_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-(2**70), max_value=2**70)},
    optional={
        "message": st.fixed_dictionaries(
            {"message_id": st.integers(min_value=-(2**40), max_value=2**40) | nasty_text,
             "date": st.integers(min_value=-(2**40), max_value=2**40) | nasty_text,
             "chat": st.fixed_dictionaries({"id": chat_ids, "type": st.sampled_from(["private", "group", "x"])})
             | nasty_text | st.none()},
            optional={"text": nasty_text | st.integers(), "caption": nasty_text,
                      "from": st.fixed_dictionaries({"id": chat_ids, "is_bot": st.booleans(),
                                                     "first_name": nasty_text | st.just("A" * 5000)}),
                      "photo": st.lists(st.fixed_dictionaries({"file_id": nasty_text, "file_unique_id": nasty_text,
                                                               "width": st.integers(), "height": st.integers()}),
                                        max_size=2) | nasty_text,
                      "document": st.fixed_dictionaries({"file_id": nasty_text, "file_unique_id": nasty_text})},
        ),
        "edited_message": st.dictionaries(st.text(max_size=8), nasty_text, max_size=3),
    },
)


@FUZZ
@given(update=telegram_updates | st.recursive(
    st.none() | st.booleans() | st.integers() | nasty_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10))
def test_an_authentic_telegram_update_of_any_shape_is_handled_or_refused_with_a_reason(client, update):
    before = stored(client)
    response = client.post(TELEGRAM_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert_clear_refusal_or_success(response, {200, 400})
    if response.status_code != 200:
        assert stored(client) == before


simulator_bodies = st.fixed_dictionaries(
    {}, optional={"from": nasty_text | st.just("+33612345678") | st.integers() | st.none(),
                  "text": nasty_text | st.just("x" * 10_001) | st.integers() | st.lists(st.text(max_size=3)),
                  "id": nasty_text | st.just("k" * 81) | st.integers(), "extra": nasty_text})


@FUZZ
@given(body=simulator_bodies)
def test_the_simulator_api_answers_or_refuses_any_json_with_a_reason(client, body):
    before = stored(client)
    response = client.post(SIMULATOR_PATH, json=body)
    assert_clear_refusal_or_success(response, {200, 400, 422})
    if response.status_code == 200:
        assert all(reply["segments"] >= 1 for reply in response.json()["replies"])
    else:
        assert stored(client) == before


@FUZZ
@given(body=st.fixed_dictionaries({}, optional={"text": nasty_text | st.just("z" * 20_001) | st.integers()
                                               | st.none(), "message_id": nasty_text | st.integers(),
                                               "emulation_mode": nasty_text}))
def test_the_nlu_endpoint_answers_or_refuses_any_json_with_a_reason(client, body):
    response = client.post(PARSE_PATH, json=body)
    assert_clear_refusal_or_success(response, {200, 422})
    if response.status_code == 200:
        assert response.json()["intent"]["name"]


@pytest.mark.parametrize("path", ALL_PATHS)
def test_a_huge_body_is_refused_with_413_before_anything_is_stored(client, path):
    huge = b"Body=" + b"x" * (2 * 1024 * 1024)
    before = stored(client)
    response = client.post(path, content=huge, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                        "X-Twilio-Signature": "x",
                                                        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    assert stored(client) == before


def test_a_latin1_sms_signed_by_its_sender_is_stored_as_text_not_a_crash(client):
    """Percent-escapes that are not UTF-8 (an old gateway's latin-1) decode with replacement characters."""
    raw = "MessageSid=SMlatin1&From=%2B33612345678&Body=%E9t%E9"
    # What the server parses is what Twilio would have signed after decoding: sign that.
    form = {"MessageSid": "SMlatin1", "From": "+33612345678", "Body": "\ufffdt\ufffd"}
    response = client.post(SMS_PATH, content=raw.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(form, SMS_PATH)})
    assert response.status_code == 200
    with client.runtime.db.transaction() as session:
        assert session.scalars(select(Message.body).where(Message.direction == "in")).one() == "\ufffdt\ufffd"


def test_the_openapi_document_lists_the_fuzzed_endpoints(client):
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    for path in (SMS_PATH, STATUS_PATH, TELEGRAM_PATH, SIMULATOR_PATH, PARSE_PATH):
        assert path in paths


# -- the edges PostgreSQL is strict about (NUL characters, column lengths), pinned as plain examples ----------------


@pytest.mark.parametrize("field, value", [
    ("MessageSid", "SM\x00" + "1" * 32), ("MessageSid", "SM" + "1" * 100), ("From", "\x00"), ("From", ""),
    ("From", "+3361234\x005678"), ("MediaUrl0", "https://example.org/\x00.jpg"),
])
def test_a_signed_sms_with_unstorable_identifiers_is_refused_with_400(client, field, value):
    form = {"MessageSid": "SM" + "2" * 32, "From": "+33612345678", "Body": "bonjour", "NumMedia": "1",
            "MediaUrl0": "https://api.twilio.com/media/ME1", field: value}
    before = stored(client)
    response = client.post(SMS_PATH, data=form, headers={"X-Twilio-Signature": sign(form, SMS_PATH)})
    assert response.status_code == 400 and response.json()["detail"]
    assert stored(client) == before


@pytest.mark.parametrize("field, value", [("MessageSid", "SM\x00"), ("MessageSid", "SM" + "3" * 100),
                                          ("ErrorCode", "2161\x000"), ("ErrorCode", "9" * 50)])
def test_a_signed_status_callback_with_unstorable_values_is_refused_with_400(client, field, value):
    sms = {"MessageSid": "SM" + "4" * 32, "From": "+33612345678", "Body": "jai oublie mon code caf"}
    assert client.post(SMS_PATH, data=sms, headers={"X-Twilio-Signature": sign(sms, SMS_PATH)}).status_code == 200
    with client.runtime.db.transaction() as session:
        session.scalars(select(OutboxItem)).first().provider_message_id = "SM" + "5" * 32
    form = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "failed", "ErrorCode": "30003", field: value}
    response = client.post(STATUS_PATH, data=form, headers={"X-Twilio-Signature": sign(form, STATUS_PATH)})
    assert response.status_code == 400 and response.json()["detail"]
    with client.runtime.db.transaction() as session:
        assert session.scalars(select(Resident)).one().opted_out is False


def _update(update_id: int = 1, chat_id: object = 42, first_name: str = "Awa", text: object = "bonjour") -> dict:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1795390000, "text": text, "chat": {"id": chat_id, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": first_name}}}


@pytest.mark.parametrize("update", [_update(update_id=10**90), _update(chat_id=10**70), _update(chat_id="\x00"),
                                    _update(text="\x00\x00"), _update(text=1), _update(chat_id=None)])
def test_an_authentic_telegram_update_with_unstorable_identifiers_is_refused_or_handled(client, update):
    before = stored(client)
    response = client.post(TELEGRAM_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert_clear_refusal_or_success(response, {200, 400})
    if response.status_code == 400:
        assert stored(client) == before


def test_a_telegram_name_longer_than_any_real_one_is_cut_not_a_crash(client):
    update = _update(first_name="\x00A" * 3000)
    response = client.post(TELEGRAM_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200
    with client.runtime.db.transaction() as session:
        name = session.scalars(select(Resident.display_name)).one()
        assert name.startswith("AAA") and len(name) <= 120 and "\x00" not in name


@pytest.mark.parametrize("body", [{"from": "+33612345678", "text": "bonjour", "id": "k\x00"},
                                  {"from": "+3361234567\x008", "text": "bonjour"},
                                  {"from": "+33612345678", "text": "\x00" * 100}])
def test_the_simulator_refuses_or_answers_nul_characters(client, body):
    response = client.post(SIMULATOR_PATH, json=body)
    assert_clear_refusal_or_success(response, {200, 400, 422})


def test_in_polling_mode_a_malformed_update_is_skipped_not_retried_forever(runtime):
    import asyncio

    from telegram import Update

    from bot.channels.telegram import poll_once

    class Bot:  # what poll_once asks of python-telegram-bot's Bot
        async def get_updates(self, **_kwargs):  # type: ignore[no-untyped-def]
            return [Update.de_json(_update(update_id=41, chat_id=10**70), None),
                    Update.de_json(_update(update_id=42, chat_id=77, text="bonjour"), None)]

    assert asyncio.run(poll_once(runtime, Bot(), None)) == 43
    with runtime.db.transaction() as session:
        assert session.scalars(select(Resident.address)).all() == ["77"]
