"""Putting a message in the outbox, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.db.models import Message, OutboxItem, Resident
from bot.sms.gsm7 import prepare


def enqueue(
    session: Session,
    resident: Resident,
    text: str,
    *,
    provider: str,
    kind: str = "reply",
    now: datetime,
    in_reply_to: int | None = None,
    keyboard: Sequence[str] | None = None,
    author_id: int | None = None,
    ticket_id: int | None = None,
) -> OutboxItem:
    """Queue ``text`` for ``resident`` and record it in their message history.

    SMS text is prepared for GSM-7 here, once, so what the history shows is what the phone gets.
    """
    encoding, segments = "GSM-7", 1
    if resident.channel == "sms":
        prepared = prepare(text)
        text, encoding, segments = prepared.text, prepared.encoding, prepared.segments
    message = Message(
        resident_id=resident.id,
        direction="out",
        channel=resident.channel,
        provider=provider,
        body=text,
        status="pending",
        author_id=author_id,
        ticket_id=ticket_id,
        segments=segments,
        created_at=now,
    )
    session.add(message)
    session.flush()
    item = OutboxItem(
        resident_id=resident.id,
        message_id=message.id,
        in_reply_to=in_reply_to,
        channel=resident.channel,
        provider=provider,
        address=resident.address,
        body=text,
        reply_markup=[list(keyboard)] if keyboard and resident.channel == "telegram" else None,
        kind=kind,
        encoding=encoding,
        segments=segments,
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def cancel_notifications(session: Session, resident_id: int) -> None:
    """Drop queued messages the resident did not ask for (after STOP); replies still go."""
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.resident_id == resident_id, OutboxItem.kind == "notification",
               OutboxItem.status == "pending")
        .values(status="cancelled", error_message="opted out")
    )


def enqueue_detached(session: Session, *, channel: str, address: str, provider: str, text: str,
                     now: datetime) -> OutboxItem:
    """Queue ``text`` to an address no resident row holds any more (the SMS confirming an erasure).

    No message row (there is no history to keep it in) and no resident link; the dispatcher forgets
    the address once the row is sent or has finally failed (bot/outbox/dispatcher.py).
    """
    encoding, segments = "GSM-7", 1
    if channel == "sms":
        prepared = prepare(text)
        text, encoding, segments = prepared.text, prepared.encoding, prepared.segments
    item = OutboxItem(
        resident_id=None, message_id=None, channel=channel, provider=provider, address=address, body=text,
        kind="reply", encoding=encoding, segments=segments, status="pending", next_attempt_at=now, created_at=now,
    )
    session.add(item)
    session.flush()
    return item
