"""Telling on-duty mediators about a new ticket: a message to the team's Telegram chat.

The console shows a badge by itself (it polls); this is for mediators away from it. The
message carries the ticket number and a link, never what the resident wrote: a Telegram group
is no place for someone's CAF troubles. Sent after the ticket's transaction commits, from a
short-lived thread, so a slow Telegram never delays the resident's reply.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.tickets.texts import text
from bot.tickets.themes import themes

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TicketNotice:
    ticket_id: int
    structure: str
    theme: str | None
    reopened: bool = False


def notice_text(settings: Settings, notice: TicketNotice) -> str:
    url = f"{settings.public_url.rstrip('/')}/console/tickets/{notice.ticket_id}"
    if notice.reopened:
        return text("notify_reopened_ticket", ticket_id=notice.ticket_id, structure=notice.structure, url=url)
    theme = themes().get(notice.theme or "", notice.theme or "?")
    return text("notify_new_ticket", ticket_id=notice.ticket_id, structure=notice.structure, theme=theme, url=url)


def telegram_configured(settings: Settings) -> bool:
    return bool(settings.telegram.bot_token and settings.tickets.notify_telegram_chat_id)


async def send_telegram(settings: Settings, notice: TicketNotice) -> None:
    """Send the notice with python-telegram-bot (its Bot API client, pointed at ``api_base_url`` if set)."""
    from bot.channels.telegram import make_bot

    async with make_bot(settings.telegram) as bot:
        await bot.send_message(chat_id=settings.tickets.notify_telegram_chat_id, text=notice_text(settings, notice))


def notify_after_commit(session: Session, settings: Settings, notice: TicketNotice) -> None:
    """Send the notice once ``session`` commits (nothing when it rolls back or nothing is configured)."""
    if not telegram_configured(settings):
        return

    def run() -> None:
        try:
            asyncio.run(send_telegram(settings, notice))
        except Exception as exc:  # a notification lost must not break anything: log it
            log.warning("ticket_notification_failed", ticket_id=notice.ticket_id, error=type(exc).__name__)

    def start(_session: Session) -> None:
        threading.Thread(target=run, name=f"notify-ticket-{notice.ticket_id}", daemon=True).start()

    event.listen(session, "after_commit", start, once=True)
