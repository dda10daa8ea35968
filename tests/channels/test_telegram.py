"""python-telegram-bot's real Bot against a local Bot API stand-in (telegram-test-api + our wrapper)."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.channels.base import OutgoingMessage
from bot.channels.settings import TelegramSettings
from bot.channels.telegram import TelegramSender, make_bot, poll, split_text
from bot.db.models import Message, OutboxItem
from bot.outbox.dispatcher import dispatch_due

TOKEN = "123456789:AAH" + "x" * 32
SECRET = "s3cret-token_for-tests"


def _settings(base_url: str) -> TelegramSettings:
    return TelegramSettings(bot_token=TOKEN, webhook_secret=SECRET, api_base_url=base_url)


def _resident_says(base_url: str, chat_id: int, text: str) -> None:
    message = {"botToken": TOKEN, "from": {"id": chat_id, "first_name": "Awa", "is_bot": False},
               "chat": {"id": chat_id, "first_name": "Awa", "type": "private"}, "date": 1795390000, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
        httpx.post(f"{base_url}/sendCommand", json=message).raise_for_status()
    else:
        httpx.post(f"{base_url}/sendMessage", json=message).raise_for_status()


def _bot_said(base_url: str, chat_id: int) -> list[dict]:
    answer = httpx.post(f"{base_url}/getUpdates", json={"token": TOKEN, "chatId": chat_id}).json()
    return [update["message"] for update in answer["result"]]


@pytest.fixture
def telegram_runtime(runtime, telegram_api):
    settings = runtime.settings.model_copy(update={"telegram": _settings(telegram_api)})
    runtime = dataclasses.replace(runtime, settings=settings, senders=dict(runtime.senders))
    sender = TelegramSender(settings.telegram)
    runtime.senders["telegram"] = sender
    yield runtime
    sender.close()


def test_send_message_with_a_reply_keyboard_reaches_the_chat(telegram_api):
    sender = TelegramSender(_settings(telegram_api))
    try:
        result = sender.send(OutgoingMessage(outbox_id=1, channel="telegram", address="4242", text="Ca a marche ?",
                                             provider="telegram", reply_markup=[["OUI", "NON"], ["AIDE"]]))
    finally:
        sender.close()
    assert result.ok and result.provider_message_id
    [sent] = _bot_said(telegram_api, 4242)
    assert sent["text"] == "Ca a marche ?"
    assert [[button["text"] for button in row] for row in sent["reply_markup"]["keyboard"]] == [["OUI", "NON"],
                                                                                                 ["AIDE"]]


def test_a_long_text_goes_as_several_messages_of_at_most_4096_characters(telegram_api):
    text = ("Une phrase assez longue pour remplir. " * 250).strip()
    sender = TelegramSender(_settings(telegram_api))
    try:
        assert sender.send(OutgoingMessage(outbox_id=2, channel="telegram", address="4343", text=text,
                                           provider="telegram")).ok
    finally:
        sender.close()
    sent = [m["text"] for m in _bot_said(telegram_api, 4343)]
    assert len(sent) == 3 and all(len(piece) <= 4096 for piece in sent)
    assert " ".join(sent) == text


def test_split_keeps_every_character_and_cuts_at_spaces():
    assert split_text("a" * 5000) == ["a" * 4096, "a" * 904]
    assert split_text("court") == ["court"]
    assert split_text("mot " * 2000) == [("mot " * 1024).strip(), "mot " * 976]


def test_polling_answers_the_resident_once_through_the_same_engine(telegram_runtime, telegram_api):
    _resident_says(telegram_api, 5151, "jai oublie mon code caf")
    asyncio.run(poll(telegram_runtime, interval=0, rounds=2))
    replies = [m["text"] for m in _bot_said(telegram_api, 5151)]
    assert replies[0].startswith("Code CAF oublie.")
    assert replies[1].startswith("1/4 ")
    with telegram_runtime.db.transaction() as session:
        stored = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert (stored.channel, stored.provider, stored.body) == ("telegram", "telegram", "jai oublie mon code caf")


def test_start_command_opens_the_menu_with_a_keyboard(telegram_runtime, telegram_api):
    _resident_says(telegram_api, 5252, "/start")
    asyncio.run(poll(telegram_runtime, interval=0, rounds=1))
    said = _bot_said(telegram_api, 5252)
    assert said and said[0]["text"].startswith("Choisissez un sujet")


@pytest.fixture
def webhook_client(telegram_runtime):
    with TestClient(create_app(telegram_runtime.settings, telegram_runtime, background_jobs=False)) as client:
        yield client


async def _update_from_stand_in(base_url: str, chat_id: int, text: str) -> dict:
    """A real Update as the Bot API serialises it: injected as a user, read back by PTB's get_updates."""
    _resident_says(base_url, chat_id, text)
    async with make_bot(_settings(base_url)) as bot:
        [update] = await bot.get_updates(timeout=0)
        return update.to_dict()


def test_webhook_with_the_secret_is_answered_once_per_update_id(webhook_client, telegram_runtime, telegram_api):
    update = asyncio.run(_update_from_stand_in(telegram_api, 5353, "jai oublie mon code caf"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert webhook_client.post("/channels/telegram", json=update, headers=headers).status_code == 200
    assert webhook_client.post("/channels/telegram", json=update, headers=headers).status_code == 200
    with telegram_runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
        rows = session.scalars(select(OutboxItem)).all()
    assert len(rows) == 3 and {row.provider for row in rows} == {"telegram"}
    dispatch_due(telegram_runtime)
    # The intro, step 1 and the information of a first contact (tests/privacy).
    assert [m["text"][:8] for m in _bot_said(telegram_api, 5353)] == ["Code CAF", "1/4 Ouvr", "Service "]


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_webhook_without_the_secret_is_refused_and_nothing_stored(webhook_client, telegram_runtime, secret):
    update = {"update_id": 99, "message": {"message_id": 1, "date": 1795390000, "text": "AIDE",
                                           "chat": {"id": 1, "type": "private"}}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    assert webhook_client.post("/channels/telegram", json=update, headers=headers).status_code == 403
    with telegram_runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_webhook_with_a_malformed_body_is_a_4xx(webhook_client):
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert webhook_client.post("/channels/telegram", content=b"\xff\x00", headers=headers).status_code == 400
    assert webhook_client.post("/channels/telegram", json={"update_id": "x"}, headers=headers).status_code == 400

