"""Where every resident message enters the core, whatever its channel: stored first, decided right after.

``store`` keeps the message once (its provider id is unique per channel: a provider's retry
changes nothing and gets no second reply), with its secrets redacted, and commits: from then on
it cannot be lost, and a webhook can answer. ``decide_next`` then runs the conversation engine on
the resident's oldest undecided message and applies what it decided — replies into the outbox,
tickets, opt-out — in ONE transaction, one message at a time per resident, in arrival order.

Webhooks store and leave the deciding to the worker (bot/inbound/decisions.py), which also picks up
messages a crash left undecided; ``receive`` does both at once (simulator, Telegram polling, tests).

Inbound message status: ``received`` (stored, waiting for a decision), ``decided``, ``throttled``
(kept during a flood, not answered: bot/inbound/flood.py), ``failed`` (the engine raised on it).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Insert, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.base import InboundMessage
from bot.channels.texts import channel_texts
from bot.db import DatabaseUnavailable
from bot.db.models import AuditEntry, Conversation, Message, OutboxItem, Resident, Structure, Ticket, UtcDateTime
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
from bot.engine.keywords import Keyword, match_keyword
from bot.engine.workshop_events import CancelEnrolment, EnrolRequested, FollowupsSwitched, ReminderAnswered
from bot.inbound.flood import RECENT_BY_RESIDENT as _RECENT_BY_RESIDENT
from bot.inbound.flood import throttle_if_flooding
from bot.outbox.queue import cancel_notifications, enqueue
from bot.privacy.apply import apply_privacy_event, inform_if_first_contact
from bot.privacy.secrets import redact, redaction_texts
from bot.reminders.schedule import schedule_procedure_followup
from bot.runtime import Runtime
from bot.structures import default_structure
from bot.tickets.escalation import reopen_if_recent, ticket_opened
from bot.tickets.notify import TicketNotice, notify_after_commit
from bot.workshops.apply import apply_workshop_event, resident_view_parts

# Longer than any SMS (Twilio caps at 1,600) or Telegram message (4,096); the rest is dropped.
MAX_INBOUND_CHARS = 4096
# Control characters other than newline and tab: PostgreSQL refuses NUL, nobody reads the others.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

RECEIVED, DECIDED, FAILED = "received", "decided", "failed"  # inbound statuses (and "throttled": bot/inbound/flood.py)
_ALWAYS_HEARD = (Keyword.STOP, Keyword.START)


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


@dataclass(frozen=True)
class Stored:
    """An inbound message safely stored (the webhook may answer), not yet decided."""

    duplicate: bool
    message_id: int | None = None
    resident_id: int | None = None
    outbox_ids: list[int] = field(default_factory=list)  # notices queued with it: photo, secret, flood
    throttled: bool = False

    @property
    def to_decide(self) -> bool:
        return not self.duplicate and not self.throttled and self.message_id is not None


@dataclass(frozen=True)
class Decision:
    """What the engine made of one stored message."""

    message_id: int
    outbox_ids: list[int]
    ticket_id: int | None


class DecisionFailed(Exception):
    """The engine or an event raised on this message; it is marked ``failed`` and never retried."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"deciding message {message_id} failed")
        self.message_id = message_id


def receive(runtime: Runtime, message: InboundMessage, *, notices: Sequence[str] = ()) -> ReceiveResult:
    """Store ``message``, then decide it at once (and any earlier message of the same resident still waiting).

    Callers that must answer fast (webhooks) call :func:`store` and leave the deciding to the
    worker (bot/inbound/decisions.py); the simulator and tests call this. Raises DatabaseUnavailable when down.
    """
    stored = store(runtime, message, notices=notices)
    if stored.duplicate:
        return ReceiveResult(duplicate=True, resident_id=stored.resident_id)
    decision = decide_through(runtime, stored) if stored.to_decide else None
    if decision is None and stored.to_decide:  # the worker took it between our storing and our deciding
        decision = _decided_elsewhere(runtime, stored)
    return ReceiveResult(
        duplicate=False,
        message_id=stored.message_id,
        resident_id=stored.resident_id,
        outbox_ids=stored.outbox_ids + (decision.outbox_ids if decision else []),
        ticket_id=decision.ticket_id if decision else None,
    )


def _decided_elsewhere(runtime: Runtime, stored: Stored) -> Decision | None:
    """What another decider made of ``stored``: the replies queued in answer to it, after the notices."""
    assert stored.message_id is not None
    with runtime.db.transaction() as session:
        message = session.get(Message, stored.message_id)
        if message is None:
            return None
        replies = session.scalars(select(OutboxItem.id).where(OutboxItem.in_reply_to == message.id)
                                  .order_by(OutboxItem.id))
        return Decision(message_id=message.id, outbox_ids=[i for i in replies if i not in stored.outbox_ids],
                        ticket_id=message.ticket_id)


