"""Where every resident message enters the core, whatever its channel.

``receive`` stores the message idempotently, runs the conversation engine and applies what it
decided — replies into the outbox, tickets, opt-out — in ONE transaction. A provider retrying a
message it already delivered (same provider id) changes nothing and gets no second reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.base import InboundMessage
from bot.db.models import AuditEntry, Conversation, Message, Resident, Ticket
from bot.engine import ConversationState, ResidentView, Turn, respond
from bot.engine.events import (
    DataSummaryRequested,
    ErasureConfirmed,
    Event,
    GuideEnded,
    GuideStarted,
    MessageUnderstood,
    OpenTicket,
    OptedIn,
    OptedOut,
    SendReply,
)
from bot.engine.workshop_events import CancelEnrolment, EnrolRequested, FollowupsSwitched, ReminderAnswered
from bot.outbox.queue import cancel_notifications, enqueue
from bot.privacy.apply import apply_privacy_event, inform_if_first_contact
from bot.reminders.schedule import schedule_procedure_followup
from bot.runtime import Runtime
from bot.structures import default_structure
from bot.tickets.escalation import reopen_if_recent, ticket_opened
from bot.workshops.apply import apply_workshop_event, resident_view_parts

# Longer than any SMS (Twilio caps at 1,600) or Telegram message (4,096); the rest is dropped.
MAX_INBOUND_CHARS = 4096
# Control characters other than newline and tab: PostgreSQL refuses NUL, nobody reads the others.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ReceiveResult:
    duplicate: bool
    message_id: int | None = None
    resident_id: int | None = None
    outbox_ids: list[int] = field(default_factory=list)
    ticket_id: int | None = None


def clean_text(text: str) -> str:
    """What is kept of an inbound text: no control characters, no more than MAX_INBOUND_CHARS."""
    return _CONTROL.sub("", text)[:MAX_INBOUND_CHARS]


def receive(runtime: Runtime, message: InboundMessage) -> ReceiveResult:
    """Store ``message``, decide the answer and queue it. Raises DatabaseUnavailable when down."""
    now = runtime.clock()
    text = clean_text(message.text)
    with runtime.db.transaction() as session:
        resident = _resident(session, runtime, message, now)
        stored = Message(
            resident_id=resident.id,
            direction="in",
            channel=message.channel,
            provider=message.provider,
            provider_message_id=message.provider_id,
            body=text,
            status="received",
            media_urls=list(message.media_urls) or None,
            created_at=message.received_at,
        )
        try:
            with session.begin_nested():
                session.add(stored)
                session.flush()
        except IntegrityError:
            return ReceiveResult(duplicate=True, resident_id=resident.id)

        resident.last_contact_at = now
        conversation = _conversation(session, resident)
        open_ticket = _open_ticket(session, resident.id)
        view_parts = resident_view_parts(session, resident, now)
        reopened_ids: list[int] = []
        if open_ticket is None:  # a ticket closed a few days ago reopens (bot/tickets/escalation.py)
            open_ticket, reopened_ids = reopen_if_recent(session, runtime, resident, stored, now,
                                                         answering_reminder=view_parts["awaiting"] is not None)
        if open_ticket is not None:
            stored.ticket_id = open_ticket.id
            open_ticket.updated_at = now

        outcome = respond(
            Turn(
                state=ConversationState.from_dict(conversation.state),
                text=text,
                now=now,
                resident=ResidentView(opted_out=resident.opted_out, has_open_ticket=open_ticket is not None,
                                      **view_parts),
            ),
            runtime.engine_context(),
        )
        applied = _apply(session, runtime, resident, stored, outcome.events, now)
        applied.outbox_ids[:0] = reopened_ids
        if applied.ticket_id is not None:  # tell the resident honestly when a mediator will answer
            applied.outbox_ids += ticket_opened(session, runtime, resident, stored, applied.ticket_id, now)
        conversation.state = outcome.state.to_dict()
        return ReceiveResult(
            duplicate=False,
            message_id=stored.id,
            resident_id=resident.id,
            outbox_ids=applied.outbox_ids,
            ticket_id=applied.ticket_id or (open_ticket.id if open_ticket else None),
        )


def _resident(session: Session, runtime: Runtime, message: InboundMessage, now: datetime) -> Resident:
    query = select(Resident).where(Resident.channel == message.channel, Resident.address == message.address)
    resident = session.scalars(query).first()
    if resident is not None:
        return resident
    resident = Resident(
        channel=message.channel,
        address=message.address,
        display_name=message.display_name,
        structure_id=default_structure(session, runtime.settings).id,
        first_contact_at=now,
        last_contact_at=now,
    )
    try:
        with session.begin_nested():
            session.add(resident)
            session.flush()
    except IntegrityError:  # the same resident's first two messages raced; the other one won
        resident = session.scalars(query).one()
    return resident


def _conversation(session: Session, resident: Resident) -> Conversation:
    # Row lock on PostgreSQL: two messages from one resident are decided one after the other.
    query = select(Conversation).where(Conversation.resident_id == resident.id).with_for_update()
    conversation = session.scalars(query).first()
    if conversation is None:
        conversation = Conversation(resident_id=resident.id, state={})
        session.add(conversation)
        session.flush()
    return conversation


def _open_ticket(session: Session, resident_id: int) -> Ticket | None:
    query = (
        select(Ticket)
        .where(Ticket.resident_id == resident_id, Ticket.status != "closed")
        .order_by(Ticket.opened_at.desc())
    )
    return session.scalars(query).first()


@dataclass
class _Applied:
    outbox_ids: list[int] = field(default_factory=list)
    ticket_id: int | None = None


def _apply(
    session: Session,
    runtime: Runtime,
    resident: Resident,
    inbound: Message,
    events: list[Event],
    now: datetime,
) -> _Applied:
    applied = _Applied()
    for event in events:
        match event:
            case SendReply(text=text, keyboard=keyboard):
                item = enqueue(
                    session, resident, text, provider=inbound.provider, kind="reply", in_reply_to=inbound.id,
                    keyboard=keyboard, now=now,
                )
                applied.outbox_ids.append(item.id)
            case MessageUnderstood(intent=intent, confidence=confidence, service=service):
                inbound.intent, inbound.confidence, inbound.service = intent, confidence, service
            case OpenTicket():
                ticket = Ticket(
                    resident_id=resident.id,
                    structure_id=resident.structure_id,
                    status="open",
                    reason=event.reason,
                    theme=event.theme,
                    subtheme=event.subtheme,
                    guide_id=event.guide_id,
                    step_id=event.step_id,
                    intent=event.intent,
                    confidence=event.confidence,
                    service=event.service,
                    opened_at=now,
                    waiting_since=now,
                )
                session.add(ticket)
                session.flush()
                inbound.ticket_id = ticket.id
                applied.ticket_id = ticket.id
                session.add(AuditEntry(action="ticket_opened", ticket_id=ticket.id, resident_id=resident.id,
                                       detail=event.reason, created_at=now))
            case OptedOut():
                resident.opted_out, resident.opted_out_at = True, now
                cancel_notifications(session, resident.id)
            case OptedIn():
                resident.opted_out, resident.opted_out_at = False, None
            case GuideStarted(guide_id=guide_id):
                session.add(AuditEntry(action="guide_started", resident_id=resident.id, detail=guide_id,
                                       created_at=now))
            case GuideEnded(guide_id=guide_id, outcome=result, step_id=step_id):
                session.add(AuditEntry(action=f"guide_{result}", resident_id=resident.id,
                                       detail=f"{guide_id}:{step_id}", created_at=now))
                if result == "failed":
                    schedule_procedure_followup(session, resident.id, now, reason="guide_failed",
                                                service=runtime.library.get(guide_id).service
                                                if guide_id in runtime.library.guides else None,
                                                settings=runtime.settings.reminders)
            case EnrolRequested() | CancelEnrolment() | ReminderAnswered() | FollowupsSwitched():
                applied.outbox_ids += apply_workshop_event(session, runtime, resident, inbound, event, now)
            case DataSummaryRequested() | ErasureConfirmed():
                privacy = apply_privacy_event(session, runtime.settings, resident, inbound, event, now)
                applied.outbox_ids += privacy.outbox_ids
                if privacy.erased:  # nothing of the resident is left to apply anything to
                    return applied
    applied.outbox_ids += inform_if_first_contact(session, runtime.settings, resident, inbound, now)
    return applied
