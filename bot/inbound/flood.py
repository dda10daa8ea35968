"""Flood throttling: a number that sends too much in a short time is slowed down, never lost.

Past ``flood.max_messages`` inbound messages within ``flood.window_seconds``, a resident's
messages are still stored (status ``throttled``, attached to their ticket) but the bot no longer
answers each of them: the resident gets one short SMS asking them to wait, and the mediators get
a ticket (reason ``flood``) in their queue, or an audit entry on the ticket already open. A new
flood after a calm spell is told and flagged again. Other residents are not slowed at all: the
count is per resident, and throttled messages never reach the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.db.models import AuditEntry, Message, Resident, Ticket
from bot.outbox.queue import enqueue

THROTTLED = "throttled"  # the status of an inbound message kept but not answered
FLOOD_REASON = "flood"  # the reason of the ticket flagging a flood to the mediators


class FloodSettings(BaseModel):
    """When one number's messages stop being answered one by one."""

    max_messages: int = Field(
        default=12, ge=1, description="Messages from one number answered within the window; more are throttled."
    )
    window_seconds: int = Field(default=60, ge=1, description="The sliding window the messages are counted in.")


@dataclass(frozen=True)
class Throttled:
    """A message kept without an answer; ``outbox_ids`` holds the wait SMS when the flood just began."""

    outbox_ids: list[int]
    ticket_id: int | None
    opened_ticket: bool = False  # the caller tells the team once the transaction commits


# Built once: they run for every burst of inbound messages.
RECENT_BY_RESIDENT = (select(Message.resident_id, func.count()).where(
    Message.resident_id.in_(bindparam("ids", expanding=True)), Message.direction == "in",
    Message.created_at > bindparam("since")).group_by(Message.resident_id))
_RECENT_INBOUND = select(func.count()).select_from(Message).where(
    Message.resident_id == bindparam("resident_id"), Message.direction == "in",
    Message.created_at > bindparam("since"), Message.id <= bindparam("message_id"))


def throttle_if_flooding(session: Session, settings: FloodSettings, resident_id: int, message_id: int,
                         received_at: datetime, now: datetime, *, wait_text: str, provider: str) -> Throttled | None:
    """Mark the just-stored message ``throttled`` when its sender is flooding; None when it is not.

    Called in the storing transaction after the resident's row was written, so that one resident's
    messages are counted one after the other (row lock on PostgreSQL, one writer on SQLite).
    """
    since = received_at - timedelta(seconds=settings.window_seconds)
    recent = session.connection().execute(
        _RECENT_INBOUND, {"resident_id": resident_id, "since": since, "message_id": message_id}).scalar() or 0
    if recent <= settings.max_messages:
        return None
    resident = session.get(Resident, resident_id)
    assert resident is not None
    previous = session.scalar(
        select(Message.status).where(Message.resident_id == resident.id, Message.direction == "in",
                                     Message.id < message_id)
        .order_by(Message.id.desc()).limit(1)
    )
    ticket = session.scalars(
        select(Ticket).where(Ticket.resident_id == resident.id, Ticket.status != "closed")
        .order_by(Ticket.opened_at.desc())
    ).first()
    stored = session.get(Message, message_id)
    assert stored is not None
    stored.status = THROTTLED
    if previous == THROTTLED:  # the flood goes on: already told, already flagged
        stored.ticket_id = ticket.id if ticket else None
        return Throttled([], ticket.id if ticket else None)

    opened = ticket is None
    if ticket is None:
        ticket = Ticket(resident_id=resident.id, structure_id=resident.structure_id, status="open",
                        reason=FLOOD_REASON, opened_at=now, waiting_since=now)
        session.add(ticket)
        session.flush()
    stored.ticket_id = ticket.id
    ticket.updated_at = now
    session.add(AuditEntry(action="flood_throttled", ticket_id=ticket.id, resident_id=resident.id,
                           detail=f"more than {settings.max_messages} messages in {settings.window_seconds} s",
                           created_at=now))
    item = enqueue(session, resident, wait_text, provider=provider, kind="reply", in_reply_to=message_id, now=now,
                   ticket_id=ticket.id)
    return Throttled([item.id], ticket.id, opened_ticket=opened)