def store(runtime: Runtime, message: InboundMessage, *, notices: Sequence[str] = ()) -> Stored:
    """Store ``message`` once (its provider id is unique per channel), secrets redacted, and commit.

    The single point where inbound text is first kept: what the database, the engine, the NLU, the
    console and the logs ever see is the redacted text. In the same transaction: the ``notices``
    (e.g. "photos can't be read here"), the one-time warning about secrets, and flood throttling.
    """
    (result,) = store_many(runtime, [(message, notices)])
    if isinstance(result, Exception):
        raise result
    return result


def store_many(runtime: Runtime, items: Sequence[tuple[InboundMessage, Sequence[str]]]) -> list[Stored | Exception]:
    """Store several messages in ONE transaction, as :func:`store` does for one: one commit for a burst.

    A message that raises is stored again alone, so that it fails alone (its result is the exception);
    DatabaseUnavailable is raised for all of them.
    """
    try:
        with runtime.db.transaction() as session:
            return _store_batch(session, runtime, items)
    except DatabaseUnavailable:
        raise
    except Exception:
        if len(items) == 1:
            raise
    results: list[Stored | Exception] = []
    for message, notices in items:
        try:
            results.append(store(runtime, message, notices=notices))
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            results.append(exc)
    return results


def _store_batch(session: Session, runtime: Runtime,
                 items: Sequence[tuple[InboundMessage, Sequence[str]]]) -> list[Stored]:
    now = runtime.clock()
    connection = session.connection()
    residents: dict[tuple[str, str], _Sender] = {}
    addresses = sorted({message.address for message, _ in items})
    for row in connection.execute(_RESIDENTS_BY_ADDRESS, {"addresses": addresses}):
        residents[(row.channel, row.address)] = _Sender(row.id, warned=row.secret_warning_at is not None)
    for message, _ in items:
        key = (message.channel, message.address)
        if key not in residents:  # a first message
            residents[key] = _Sender(_new_resident(session, runtime, message, now), warned=False)
    ids = sorted({residents[(message.channel, message.address)].resident_id for message, _ in items})
    # Written first: row locks on PostgreSQL (taken in id order, so two processes never wait on each other in
    # a cycle), the write lock on SQLite. One resident's messages are then stored one after the other, and
    # the flood count below sees every earlier one.
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_RESIDENTS, {"ids": ids})
    connection.execute(_TOUCH_RESIDENTS, {"ids": ids, "now": now})
    # Inbound messages of each sender within the flood window of the burst's earliest message (an upper bound
    # for every message of the burst); each message stored below adds one.
    since = min(message.received_at for message, _ in items) - timedelta(seconds=runtime.settings.flood.window_seconds)
    senders = {sender.resident_id: sender for sender in residents.values()}
    for resident_id, count in connection.execute(_RECENT_BY_RESIDENT, {"ids": ids, "since": since}):
        senders[resident_id].recent = count
    return [_store_one(session, runtime, message, notices, residents[(message.channel, message.address)], now)
            for message, notices in items]


@dataclass
class _Sender:
    resident_id: int
    warned: bool  # told already never to send secrets
    recent: int = 0  # inbound messages within the flood window (bot/inbound/flood.py), at most


def _store_one(session: Session, runtime: Runtime, message: InboundMessage, notices: Sequence[str],
               sender: _Sender, now: datetime) -> Stored:
    redaction = redact(clean_text(message.text))
    connection = session.connection()
    resident_id = sender.resident_id
    message_id = connection.execute(_insert_inbound_statement(connection.dialect.name), {
        "resident_id": resident_id, "direction": "in", "channel": message.channel, "provider": message.provider,
        "provider_message_id": message.provider_id, "body": redaction.text, "status": RECEIVED,
        "redacted_kinds": ",".join(redaction.kinds) or None, "media_urls": list(message.media_urls) or None,
        "created_at": message.received_at, "updated_at": message.received_at,
    }).scalar()
    if message_id is None:  # this provider id is stored already: the provider retried
        return Stored(duplicate=True, resident_id=resident_id)
    outbox_ids: list[int] = []
    if notices or (redaction.kinds and not sender.warned):
        resident = session.get(Resident, resident_id)
        assert resident is not None
        outbox_ids += [enqueue(session, resident, text, provider=message.provider, kind="reply", now=now,
                               in_reply_to=message_id).id for text in notices]
        if redaction.kinds and not sender.warned:  # told once, plainly, never to send such numbers again
            outbox_ids.append(enqueue(session, resident, redaction_texts().resident_warning,
                                      provider=message.provider, kind="reply", now=now, in_reply_to=message_id).id)
            resident.secret_warning_at, sender.warned = now, True
    sender.recent += 1
    # STOP and START are always heard, flood or not: opting out must work at once, every time.
    # Below the limit counted for the whole burst (an upper bound) no message can be flooding: no query.
    throttled = None if (sender.recent <= runtime.settings.flood.max_messages
                         or match_keyword(redaction.text) in _ALWAYS_HEARD) else throttle_if_flooding(
        session, runtime.settings.flood, resident_id, message_id, message.received_at, now,
        wait_text=channel_texts()["flood_wait"], provider=message.provider)
    if throttled is not None:
        outbox_ids += throttled.outbox_ids
        if throttled.opened_ticket and throttled.ticket_id is not None:
            _notify_team(session, runtime, resident_id, throttled.ticket_id)
    return Stored(duplicate=False, message_id=message_id, resident_id=resident_id, outbox_ids=outbox_ids,
                  throttled=throttled is not None)


