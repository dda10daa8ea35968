"""End-to-end fault harness: a real `relais serve` process, a provider that retries webhooks, and a
fault-injecting stand-in for Twilio's REST API. Used by tests/faults/ and benchmarks/soak.py.

Everything goes through the HTTP interface only, so the checks hold whatever the server's internals:
- :class:`RelaisServer` runs ``relais serve`` as a subprocess (SQLite or PostgreSQL), killable with SIGKILL;
- :class:`Provider` plays Twilio delivering inbound SMS: signed webhooks (twilio's RequestValidator),
  retried until a 2xx, as Twilio does with connection overrides; it knows which messages it saw acknowledged;
- :class:`ProviderSink` plays Twilio's Messages API for the server's sender (the official twilio client,
  pointed at it by ``RELAIS_TWILIO_API_BASE_URL``): it answers 201 with a new SID each time, or injects
  500s, hangs (never accepted) and late accepts (accepted, answered after the client gave up), then
  calls the message's signed status callback, retrying until the server answers;
- :func:`check` reads the database once the traffic is settled: every acknowledged message stored, every
  reply it caused accepted by the sink exactly once, no message processed twice.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
FROM_NUMBER = "+33700000000"
SMS_PATH = "/channels/twilio/sms"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


# -- the server under test ------------------------------------------------------------------------


class RelaisServer:
    """`relais serve` in its own process group, configured through the environment."""

    def __init__(self, database_url: str, sink_url: str, workdir: Path, *, port: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.config = workdir / "relais.yml"
        self.config.write_text("log_level: WARNING\n", encoding="utf-8")
        self.env = {
            **os.environ,
            "RELAIS_DATABASE_URL": database_url,
            "RELAIS_PUBLIC_URL": self.url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "RELAIS_TWILIO__FROM_NUMBER": FROM_NUMBER,
            "RELAIS_TWILIO_API_BASE_URL": sink_url,
            "RELAIS_TWILIO__MESSAGES_PER_SECOND": "500",
            "RELAIS_TWILIO__TIMEOUT_SECONDS": "1",
            "RELAIS_OUTBOX__BACKOFF_BASE_SECONDS": "0.5",
            "RELAIS_OUTBOX__BACKOFF_CAP_SECONDS": "4",
            "RELAIS_OUTBOX__MAX_ATTEMPTS": "10",
            "RELAIS_OUTBOX__STALE_SENDING_SECONDS": "8",
            "RELAIS_OUTBOX__UNCONFIRMED_RETRY_SECONDS": "8",
            **(env or {}),
        }
        for name in ("TWILIO_EDGE", "TWILIO_REGION", "RELAIS_CONFIG"):
            self.env.pop(name, None)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, ready_timeout: float = 60.0) -> float:
        """Start and wait for /healthz; returns the seconds it took."""
        began = time.monotonic()
        relais = Path(sys.executable).parent / "relais"
        command = [str(relais)] if relais.exists() else [sys.executable, "-m", "bot.cli"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [*command, "serve", "-c", str(self.config), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.starts += 1
        deadline = began + ready_timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"relais serve exited with {self.process.returncode}: see {self.log_path}")
                try:
                    if client.get(self.url + "/healthz").status_code == 200:
                        return time.monotonic() - began
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"relais serve not ready after {ready_timeout} s: see {self.log_path}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def rss_kib(self) -> int | None:
        """Resident memory of the server process (VmRSS), or None when it is not running."""
        if self.process is None or self.process.poll() is not None:
            return None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a power cut would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


# -- Twilio delivering inbound SMS ----------------------------------------------------------------


@dataclass
class Delivery:
    sid: str
    address: str
    body: str
    acked: bool = False
    attempts: int = 0
    latency: float | None = None  # seconds of the attempt that got the 2xx


class Provider:
    """Delivers signed inbound webhooks and retries every one that does not get a 2xx."""

    def __init__(self, server_url: str, *, timeout: float = 15.0, give_up_after: float = 120.0) -> None:
        self.url = server_url + SMS_PATH
        self.validator = RequestValidator(AUTH_TOKEN)
        self.timeout, self.give_up_after = timeout, give_up_after
        self.deliveries: list[Delivery] = []
        self.statuses: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=self.timeout)
        return client

    def form(self, sid: str, address: str, body: str, media: list[str] | None = None) -> dict[str, str]:
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": address, "To": FROM_NUMBER,
                "Body": body, "NumMedia": str(len(media or [])), "NumSegments": "1"}
        for index, url in enumerate(media or []):
            form[f"MediaUrl{index}"] = url
            form[f"MediaContentType{index}"] = "image/jpeg"
        return form

    def deliver(self, address: str, body: str, *, sid: str | None = None, media: list[str] | None = None,
                duplicate: bool = False) -> Delivery:
        """Post until a 2xx (or ``give_up_after``). ``duplicate``: then post it once more, as a retry would."""
        delivery = Delivery(sid or new_sid(), address, body)
        with self._lock:
            self.deliveries.append(delivery)
        form = self.form(delivery.sid, address, body, media)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.url, form),
                   "I-Twilio-Idempotency-Token": delivery.sid}
        began = time.monotonic()
        pause = 0.1
        while time.monotonic() < began + self.give_up_after:  # read each time: a run may shorten it
            delivery.attempts += 1
            attempt_began = time.monotonic()
            try:
                response = self._client().post(self.url, data=form, headers=headers)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
                response = None
            with self._lock:
                self.statuses[status] += 1
            if response is not None and 200 <= response.status_code < 300:
                delivery.acked, delivery.latency = True, time.monotonic() - attempt_began
                break
            if response is not None and 400 <= response.status_code < 500:
                break  # refused: Twilio does not retry a 4xx
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        if duplicate and delivery.acked:
            try:
                self._client().post(self.url, data=form, headers=headers)
            except httpx.HTTPError:
                pass
        return delivery

    def acked(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.acked]

    def unacked(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if not d.acked]


# -- Twilio's Messages API, with faults -----------------------------------------------------------


@dataclass
class Faults:
    """Probabilities per send; change them while running (the soak does)."""

    error_500: float = 0.0
    hang: float = 0.0          # never accepted: the client times out
    late_accept: float = 0.0   # accepted, answered only after the client timed out
    hang_seconds: float = 1.6  # longer than RELAIS_TWILIO__TIMEOUT_SECONDS


@dataclass
class Accepted:
    sid: str
    to: str
    body: str
    outbox_id: int | None
    at: float


class ProviderSink:
    """A stand-in for POST /2010-04-01/Accounts/{sid}/Messages.json that records what it accepted."""

    def __init__(self, faults: Faults | None = None, *, seed: int = 1, callback_give_up: float = 300.0) -> None:
        self.faults = faults or Faults()
        self.rng = random.Random(seed)
        self.accepted: list[Accepted] = []
        self.injected: Counter[str] = Counter()
        self.callbacks_delivered = 0
        self.callback_give_up = callback_give_up
        self._lock = threading.Lock()
        self._callbacks: queue.Queue[tuple[str, dict[str, str], float] | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> str:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except ConnectionError:
                    pass  # the server was killed mid-request: nothing to report

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
                if not self.path.endswith("/Messages.json") or "To" not in form:
                    self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                sink.handle(self, form)

            def _json(self, status: int, payload: dict[str, object]) -> None:
                import json

                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        for _ in range(4):  # Twilio calls back in parallel
            threading.Thread(target=self._call_back, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        for _ in range(4):
            self._callbacks.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, handler, form: dict[str, str]) -> None:  # noqa: ANN001
        with self._lock:
            draw = self.rng.random()
        faults = self.faults
        if draw < faults.error_500:
            with self._lock:
                self.injected["500"] += 1
            handler._json(500, {"code": 20500, "message": "Internal Server Error (injected)", "status": 500})
            return
        if draw < faults.error_500 + faults.hang:
            with self._lock:
                self.injected["hang"] += 1
            time.sleep(faults.hang_seconds)
            handler.close_connection = True  # never answered, never accepted
            return
        late = draw < faults.error_500 + faults.hang + faults.late_accept
        sid = new_sid()
        callback = form.get("StatusCallback") or ""
        outbox = parse_qs(urlsplit(callback).query).get("outbox_id", [None])[0]
        with self._lock:
            self.accepted.append(Accepted(sid, form["To"], form.get("Body", ""),
                                          int(outbox) if outbox and outbox.isdigit() else None, time.monotonic()))
            if late:
                self.injected["late_accept"] += 1
        if callback:
            self._callbacks.put((callback, {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID,
                                            "MessageStatus": "sent", "To": form["To"], "From": FROM_NUMBER},
                                 time.monotonic() + self.callback_give_up))
        if late:
            time.sleep(faults.hang_seconds)
        handler._json(201, {"sid": sid, "status": "queued", "to": form["To"], "from": FROM_NUMBER,
                            "body": form.get("Body", ""), "account_sid": ACCOUNT_SID, "num_segments": "1"})

    def _call_back(self) -> None:
        """Signed status callbacks, retried until the server answers (Twilio's #rc connection override)."""
        validator = RequestValidator(AUTH_TOKEN)
        with httpx.Client(timeout=5.0) as client:
            while True:
                job = self._callbacks.get()
                if job is None:
                    return
                url, form, give_up = job
                try:
                    response = client.post(url, data=form,
                                            headers={"X-Twilio-Signature": validator.compute_signature(url, form)})
                    done = response.status_code < 500
                except httpx.HTTPError:
                    done = False
                if done:
                    with self._lock:
                        self.callbacks_delivered += 1
                elif time.monotonic() < give_up:
                    threading.Timer(0.3, self._callbacks.put, args=[job]).start()

    def pending_callbacks(self) -> int:
        return self._callbacks.qsize()


# -- the verdict ----------------------------------------------------------------------------------


@dataclass
class Verdict:
    acked: int
    unacked: int
    stored: int
    replies: int                      # outbox rows answering acknowledged messages
    lost: list[str] = field(default_factory=list)           # acknowledged, but not stored or a reply never sent
    unanswered: list[str] = field(default_factory=list)     # acknowledged and stored, but no reply at all
    sent_twice: dict[int, int] = field(default_factory=dict)  # outbox id -> times the sink accepted it
    processed_twice: list[str] = field(default_factory=list)  # one inbound message, the same reply queued twice
    replies_per_message: Counter[int] = field(default_factory=Counter)
    replies_by_sid: dict[str, int] = field(default_factory=dict)
    outbox_states: Counter[str] = field(default_factory=Counter)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.sent_twice.values()) + len(self.processed_twice)

    def summary(self) -> str:
        return (f"acked={self.acked} unacked={self.unacked} stored={self.stored} replies={self.replies} "
                f"lost={len(self.lost)} unanswered={len(self.unanswered)} duplicates={self.duplicates} "
                f"replies_per_message={dict(sorted(self.replies_per_message.items()))} "
                f"outbox={dict(self.outbox_states)}")


