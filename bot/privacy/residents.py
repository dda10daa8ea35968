"""A resident's rights over what Relais holds about them: see it all (export), a summary, erase it.

Shared by the CLI (``relais residents export|erase|purge``), the SMS keywords MES DONNEES and
OUBLIER (applied in bot/inbound/pipeline.py) and the retention job (bot/privacy/retention.py). Every
function works in the caller's transaction.

Erasing keeps only what the structure's reports count and nothing about the person:
- each ticket becomes an :class:`AnonymousTicket` (theme, outcome, day opened, delays);
- a past workshop seat stays, without its resident, so attendance figures do not change;
- audit entries stay (they say what mediators did) but lose their link to the resident and ticket;
- everything else goes: the resident row, conversation state, messages, notes, reminders, outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.channels.phone import to_e164
from bot.db.models import (
    AnonymousTicket,
    AuditEntry,
    Conversation,
    Enrolment,
    Message,
    OutboxItem,
    Reminder,
    Resident,
    Ticket,
    TicketNote,
    Workshop,
)
from bot.workshops.service import active_enrolments, cancel


class UnknownResident(LookupError):
    """No resident has this number (or Telegram chat id)."""


def normalise_address(raw: str, channel: str = "sms") -> str:
    """The address as residents are stored: E.164 for SMS (raises InvalidPhoneNumber), as is for Telegram."""
    return to_e164(raw) if channel == "sms" else raw.strip()


def find_resident(session: Session, address: str, channel: str = "sms") -> Resident:
    resident = session.scalars(
        select(Resident).where(Resident.channel == channel, Resident.address == address)
    ).first()
    if resident is None:
        raise UnknownResident(address)
    return resident


# -- export -------------------------------------------------------------------------------------


def _row(obj: Any, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of an ORM row, JSON-ready (datetimes and dates in ISO 8601)."""
    data: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.key in without:
            continue
        value = getattr(obj, column.key)
        data[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


def export_resident(session: Session, resident: Resident) -> dict[str, Any]:
    """Everything held about ``resident``, as plain JSON-ready data."""
    rid = resident.id
    conversation = session.scalars(select(Conversation).where(Conversation.resident_id == rid)).first()
    tickets = list(session.scalars(select(Ticket).where(Ticket.resident_id == rid).order_by(Ticket.id)))
    ticket_ids = [ticket.id for ticket in tickets]
    notes: dict[int, list[dict[str, Any]]] = {}
    if ticket_ids:
        for note in session.scalars(select(TicketNote).where(TicketNote.ticket_id.in_(ticket_ids))
                                    .order_by(TicketNote.id)):
            notes.setdefault(note.ticket_id, []).append(_row(note))
    enrolments = [
        {**_row(enrolment), "workshop": {"title": workshop.title, "starts_at": workshop.starts_at.isoformat(),
                                         "place_name": workshop.place_name}}
        for enrolment, workshop in session.execute(
            select(Enrolment, Workshop).join(Workshop, Workshop.id == Enrolment.workshop_id)
            .where(Enrolment.resident_id == rid).order_by(Enrolment.id))
    ]
    audit_filter = AuditEntry.resident_id == rid
    if ticket_ids:
        audit_filter = or_(audit_filter, AuditEntry.ticket_id.in_(ticket_ids))
    return {
        "resident": _row(resident),
        "conversation": _row(conversation) if conversation else None,
        "messages": [_row(m) for m in session.scalars(select(Message).where(Message.resident_id == rid)
                                                      .order_by(Message.id))],
        "tickets": [{**_row(ticket), "notes": notes.get(ticket.id, [])} for ticket in tickets],
        "enrolments": enrolments,
        "reminders": [_row(r) for r in session.scalars(select(Reminder).where(Reminder.resident_id == rid)
                                                       .order_by(Reminder.id))],
        "outbox": [_row(o) for o in session.scalars(select(OutboxItem).where(OutboxItem.resident_id == rid)
                                                    .order_by(OutboxItem.id))],
        "audit": [_row(a) for a in session.scalars(select(AuditEntry).where(audit_filter).order_by(AuditEntry.id))],
    }


# -- summary (MES DONNEES) ------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSummary:
    messages: int
    tickets: int
    workshops: int
    since: datetime


def summarise(session: Session, resident: Resident) -> DataSummary:
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(model.resident_id == resident.id))
                   or 0)

    return DataSummary(messages=count(Message), tickets=count(Ticket), workshops=count(Enrolment),
                       since=resident.first_contact_at)


# -- erasure --------------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure removed or anonymised (counts only: it is logged and audited)."""

    residents: int = 0
    messages: int = 0
    tickets: int = 0
    notes: int = 0
    enrolments_kept_anonymous: int = 0
    enrolments_cancelled: int = 0
    reminders: int = 0
    outbox: int = 0
    audit_unlinked: int = 0

    def add(self, other: Erasure) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def describe(self) -> str:
        return " ".join(f"{name}={getattr(self, name)}" for name in self.__dataclass_fields__)


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds() // 60) if start and end else None


