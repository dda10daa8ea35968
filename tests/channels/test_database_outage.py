"""The database briefly unavailable: inbound webhooks answer 503 so the provider retries; nothing is lost.

On SQLite the outage is another process holding the database's write lock (a backup, a migration);
on PostgreSQL the server goes away: the app reaches it through a TCP proxy the test stops (cutting
every connection) and starts again. After recovery, the provider's retry of the very same request is
processed once: one stored message, one set of replies, exactly as for a resident who never met the outage.
"""

from __future__ import annotations

import dataclasses
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels.settings import TelegramSettings, TwilioSettings
from bot.db import connect
from bot.db.migrate import upgrade
from bot.db.models import Message, OutboxItem, Resident
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN

PUBLIC = "https://relais.example.org"
SECRET = "outage-secret-token_0123456789"
TEXT = "jai oublie mon code caf"


class TcpProxy:
    """Forwards a local port to PostgreSQL; ``stop`` is the server going away (connections cut, new ones
    refused), ``start`` it coming back on the same address."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Outage:
    url: str
    begin: Callable[[], None]
    end: Callable[[], None]


@pytest.fixture
def outage(fresh_database_url: str) -> Iterator[Outage]:
    if fresh_database_url.startswith("sqlite"):
        path = fresh_database_url.split("///", 1)[1]
        upgrade(connect(fresh_database_url))
        holder: list[sqlite3.Connection] = []

        def lock() -> None:  # another process takes the write lock and keeps it
            connection = sqlite3.connect(path, timeout=1, isolation_level=None)
            connection.execute("BEGIN EXCLUSIVE")
            holder.append(connection)

        def unlock() -> None:
            holder.pop().execute("ROLLBACK")

        yield Outage(fresh_database_url, lock, unlock)
        for connection in holder:
            connection.close()
        return
    parts = urlsplit(fresh_database_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    url = urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))
    database = connect(url)
    upgrade(database)
    database.dispose()
    yield Outage(url, proxy.stop, proxy.start)
    proxy.stop()


@pytest.fixture
def client(runtime, outage: Outage):
    settings = runtime.settings.model_copy(update={
        "database_url": outage.url, "public_url": PUBLIC,
        "twilio": TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"),
        "telegram": TelegramSettings(webhook_secret=SECRET),
    })
    database = connect(outage.url)
    if database.url.startswith("sqlite"):
        # A writer waits this long for the lock before giving up (5 s in production): keeps the test short.
        event.listen(database.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=300"))
    runtime = dataclasses.replace(runtime, settings=settings, db=database)
    with TestClient(create_app(settings, runtime, background_jobs=False), raise_server_exceptions=False) as test_client:
        test_client.runtime = runtime
        yield test_client
    database.dispose()


def _twilio(client: TestClient, sid: str, sender: str):  # type: ignore[no-untyped-def]
    form = {"MessageSid": sid, "From": sender, "To": "38123", "Body": TEXT, "NumMedia": "0"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/channels/twilio/sms", form)
    return client.post("/channels/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})


def _telegram(client: TestClient, update_id: str, chat: str):  # type: ignore[no-untyped-def]
    update = {"update_id": int(update_id), "message": {"message_id": 1, "date": 1795390000, "text": TEXT,
                                                       "chat": {"id": int(chat), "type": "private"}}}
    return client.post("/channels/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


def _simulator(client: TestClient, key: str, sender: str):  # type: ignore[no-untyped-def]
    return client.post("/simulator/api/messages", json={"from": sender, "text": TEXT, "id": key})


CHANNELS = {
    # name: (post, provider id for the outage, address, provider id for the control, its address, channel)
    "twilio": (_twilio, "SM" + "a" * 32, "+33612340001", "SM" + "b" * 32, "+33612340002", "sms"),
    "telegram": (_telegram, "7001", "5001", "7002", "5002", "telegram"),
    "simulator": (_simulator, "outage-1", "+33612340003", "control-1", "+33612340004", "sms"),
}


def _stored(client: TestClient, channel: str, address: str) -> tuple[int, int]:
    """(inbound messages, outbox rows) held for the resident at ``address``."""
    with client.runtime.db.transaction() as session:
        resident = session.scalars(select(Resident).where(Resident.channel == channel,
                                                          Resident.address == address)).first()
        if resident is None:
            return (0, 0)
        inbound = session.scalar(select(func.count()).select_from(Message).where(
            Message.resident_id == resident.id, Message.direction == "in"))
        outbox = session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.resident_id == resident.id))
        return (inbound, outbox)


@pytest.mark.parametrize("name", CHANNELS)
def test_an_inbound_message_during_an_outage_gets_503_and_its_retry_is_answered_once(client, outage, name):
    post, sid, address, control_sid, control_address, channel = CHANNELS[name]
    assert post(client, control_sid, control_address).status_code == 200  # a resident who met no outage
    expected = _stored(client, channel, control_address)
    assert expected[0] == 1 and expected[1] >= 1

    outage.begin()
    try:
        refused = post(client, sid, address)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] and "retry" in refused.json()["detail"]
        assert client.get("/healthz").status_code in (200, 503)  # answers, whatever it says
    finally:
        outage.end()

    assert _stored(client, channel, address) == (0, 0)  # nothing half-stored by the refused attempt
    for _retry in range(2):  # the provider retries; then retries again, as if our answer was lost
        assert post(client, sid, address).status_code == 200
    assert _stored(client, channel, address) == expected


def test_healthz_says_the_database_is_unreachable_while_it_is(client, outage):
    assert client.get("/healthz").status_code == 200
    outage.begin()
    try:
        answer = client.get("/healthz")
        if client.runtime.db.is_postgresql:
            assert answer.status_code == 503 and "unreachable" in answer.json()["database"]
        else:  # SQLite's write lock leaves reads going (WAL): the database does answer
            assert answer.status_code == 200
    finally:
        outage.end()
    assert client.get("/healthz").status_code == 200


def test_a_status_callback_during_an_outage_gets_503_and_its_retry_is_recorded(client, outage):
    assert _twilio(client, "SM" + "c" * 32, "+33612340005").status_code == 200
    with client.runtime.db.transaction() as session:
        reply = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).first()
        reply.provider_message_id = "SM" + "d" * 32
        message_id = reply.message_id
    form = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/channels/twilio/status", form)
    headers = {"X-Twilio-Signature": signature}
    outage.begin()
    try:
        assert client.post("/channels/twilio/status", data=form, headers=headers).status_code == 503
    finally:
        outage.end()
    assert client.post("/channels/twilio/status", data=form, headers=headers).status_code == 204
    with client.runtime.db.transaction() as session:
        assert session.get(Message, message_id).status == "delivered"
