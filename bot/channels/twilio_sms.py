"""Twilio, the reference SMS adapter: signed webhooks in, REST API out.

Another SMS provider is one more module like this one: a ``router`` for its webhooks that turns
them into ``InboundMessage`` for ``receive``, and a ``Sender`` for the outbox.
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiEvent
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import (
    MAX_PROVIDER_ID_CHARS,
    InboundMessage,
    InvalidInbound,
    OutgoingMessage,
    SendResult,
    check_identifier,
)
from bot.channels.phone import InvalidPhoneNumber, to_e164
from bot.channels.settings import TwilioSettings
from bot.channels.texts import channel_texts
from bot.db.models import Message, OutboxItem
from bot.inbound.acks import store_for_app, store_for_webhook
from bot.inbound.decisions import hand_over
from bot.outbox.dispatcher import accepted_by_provider, apply_permanent_failure
from bot.runtime import Runtime

PROVIDER = "twilio"
SMS_PATH = "/channels/twilio/sms"
STATUS_PATH = "/channels/twilio/status"
TRANSIENT_STATUSES = frozenset({429}) | frozenset(range(500, 600))
DELIVERY_STATUSES = frozenset({"accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed",
                               "read", "receiving", "received", "scheduled", "canceled"})

router = APIRouter(prefix="/channels/twilio", tags=["twilio"])




class BaseUrlHttpClient(TwilioHttpClient):
    """The official HTTP client with every Twilio host (api., messaging., ...) replaced by one base URL."""

    def __init__(self, base_url: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        parts = urlsplit(url)
        return super().request(method, urlunsplit((self._scheme, self._netloc, parts.path, parts.query, "")),
                               *args, **kwargs)


def build_client(settings: TwilioSettings) -> Client:
    if settings.api_base_url:
        http_client = BaseUrlHttpClient(settings.api_base_url, timeout=settings.timeout_seconds)
    else:
        http_client = TwilioHttpClient(timeout=settings.timeout_seconds)
    return Client(settings.account_sid, settings.auth_token, http_client=http_client)


class TokenBucket:
    """At most ``rate`` sends per second per sender number, with a burst of one (Twilio's long-code pace)."""

    def __init__(self, rate: float, clock=time.monotonic, sleep=time.sleep) -> None:  # type: ignore[no-untyped-def]
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            self._sleep(wait)


class TwilioSender:
    """Sends one outbox row with ``messages.create`` and says whether a failure is worth retrying."""

    provider = PROVIDER

    def __init__(self, settings: TwilioSettings, public_url: str, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client or build_client(settings)
        self.status_callback = public_url.rstrip("/") + STATUS_PATH
        self.bucket = TokenBucket(settings.messages_per_second)

    def send(self, message: OutgoingMessage) -> SendResult:
        self.bucket.acquire()
        try:
            sent = self.client.messages.create(
                to=message.address, from_=self.settings.from_number, body=message.text,
                # The outbox id in the callback URL: if the send times out or the process dies after
                # Twilio accepted it, the callback still marks the row sent, and it is not sent twice.
                status_callback=f"{self.status_callback}?outbox_id={message.outbox_id}",
            )
        except TwilioRestException as exc:
            return SendResult(ok=False, status="failed", transient=exc.status in TRANSIENT_STATUSES,
                              error_code=str(exc.code or exc.status), error_message=str(exc.msg)[:500])
        except (requests.Timeout, requests.ConnectionError) as exc:
            return SendResult(ok=False, status="failed", transient=True, error_code="timeout",
                              error_message=type(exc).__name__)
        return SendResult(ok=True, provider_message_id=sent.sid, status=sent.status or "queued")


def public_request_url(public_url: str, request: Request) -> str:
    """The URL Twilio signed: the configured public base (the proxy's), this path and query."""
    query = request.url.query
    return public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


async def verified_form(request: Request) -> dict[str, str]:
    """The posted form, or 403 when the signature is missing or does not match."""
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.twilio.auth_token
    form = {key: str(value) for key, value in (await request.form()).multi_items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    url = public_request_url(runtime.settings.public_url, request)
    if not signature_valid(token, url, form, signature):
        raise HTTPException(status_code=403, detail="invalid or missing X-Twilio-Signature")
    return form


def signature_valid(token: str | None, url: str, form: dict[str, str], signature: str) -> bool:
    """Whether Twilio signed this form for this URL. One HMAC settles the usual case (Twilio signs the URL
    configured in its console, ours); the validator also tries the URL with and without its port."""
    if not token or not signature or not signature.isascii():  # a base64 HMAC is ASCII; compare_digest needs it
        return False
    validator = _validator(token)
    return hmac.compare_digest(validator.compute_signature(url, form), signature) or validator.validate(
        url, form, signature)


_EMPTY_TWIML = str(MessagingResponse())  # built once: every inbound SMS is answered with it
_EMPTY_TWIML_BYTES = _EMPTY_TWIML.encode()


def _twiml(response: MessagingResponse | None = None) -> Response:
    return Response(str(response) if response is not None else _EMPTY_TWIML, media_type="application/xml")


def inbound_from_form(form: dict[str, str]) -> tuple[InboundMessage, list[str]]:
    """The message a verified inbound-SMS form carries, and the notices to store with it; 400 when malformed."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or "From" not in form:
        raise HTTPException(status_code=400, detail="MessageSid and From are required")
    try:
        address = to_e164(form["From"])
    except InvalidPhoneNumber:
        address = form["From"][:64]  # short codes and alphanumeric senders are still residents' threads
    try:
        media_count = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        raise HTTPException(status_code=400, detail="NumMedia must be a number") from None
    media = [form[f"MediaUrl{i}"] for i in range(min(media_count, 10)) if form.get(f"MediaUrl{i}")]
    message = InboundMessage(channel="sms", address=address, text=form.get("Body", ""), provider_id=sid,
                             received_at=datetime.now(UTC), provider=PROVIDER, media_urls=media)
    # Photos stay attached to the stored message (and so to the open ticket); the resident is told, in the
    # transaction that stores the message, so a retry of it tells them nothing twice.
    return message, [channel_texts()["photo_not_readable"]] if media else []


@router.post("/sms", summary="Inbound SMS webhook (signed by Twilio)")
async def inbound_sms(request: Request) -> Response:
    form = await verified_form(request)
    message, notices = inbound_from_form(form)
    stored = await store_for_webhook(request, message, notices)
    await hand_over(request.app, stored)  # the engine runs right after this answer (bot/inbound/decisions.py)
    return _twiml()


class InboundSmsFastPath:
    """ASGI middleware: a well-formed, correctly signed inbound SMS is stored and answered right here.

    Same checks and same storing as :func:`inbound_sms`, without FastAPI's routing, dependency and
    exception layers, which cost more than the storing itself (docs/channels.md has the figures).
    Anything else — no or a wrong signature, a missing field, another content type, a body over
    ``max_body``, any error — goes on to that route with its body intact, which answers it.
    """

    def __init__(self, app: ASGIApp, max_body: int = 64 * 1024) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != SMS_PATH
                or scope.get("query_string")):
            await self.app(scope, receive, send)
            return
        events: list[AsgiEvent] = []
        size, complete = 0, False
        while size <= self.max_body:
            event = await receive()
            events.append(event)
            if event["type"] != "http.request":
                break
            size += len(event.get("body", b""))
            if not event.get("more_body", False):
                complete = size <= self.max_body
                break
        if complete and await self._answer(scope, b"".join(e.get("body", b"") for e in events), send):
            return
        await self.app(scope, _replay(events, receive), send)

    async def _answer(self, scope: Scope, body: bytes, send: Send) -> bool:
        """True when stored and answered; False to let the route answer (nothing was sent)."""
        headers = dict(scope["headers"])
        signature = headers.get(b"x-twilio-signature", b"").decode("latin-1")
        if headers.get(b"content-type", b"").split(b";")[0].strip() != b"application/x-www-form-urlencoded":
            return False
        app = scope["app"]
        runtime: Runtime = app.state.runtime
        token = runtime.settings.twilio.auth_token
        try:
            form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
            if not signature_valid(token, runtime.settings.public_url.rstrip("/") + SMS_PATH, form, signature):
                return False
            message, notices = inbound_from_form(form)
            stored = await store_for_app(app, message, notices)
        except Exception:  # the route tries again and answers with the right status (400, 503...)
            return False
        await hand_over(app, stored)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/xml"),
                                (b"content-length", str(len(_EMPTY_TWIML_BYTES)).encode())]})
        await send({"type": "http.response.body", "body": _EMPTY_TWIML_BYTES})
        return True


def _replay(events: list[AsgiEvent], receive: Receive) -> Receive:
    """A ``receive`` giving back the events already read, then reading on."""
    pending = list(events)

    async def replayed() -> AsgiEvent:
        return pending.pop(0) if pending else await receive()

    return replayed


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


@router.post("/status", summary="Delivery status callback (signed by Twilio)")
async def status_callback(request: Request) -> Response:
    form = await verified_form(request)
    runtime: Runtime = request.app.state.runtime
    sid, status = form.get("MessageSid"), (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or status not in DELIVERY_STATUSES:
        raise HTTPException(status_code=400, detail="MessageSid and a known MessageStatus are required")
    error_code = form.get("ErrorCode") or None
    try:  # both are stored: refuse what no column can hold (NUL, absurd lengths) rather than crash
        check_identifier("MessageSid", sid, MAX_PROVIDER_ID_CHARS)
        if error_code is not None:
            check_identifier("ErrorCode", error_code, 20)
    except InvalidInbound as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None

    outbox_ref = request.query_params.get("outbox_id", "")

    def record() -> None:
        with runtime.db.transaction() as session:
            item = session.scalars(select(OutboxItem).where(OutboxItem.provider == PROVIDER,
                                                            OutboxItem.provider_message_id == sid)).first()
            if item is None and outbox_ref.isdigit() and len(outbox_ref) < 19:
                # Accepted by Twilio while the sender never heard back (timeout, SIGKILL): sent, not to resend.
                item = accepted_by_provider(session, int(outbox_ref), PROVIDER, sid, runtime.clock())
            sent = session.scalars(select(Message).where(Message.channel == "sms",
                                                         Message.provider_message_id == sid)).first()
            if sent is None and item is not None and item.message_id is not None:
                sent = session.get(Message, item.message_id)
            if sent is not None:
                sent.status, sent.error_code = status, error_code
            if item is not None and error_code:
                item.error_code = error_code
                # 21610 and 21211/21614 can also come late, in the callback: same consequence as at send time.
                apply_permanent_failure(session, item.resident_id, error_code, runtime.clock())

    await run_in_threadpool(record)
    return Response(status_code=204)
