"""A new ticket is announced in the team's Telegram chat, through python-telegram-bot's real client
talking to a local stand-in of the Bot API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from bot.inbound.pipeline import receive
from tests.tickets.people import sms

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class BotApiStandIn(BaseHTTPRequestHandler):
    """Answers getMe and sendMessage like the Bot API does, and records what was sent."""

    sent: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(raw or "{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw).items()}
        method = self.path.rsplit("/", 1)[-1]
        if method == "getMe":
            result = {"id": 123456789, "is_bot": True, "first_name": "Relais", "username": "relais_bot"}
        elif method == "sendMessage":
            type(self).sent.append({"path": self.path, **params})
            result = {"message_id": len(type(self).sent), "date": 1_790_000_000,
                      "chat": {"id": int(params["chat_id"]), "type": "group", "title": "Equipe"},
                      "text": params["text"]}
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def bot_api():
    BotApiStandIn.sent = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), BotApiStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", BotApiStandIn.sent
    server.shutdown()
    server.server_close()


def _configure(runtime, base_url: str, chat_id: str | None = "-1001234") -> None:
    settings = runtime.settings
    runtime.settings = settings.model_copy(update={
        "telegram": settings.telegram.model_copy(update={"bot_token": TOKEN, "api_base_url": base_url}),
        "tickets": settings.tickets.model_copy(update={"notify_telegram_chat_id": chat_id}),
        "public_url": "https://relais.example.org",
    })


def _settle() -> None:
    """Wait until every notification thread has finished (they start after the commit)."""
    for thread in threading.enumerate():
        if thread.name.startswith("notify-ticket-"):
            thread.join(timeout=15)


def test_a_new_ticket_is_announced_without_what_the_resident_wrote(runtime, bot_api):
    base_url, sent = bot_api
    _configure(runtime, base_url)
    result = receive(runtime, sms("AIDE", "t1"))
    _settle()
    assert len(sent) == 1
    message = sent[0]
    assert message["path"] == f"/bot{TOKEN}/sendMessage" and str(message["chat_id"]) == "-1001234"
    assert f"n°{result.ticket_id}" in message["text"]
    assert f"https://relais.example.org/console/tickets/{result.ticket_id}" in message["text"]
    assert "AIDE" not in message["text"]


def test_messages_joining_an_open_ticket_announce_nothing_more(runtime, bot_api):
    base_url, sent = bot_api
    _configure(runtime, base_url)
    receive(runtime, sms("AIDE", "u1"))
    _settle()
    receive(runtime, sms("vous etes la ?", "u2"))
    receive(runtime, sms("AIDE", "u3"))
    _settle()
    assert len(sent) == 1


def test_without_a_chat_nothing_is_sent(runtime, bot_api):
    base_url, sent = bot_api
    _configure(runtime, base_url, chat_id=None)
    receive(runtime, sms("AIDE", "v1"))
    _settle()
    assert sent == []