# Built once: on the webhooks' path, building a SQLAlchemy statement costs more than running it.
_RESIDENT_ROW = select(Resident.id, Resident.secret_warning_at).where(
    Resident.channel == bindparam("channel"), Resident.address == bindparam("address"))
_RESIDENTS_BY_ADDRESS = select(Resident.id, Resident.channel, Resident.address, Resident.secret_warning_at).where(
    Resident.address.in_(bindparam("addresses", expanding=True)))
_LOCK_RESIDENTS = (select(Resident.id).where(Resident.id.in_(bindparam("ids", expanding=True)))
                   .order_by(Resident.id).with_for_update())
_TOUCH_RESIDENTS = (update(Resident).where(Resident.id.in_(bindparam("ids", expanding=True)))
                    .values(last_contact_at=bindparam("now", type_=UtcDateTime())))


@cache
def _insert_inbound_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: no id back when the provider id is stored already."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (insert(Message).on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
            .returning(Message.id))


def decide_through(runtime: Runtime, stored: Stored) -> Decision | None:
    """Decide the resident's waiting messages in arrival order, up to ``stored``; its decision.

    None when someone else (the worker, another process) decided it first.
    """
    assert stored.resident_id is not None and stored.message_id is not None
    while True:
        try:
            decision = decide_next(runtime, stored.resident_id, wait=True)
        except DecisionFailed as failed:
            if failed.message_id == stored.message_id:
                raise
            continue  # an earlier message failed (marked, logged): go on with the next one
        if decision is None or decision.message_id >= stored.message_id:
            return decision if decision is not None and decision.message_id == stored.message_id else None


def decide_next(runtime: Runtime, resident_id: int, *, wait: bool) -> Decision | None:
    """Decide the oldest undecided message of one resident, in its own transaction.

    Never two at once for one resident: a lock in this process, and the conversation's row lock on
    PostgreSQL across processes. With ``wait=False`` (the worker) a resident someone else is
    deciding is skipped: None. None as well when nothing is left to decide.
    """
    if not _deciding.acquire(resident_id, wait=wait):
        return None
    try:
        return _decide_oldest(runtime, resident_id, skip_locked=not wait)
    finally:
        _deciding.release(resident_id)


def undecided_residents(runtime: Runtime, limit: int = 50) -> list[int]:
    """Residents with messages waiting for a decision, the longest waiting first."""
    with runtime.db.transaction() as session:
        oldest = func.min(Message.id)
        rows = session.execute(
            select(Message.resident_id, oldest)
            .where(Message.direction == "in", Message.status == RECEIVED)
            .group_by(Message.resident_id).order_by(oldest).limit(limit)
        ).all()
    return [resident_id for resident_id, _ in rows]


def count_undecided(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Message)
                              .where(Message.direction == "in", Message.status == RECEIVED)) or 0


def mark_failed(runtime: Runtime, message_id: int) -> None:
    """A message the engine could not decide: kept, flagged in the audit log, never retried in a loop."""
    with runtime.db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != RECEIVED:
            return
        message.status = FAILED
        session.add(AuditEntry(action="decision_failed", resident_id=message.resident_id,
                               ticket_id=message.ticket_id, detail=f"message {message_id}",
                               created_at=runtime.clock()))


class _ResidentLocks:
    """Which residents this process is deciding right now."""

    def __init__(self) -> None:
        self._busy: set[int] = set()
        self._changed = threading.Condition()

    def acquire(self, resident_id: int, *, wait: bool) -> bool:
        with self._changed:
            while resident_id in self._busy:
                if not wait:
                    return False
                self._changed.wait()
            self._busy.add(resident_id)
            return True

    def release(self, resident_id: int) -> None:
        with self._changed:
            self._busy.discard(resident_id)
            self._changed.notify_all()