def _snapshot(database_url: str, sids: list[str]):  # noqa: ANN202
    from sqlalchemy import create_engine, select

    from bot.db.models import Message, OutboxItem

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            inbound = {}
            for start in range(0, len(sids), 500):
                chunk = sids[start:start + 500]
                rows = connection.execute(select(Message.id, Message.provider_message_id).where(
                    Message.direction == "in", Message.provider == "twilio",
                    Message.provider_message_id.in_(chunk)))
                inbound.update({sid: message_id for message_id, sid in rows})
            outbox = connection.execute(select(OutboxItem.id, OutboxItem.in_reply_to, OutboxItem.status,
                                               OutboxItem.body, OutboxItem.provider)).all()
        return inbound, outbox
    finally:
        engine.dispose()


def check(database_url: str, provider: Provider, sink: ProviderSink, *, settle_timeout: float = 60.0,
          progress=None) -> Verdict:  # noqa: ANN001
    """Wait until the server has nothing left to send, then compare the provider, the sink and the database."""
    acked = provider.acked()
    sids = [d.sid for d in acked]
    deadline = time.monotonic() + settle_timeout
    while True:
        inbound, outbox = _snapshot(database_url, sids)
        busy = [row for row in outbox if row.provider == "twilio" and row.status in ("pending", "sending")]
        if progress is not None:
            progress(f"stored {len(inbound)}/{len(sids)}, outbox busy {Counter(r.status for r in busy)}, "
                     f"callbacks queued {sink.pending_callbacks()}")
        if (len(inbound) == len(sids) and not busy and not sink.pending_callbacks()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    with sink._lock:
        accepted = Counter(a.outbox_id for a in sink.accepted if a.outbox_id is not None)
    by_message: dict[int, list] = defaultdict(list)
    for row in outbox:
        if row.in_reply_to is not None:
            by_message[row.in_reply_to].append(row)
    verdict = Verdict(acked=len(acked), unacked=len(provider.unacked()), stored=len(inbound),
                      replies=sum(len(by_message[m]) for m in inbound.values()),
                      outbox_states=Counter(row.status for row in outbox))
    for delivery in acked:
        message_id = inbound.get(delivery.sid)
        if message_id is None:
            verdict.lost.append(delivery.sid)
            continue
        replies = by_message[message_id]
        verdict.replies_per_message[len(replies)] += 1
        verdict.replies_by_sid[delivery.sid] = len(replies)
        if not replies:
            verdict.unanswered.append(delivery.sid)
        if any(accepted[row.id] == 0 for row in replies):
            verdict.lost.append(delivery.sid)
        bodies = Counter(row.body for row in replies)
        if any(n > 1 for n in bodies.values()):
            verdict.processed_twice.append(delivery.sid)
    verdict.sent_twice = {outbox_id: n for outbox_id, n in accepted.items() if n > 1}
    return verdict