def anonymise_ticket(ticket: Ticket, now: datetime) -> AnonymousTicket:
    return AnonymousTicket(
        structure_id=ticket.structure_id, opened_on=ticket.opened_at.date(), reason=ticket.reason,
        theme=ticket.theme, subtheme=ticket.subtheme, service=ticket.service, intent=ticket.intent,
        guide_id=ticket.guide_id, step_id=ticket.step_id, status=ticket.status, outcome=ticket.outcome,
        reopened_count=ticket.reopened_count, minutes_to_claim=_minutes(ticket.opened_at, ticket.claimed_at),
        minutes_to_close=_minutes(ticket.opened_at, ticket.closed_at), anonymised_at=now,
    )


def erase_resident(session: Session, resident: Resident, now: datetime, *, reason: str) -> Erasure:
    """Erase ``resident``: delete what is personal, keep anonymous counts, audit it without the number.

    ``reason`` says who asked (``sms``, ``cli``, ``retention``); it goes in the audit entry.
    """
    return erase_residents(session, [resident], now, reason=reason)


def erase_residents(session: Session, residents: list[Resident], now: datetime, *, reason: str) -> Erasure:
    """Erase several residents at once (the retention purge's batches): the same statements as for one,
    each over the whole batch, and one audit entry with the batch's counts."""
    ids = [resident.id for resident in residents]
    done = Erasure(residents=len(ids))
    if not ids:
        return done
    # A seat in a workshop to come is freed first, so the waiting list moves up as after ANNULER.
    for rid in ids:
        for enrolment, _workshop in active_enrolments(session, rid, now):
            cancel(session, enrolment, now, provider=None)  # type: ignore[arg-type]  (promoted: their own way)
            done.enrolments_cancelled += 1

    tickets = list(session.scalars(select(Ticket).where(Ticket.resident_id.in_(ids))))
    ticket_ids = [ticket.id for ticket in tickets]
    session.add_all([anonymise_ticket(ticket, now) for ticket in tickets])
    audit_filter = AuditEntry.resident_id.in_(ids)
    if ticket_ids:
        audit_filter = or_(audit_filter, AuditEntry.ticket_id.in_(ticket_ids))
    done.audit_unlinked = _count(session.execute(
        update(AuditEntry).where(audit_filter).values(resident_id=None, ticket_id=None)
        .execution_options(synchronize_session=False)))
    # Past seats (attended, no-show, cancelled) stay for the workshops' figures, without the person.
    done.enrolments_kept_anonymous = _count(session.execute(
        update(Enrolment).where(Enrolment.resident_id.in_(ids)).values(resident_id=None)
        .execution_options(synchronize_session=False)))

    # Children before parents: the same order on every database, whatever its foreign-key settings.
    done.reminders = _delete(session, Reminder, Reminder.resident_id.in_(ids))
    done.outbox = _delete(session, OutboxItem, OutboxItem.resident_id.in_(ids))
    done.messages = _delete(session, Message, Message.resident_id.in_(ids))
    if ticket_ids:
        done.notes = _delete(session, TicketNote, TicketNote.ticket_id.in_(ticket_ids))
        _delete(session, Reminder, Reminder.ticket_id.in_(ticket_ids))
        _delete(session, Ticket, Ticket.id.in_(ticket_ids))
    done.tickets = len(ticket_ids)
    _delete(session, Conversation, Conversation.resident_id.in_(ids))
    _delete(session, Resident, Resident.id.in_(ids))
    _forget_loaded(session, set(ids), set(ticket_ids))
    session.add(AuditEntry(action="resident_erased", detail=f"{reason}: {done.describe()}"[:500], created_at=now))
    session.flush()
    return done


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def _delete(session: Session, model: Any, condition: Any) -> int:
    return _count(session.execute(delete(model).where(condition).execution_options(synchronize_session=False)))


def _forget_loaded(session: Session, resident_ids: set[int], ticket_ids: set[int]) -> None:
    """Detach the rows just deleted that the session still holds (the caller's resident, conversation,
    inbound message...): a change the caller makes to them afterwards must not be written back."""
    for obj in list(session):
        if (
            (isinstance(obj, Resident) and obj.id in resident_ids)
            or (isinstance(obj, Ticket) and obj.id in ticket_ids)
            or (isinstance(obj, TicketNote) and obj.ticket_id in ticket_ids)
            or (isinstance(obj, Conversation | Message | Reminder | OutboxItem)
                and getattr(obj, "resident_id", None) in resident_ids)
        ):
            session.expunge(obj)
        elif isinstance(obj, Enrolment) and obj.resident_id in resident_ids:
            session.expire(obj)  # it was kept, without its resident: read it again if needed
