"""Telegram through python-telegram-bot: webhook for production, polling for a laptop, one sender.

Updates become ``InboundMessage`` (idempotent on ``update_id``) and take the same path as SMS;
replies carry reply keyboards, since Telegram users can tap the keywords and numbered choices.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from telegram import Bot, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.base import InboundMessage, OutgoingMessage, SendResult
from bot.channels.settings import TelegramSettings
from bot.channels.texts import channel_texts
from bot.inbound.acks import store_for_webhook
from bot.inbound.decisions import hand_over
from bot.inbound.pipeline import ReceiveResult, receive
from bot.runtime import Runtime

PROVIDER = "telegram"
MAX_MESSAGE_CHARS = 4096  # Bot API limit for one sendMessage text
# /start opens the conversation: the resident gets the main menu, as if they had typed MENU.
START_COMMAND, START_AS = "/start", "MENU"

router = APIRouter(prefix="/channels", tags=["telegram"])


def make_bot(settings: TelegramSettings) -> Bot:
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        return Bot(settings.bot_token or "", base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
    return Bot(settings.bot_token or "")


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break or a space when there is one."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def keyboard(rows: list[list[str]] | None) -> ReplyKeyboardMarkup | None:
    if not rows:
        return None
    return ReplyKeyboardMarkup([list(row) for row in rows], resize_keyboard=True, one_time_keyboard=True)


class TelegramSender:
    """Sends outbox rows with ``Bot.send_message`` on its own event loop (senders are called from threads)."""

    provider = PROVIDER

    def __init__(self, settings: TelegramSettings, bot: Bot | None = None) -> None:
        self.bot = bot or make_bot(settings)
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        with self._lock:
            return self._loop.run_until_complete(self._send(message))

    async def _send(self, message: OutgoingMessage) -> SendResult:
        pieces = split_text(message.text)
        ids: list[str] = []
        try:
            for index, piece in enumerate(pieces):
                markup = keyboard(message.reply_markup) if index == len(pieces) - 1 else None
                sent = await self.bot.send_message(chat_id=int(message.address), text=piece, reply_markup=markup)
                ids.append(str(sent.message_id))
        except RetryAfter as exc:
            return SendResult(ok=False, status="failed", transient=True, error_code="retry_after",
                              error_message=str(exc)[:500])
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, BadRequest):
                return SendResult(ok=False, status="failed", error_code="bad_request", error_message=str(exc)[:500])
            return SendResult(ok=False, status="failed", transient=True, error_code="network",
                              error_message=str(exc)[:500])
        except Forbidden as exc:  # the resident blocked the bot: sending again cannot help
            return SendResult(ok=False, status="failed", error_code="forbidden", error_message=str(exc)[:500])
        except TelegramError as exc:
            return SendResult(ok=False, status="failed", error_code="telegram", error_message=str(exc)[:500])
        return SendResult(ok=True, provider_message_id=ids[-1], status="sent")

    def close(self) -> None:
        self._loop.run_until_complete(self.bot.shutdown())
        self._loop.close()


def inbound_from_update(update: Update) -> InboundMessage | None:
    """The resident's text message in ``update``, or None for what the bot does not handle (edits, joins...)."""
    message = update.message
    if message is None or message.chat is None:
        return None
    text = message.text or message.caption or ""
    if text.split("@", 1)[0].strip().lower() == START_COMMAND:
        text = START_AS
    media = []
    if message.photo:
        media.append(f"telegram-file:{message.photo[-1].file_id}")
    if message.document:
        media.append(f"telegram-file:{message.document.file_id}")
    if not text and not media:
        return None
    user = message.from_user
    return InboundMessage(
        channel="telegram", address=str(message.chat.id), text=text, provider_id=str(update.update_id),
        received_at=datetime.now(UTC), provider=PROVIDER, media_urls=media,
        display_name=user.first_name if user else None,
    )


def message_from_json(data: dict[str, Any]) -> InboundMessage | None:
    update = Update.de_json(data, None)
    return inbound_from_update(update) if update is not None else None


def notices_for(message: InboundMessage) -> list[str]:
    """Photos and files can't be read here: the resident is told with the storing of the message."""
    return [channel_texts()["photo_not_readable"]] if message.media_urls else []


def receive_update(runtime: Runtime, data: dict[str, Any]) -> ReceiveResult | None:
    """Store and decide one update at once (the webhook stores, then leaves the deciding to the worker)."""
    message = message_from_json(data)
    return receive(runtime, message, notices=notices_for(message)) if message is not None else None


@router.post("/telegram", summary="Telegram webhook (checked with X-Telegram-Bot-Api-Secret-Token)")
async def telegram_webhook(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    expected = runtime.settings.telegram.webhook_secret or ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="invalid or missing X-Telegram-Bot-Api-Secret-Token")
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(status_code=400, detail="body must be a JSON Update") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise HTTPException(status_code=400, detail="body must be a JSON Update with an integer update_id")
    try:
        message = message_from_json(data)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # PTB does not check field types
        raise HTTPException(status_code=400, detail=f"malformed Update: {type(exc).__name__}") from None
    if message is not None:
        stored = await store_for_webhook(request, message, notices_for(message))
        await hand_over(request.app, stored)  # the engine runs right after this answer (bot/inbound/decisions.py)
    return Response(status_code=200)


async def poll_once(runtime: Runtime, bot: Bot, offset: int | None) -> int | None:
    """Fetch pending updates, hand each to the core, return the next offset."""
    updates = await bot.get_updates(offset=offset, timeout=0, allowed_updates=["message"])
    for update in updates:
        try:
            message = inbound_from_update(update)
        except (AttributeError, TypeError, ValueError):  # one malformed update must not block the ones after it
            message = None
        if message is not None:
            await asyncio.to_thread(receive, runtime, message, notices=notices_for(message))
        offset = update.update_id + 1
    return offset


async def poll(runtime: Runtime, *, interval: float = 1.0, rounds: int | None = None) -> None:
    """Polling mode: no public URL needed. Replies are sent by the outbox dispatcher after each round."""
    from bot.outbox.dispatcher import dispatch_due

    bot = make_bot(runtime.settings.telegram)
    async with bot:
        await bot.delete_webhook()
        offset: int | None = None
        done = 0
        while rounds is None or done < rounds:
            offset = await poll_once(runtime, bot, offset)
            await asyncio.to_thread(dispatch_due, runtime)
            done += 1
            await asyncio.sleep(interval)
