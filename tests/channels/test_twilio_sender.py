"""The official twilio client, through our base-URL HTTP client, against Prism serving Twilio's OpenAPI spec."""

from __future__ import annotations

import requests

from bot.channels.base import OutgoingMessage
from bot.channels.settings import TwilioSettings
from bot.channels.twilio_sms import TokenBucket, TwilioSender
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN


def _sender(base_url: str, **overrides: object) -> TwilioSender:
    settings = TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+33700000000",
                              api_base_url=base_url, messages_per_second=100, **overrides)
    return TwilioSender(settings, "https://relais.example.org/")


def _sms(address: str = "+33612345678") -> OutgoingMessage:
    return OutgoingMessage(outbox_id=1, channel="sms", address=address, text="1/4 Ouvrez caf.fr", provider="twilio")


def test_a_valid_send_is_queued_by_the_api(twilio_api):
    result = _sender(twilio_api).send(_sms())
    assert result.ok
    assert result.status == "queued"
    assert result.provider_message_id


def test_the_status_callback_points_at_the_public_url():
    assert _sender("http://127.0.0.1:1").status_callback == "https://relais.example.org/channels/twilio/status"


def test_a_request_the_api_rejects_is_permanent_and_not_retried(twilio_api):
    # An account SID outside Twilio's pattern is refused by the spec's validation (422).
    sender = _sender(twilio_api)
    sender.client.username = sender.client.account_sid = "not-an-account"
    result = sender.send(_sms())
    assert not result.ok
    assert not result.transient
    assert result.error_code == "422"


def test_an_unreachable_api_is_transient():
    result = _sender("http://127.0.0.1:9", timeout_seconds=1).send(_sms())
    assert not result.ok and result.transient


class _Status:
    def __init__(self, status: int, code: int | None = None):
        self.status, self.code = status, code


def test_rate_limits_and_server_errors_are_transient_and_unsubscribed_is_permanent(twilio_api, monkeypatch):
    from twilio.base.exceptions import TwilioRestException

    sender = _sender(twilio_api)
    outcomes = {}
    for status, code in ((429, 20429), (500, None), (503, None), (400, 21610), (400, 21211)):
        def fail(*_a, status=status, code=code, **_k):
            raise TwilioRestException(status, "uri", msg="refused", code=code)

        monkeypatch.setattr(sender.client.messages, "create", fail)
        result = sender.send(_sms())
        outcomes[(status, code)] = (result.transient, result.error_code)
    assert outcomes == {(429, 20429): (True, "20429"), (500, None): (True, "500"), (503, None): (True, "503"),
                        (400, 21610): (False, "21610"), (400, 21211): (False, "21211")}


def test_a_timeout_is_transient(monkeypatch):
    sender = _sender("http://127.0.0.1:1")

    def slow(*_a, **_k):
        raise requests.Timeout("read timed out")

    monkeypatch.setattr(sender.client.messages, "create", slow)
    assert sender.send(_sms()).transient


def test_the_bucket_spaces_sends_at_the_configured_rate():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        bucket.acquire()
    assert waits == [0.5, 0.5, 0.5, 0.5]
    assert now[0] == 2.0


def test_credentials_come_from_twilio_conventional_variables(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("RELAIS_TWILIO_API_BASE_URL", "http://127.0.0.1:4010")
    settings = TwilioSettings(from_number="38123")
    assert (settings.account_sid, settings.auth_token, settings.api_base_url) == (
        ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1:4010")
    assert settings.configured and settings.problems() == []
    assert "account_sid should be AC" in TwilioSettings(account_sid="AB12", auth_token=AUTH_TOKEN).problems()[0]