_deciding = _ResidentLocks()


def _decide_oldest(runtime: Runtime, resident_id: int, *, skip_locked: bool) -> Decision | None:
    message_id: int | None = None
    try:
        with runtime.db.transaction() as session:
            conversation = _locked_conversation(session, resident_id, skip_locked=skip_locked)
            if conversation is None:
                return None
            inbound = session.scalars(
                select(Message).where(Message.resident_id == resident_id, Message.direction == "in",
                                      Message.status == RECEIVED)
                .order_by(Message.id).limit(1)
            ).first()
            if inbound is None:
                return None
            message_id = inbound.id
            resident = session.get(Resident, resident_id)
            assert resident is not None
            return _decide(session, runtime, resident, conversation, inbound)
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        if message_id is None:
            raise
        mark_failed(runtime, message_id)
        raise DecisionFailed(message_id) from exc


def _decide(session: Session, runtime: Runtime, resident: Resident, conversation: Conversation,
            inbound: Message) -> Decision:
    """Run the engine on ``inbound`` and apply its events. Reads first, writes last: on SQLite the
    write lock is only taken once the engine has decided, so webhooks storing meanwhile never wait
    for the NLU."""
    now = runtime.clock()
    open_ticket = _open_ticket(session, resident.id)
    if not inbound.body.strip() and inbound.media_urls:
        # A photo alone: its channel already said photos can't be read here (a notice stored with it);
        # it joins the open ticket for the mediator, and the engine has no words to read.
        inbound.status = DECIDED
        if open_ticket is not None:
            inbound.ticket_id, open_ticket.updated_at = open_ticket.id, now
        return Decision(message_id=inbound.id, outbox_ids=[], ticket_id=open_ticket.id if open_ticket else None)
    view_parts = resident_view_parts(session, resident, now)
    reopened_ids: list[int] = []
    if open_ticket is None:  # a ticket closed a few days ago reopens (bot/tickets/escalation.py)
        open_ticket, reopened_ids = reopen_if_recent(session, runtime, resident, inbound, now,
                                                     answering_reminder=view_parts["awaiting"] is not None)
    outcome = respond(
        Turn(
            state=ConversationState.from_dict(conversation.state),
            text=inbound.body,
            now=now,
            resident=ResidentView(opted_out=resident.opted_out, has_open_ticket=open_ticket is not None,
                                  **view_parts),
        ),
        runtime.engine_context(),
    )
    inbound.status = DECIDED
    if open_ticket is not None:
        inbound.ticket_id = open_ticket.id
        open_ticket.updated_at = now
    applied = _apply(session, runtime, resident, inbound, outcome.events, now)
    applied.outbox_ids[:0] = reopened_ids
    if applied.ticket_id is not None:  # tell the resident honestly when a mediator will answer
        applied.outbox_ids += ticket_opened(session, runtime, resident, inbound, applied.ticket_id, now)
    conversation.state = outcome.state.to_dict()
    return Decision(message_id=inbound.id, outbox_ids=applied.outbox_ids,
                    ticket_id=applied.ticket_id or (open_ticket.id if open_ticket else None))


def _notify_team(session: Session, runtime: Runtime, resident_id: int, ticket_id: int) -> None:
    resident = session.get(Resident, resident_id)
    structure = session.get(Structure, resident.structure_id) if resident and resident.structure_id else None
    notify_after_commit(session, runtime.settings, TicketNotice(ticket_id, structure.name if structure else "-", None))


def _new_resident(session: Session, runtime: Runtime, message: InboundMessage, now: datetime) -> int:
    """The id of a resident created for this first message (or of the one a concurrent message created)."""
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
            # Created with the resident: the row deciders lock, so it must exist before any decision.
            session.add(Conversation(resident_id=resident.id, state={}))
            session.flush()
    except IntegrityError:  # the same resident's first two messages raced; the other one won
        found = session.connection().execute(_RESIDENT_ROW, {"channel": message.channel,
                                                              "address": message.address}).one()
        return int(found.id)
    return resident.id


def _locked_conversation(session: Session, resident_id: int, *, skip_locked: bool) -> Conversation | None:
    """The resident's conversation, row-locked on PostgreSQL (None when another process holds it)."""
    query = select(Conversation).where(Conversation.resident_id == resident_id).with_for_update(
        skip_locked=skip_locked)
    conversation = session.scalars(query).first()
    if conversation is None:  # a resident stored before conversations were created with residents
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(Conversation).values(resident_id=resident_id, state={})
                        .on_conflict_do_nothing(index_elements=["resident_id"]))
        conversation = session.scalars(query).first()
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
