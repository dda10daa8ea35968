"""What mediators do with tickets: see, claim, transfer, answer, note, close — and reopening.

Every function works in the caller's transaction and writes an audit entry. Visibility is
checked here, not in the web layer only: a mediator acts only on tickets of their structures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.config import ReminderSettings
from bot.db.models import AuditEntry, Mediator, Message, OutboxItem, Resident, Ticket, TicketNote
from bot.outbox.queue import enqueue
from bot.reminders.schedule import schedule_procedure_followup
from bot.tickets.themes import ADMIN_PROCEDURES, outcomes, subthemes, themes

MAX_REPLY_CHARS = 1000
MAX_NOTE_CHARS = 4000
STATES = ("open", "claimed", "closed")


class TicketError(Exception):
    """A ticket action refused; ``code`` is shown to the mediator through the console's texts."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def structure_ids(mediator: Mediator) -> list[int]:
    return [structure.id for structure in mediator.structures]


def visible(mediator: Mediator):  # noqa: ANN201 - a SQL expression
    """The condition a ticket must meet to be seen by ``mediator``: one of their structures."""
    return Ticket.structure_id.in_(structure_ids(mediator))


def get_ticket(session: Session, mediator: Mediator, ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The ticket if ``mediator`` may see it; ``TicketError('not_found')`` otherwise (never 'forbidden':
    a mediator must not learn that another structure's ticket exists)."""
    query = select(Ticket).where(Ticket.id == ticket_id, visible(mediator))
    if for_update:
        query = query.with_for_update(of=Ticket)
    ticket = session.scalars(query).first()
    if ticket is None:
        raise TicketError("not_found")
    return ticket


def counts(session: Session, mediator: Mediator) -> dict[str, int]:
    """How many visible tickets are in each state, plus how many are the mediator's own."""
    rows = session.execute(
        select(Ticket.status, func.count()).where(visible(mediator)).group_by(Ticket.status)
    ).all()
    found = {state: 0 for state in STATES}
    found.update({status: count for status, count in rows})
    found["mine"] = session.scalar(
        select(func.count()).where(visible(mediator), Ticket.status == "claimed", Ticket.assignee_id == mediator.id)
    ) or 0
    return found


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    total: int


def queue(session: Session, mediator: Mediator, state: str, *, page: int = 1, page_size: int = 50,
          mine: bool = False) -> QueuePage:
    """Visible tickets in ``state``; open and claimed ones longest waiting first, closed ones latest first."""
    if state not in STATES:
        raise TicketError("bad_state")
    where = [visible(mediator), Ticket.status == state]
    if mine:
        where.append(Ticket.assignee_id == mediator.id)
    order = Ticket.closed_at.desc() if state == "closed" else Ticket.waiting_since.asc()
    query = select(Ticket).where(*where).order_by(order, Ticket.id).limit(page_size).offset((page - 1) * page_size)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    return QueuePage(list(session.scalars(query)), total)


def claim(session: Session, mediator: Mediator, ticket_id: int, now: datetime) -> bool:
    """Take an open ticket. Atomic: of two mediators claiming at once, exactly one gets True.

    The conditional UPDATE is the whole trick: the database lets only one transaction turn
    ``open`` into ``claimed`` (PostgreSQL re-checks the WHERE after the first commits; SQLite
    has one writer at a time).
    """
    get_ticket(session, mediator, ticket_id)
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == "open", visible(mediator))
        .values(status="claimed", assignee_id=mediator.id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _audit(session, "ticket_claimed", mediator, ticket_id, now)
    return True


def transfer(session: Session, mediator: Mediator, ticket_id: int, to_mediator_id: int, now: datetime) -> Mediator:
    """Hand a ticket to a colleague of the ticket's structure; they become its assignee."""
    ticket = get_ticket(session, mediator, ticket_id, for_update=True)
    if ticket.status == "closed":
        raise TicketError("closed")
    if ticket.status == "claimed" and ticket.assignee_id != mediator.id and mediator.role != "admin":
        raise TicketError("not_yours")
    colleague = session.get(Mediator, to_mediator_id)
    if (colleague is None or not colleague.active
            or ticket.structure_id not in structure_ids(colleague)):
        raise TicketError("bad_colleague")
    previous = ticket.assignee_id
    ticket.status, ticket.assignee_id, ticket.updated_at = "claimed", colleague.id, now
    ticket.claimed_at = ticket.claimed_at or now
    _audit(session, "ticket_transferred", mediator, ticket.id, now,
           detail=f"from {previous or '-'} to {colleague.id}", resident_id=ticket.resident_id)
    return colleague


def colleagues(session: Session, ticket: Ticket) -> list[Mediator]:
    """Active mediators of the ticket's structure, for the transfer list."""
    query = select(Mediator).where(Mediator.active.is_(True)).order_by(Mediator.display_name)
    return [m for m in session.scalars(query) if ticket.structure_id in structure_ids(m)]


def reply_provider(session: Session, resident: Resident) -> str:
    """The provider the resident last wrote through: a reply goes back the same way."""
    provider = session.scalar(
        select(Message.provider).where(Message.resident_id == resident.id, Message.direction == "in")
        .order_by(Message.id.desc()).limit(1)
    )
    if provider is None:
        raise TicketError("no_channel")
    return provider


def reply(session: Session, mediator: Mediator, ticket_id: int, body: str, now: datetime) -> OutboxItem:
    """Send ``body`` to the resident through their own channel, via the outbox.

    An open ticket is claimed first (atomically); one claimed by a colleague is refused.
    """
    body = body.strip()
    if not body:
        raise TicketError("empty")
    if len(body) > MAX_REPLY_CHARS:
        raise TicketError("too_long", limit=MAX_REPLY_CHARS)
    ticket = get_ticket(session, mediator, ticket_id)
    if ticket.status == "closed":
        raise TicketError("closed")
    if ticket.status == "open":
        claim(session, mediator, ticket_id, now)  # True, or a colleague was faster: see below
        session.refresh(ticket)
    if ticket.assignee_id != mediator.id and mediator.role != "admin":
        raise TicketError("not_yours")
    resident = session.get(Resident, ticket.resident_id)
    assert resident is not None
    item = enqueue(session, resident, body, provider=reply_provider(session, resident), kind="reply", now=now,
                   author_id=mediator.id, ticket_id=ticket.id)
    ticket.updated_at = now
    _audit(session, "ticket_answered", mediator, ticket.id, now, resident_id=resident.id,
           detail=f"message {item.message_id}")
    return item


def add_note(session: Session, mediator: Mediator, ticket_id: int, body: str, now: datetime) -> TicketNote:
    body = body.strip()
    if not body:
        raise TicketError("empty")
    if len(body) > MAX_NOTE_CHARS:
        raise TicketError("too_long", limit=MAX_NOTE_CHARS)
    ticket = get_ticket(session, mediator, ticket_id)
    note = TicketNote(ticket_id=ticket.id, mediator_id=mediator.id, body=body, created_at=now)
    session.add(note)
    _audit(session, "note_added", mediator, ticket.id, now)
    return note


@dataclass(frozen=True)
class Closing:
    outcome: str  # resolu | oriente | a_revoir
    theme: str
    subtheme: str | None = None
    detail: str | None = None  # to whom the resident was referred, or what to review


def close(session: Session, mediator: Mediator, ticket_id: int, closing: Closing, now: datetime,
          reminders: ReminderSettings | None = None) -> Ticket:
    """Close with an outcome and a conseiller numérique theme (validated against themes.yml).

    With ``reminders``, the resident is asked a few days later whether the procedure was finished.
    """
    if closing.outcome not in outcomes():
        raise TicketError("bad_outcome")
    if closing.theme not in themes():
        raise TicketError("bad_theme")
    subtheme = closing.subtheme or None
    if subtheme is not None and (closing.theme != ADMIN_PROCEDURES or subtheme not in subthemes()):
        raise TicketError("bad_subtheme")
    detail = (closing.detail or "").strip() or None
    if closing.outcome == "oriente" and detail is None:
        raise TicketError("referral_missing")
    if detail is not None and len(detail) > 300:
        raise TicketError("too_long", limit=300)
    ticket = get_ticket(session, mediator, ticket_id, for_update=True)
    if ticket.status == "closed":
        raise TicketError("closed")
    if ticket.status == "claimed" and ticket.assignee_id != mediator.id and mediator.role != "admin":
        raise TicketError("not_yours")
    ticket.status, ticket.closed_at, ticket.updated_at = "closed", now, now
    ticket.assignee_id = ticket.assignee_id or mediator.id
    ticket.outcome, ticket.outcome_detail = closing.outcome, detail
    ticket.theme, ticket.subtheme = closing.theme, subtheme
    _audit(session, "ticket_closed", mediator, ticket.id, now, resident_id=ticket.resident_id,
           detail=f"{closing.outcome} {closing.theme}" + (f" {subtheme}" if subtheme else ""))
    if reminders is not None:
        schedule_procedure_followup(session, ticket.resident_id, now, service=ticket.service, reason="ticket_closed",
                                    ticket_id=ticket.id, settings=reminders)
    return ticket


def reopen_recent(session: Session, resident_id: int, now: datetime, within_days: int) -> Ticket | None:
    """Reopen the resident's ticket closed less than ``within_days`` ago, if any (the caller checked
    that none is open). It goes back to the queue, unassigned, waiting from now."""
    if within_days <= 0:
        return None
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.resident_id == resident_id, Ticket.status == "closed",
               Ticket.closed_at >= now - timedelta(days=within_days))
        .order_by(Ticket.closed_at.desc()).limit(1).with_for_update(of=Ticket)
    ).first()
    if ticket is None:
        return None
    return reopen(session, ticket, now)


def reopen(session: Session, ticket: Ticket, now: datetime, *, why: str = "") -> Ticket:
    """A closed ticket back in the queue: unassigned, no outcome, waiting from now; audited."""
    previous = f"{ticket.outcome or '-'} by {ticket.assignee_id or '-'}"
    ticket.status, ticket.assignee_id, ticket.claimed_at, ticket.closed_at = "open", None, None, None
    ticket.outcome = ticket.outcome_detail = None
    ticket.reopened_count += 1
    ticket.waiting_since = ticket.updated_at = now
    session.add(AuditEntry(action="ticket_reopened", ticket_id=ticket.id, resident_id=ticket.resident_id,
                           detail=f"was {previous}{(' ' + why) if why else ''}", created_at=now))
    return ticket


def history(session: Session, resident_id: int, *, limit: int = 500) -> list[Message]:
    """The resident's messages, oldest first (the latest ``limit``)."""
    rows = session.scalars(
        select(Message).where(Message.resident_id == resident_id).order_by(Message.id.desc()).limit(limit)
    )
    return list(reversed(list(rows)))


def past_tickets(session: Session, mediator: Mediator, resident_id: int, *, exclude: int | None = None) -> list[Ticket]:
    query = select(Ticket).where(Ticket.resident_id == resident_id, visible(mediator))
    if exclude is not None:
        query = query.where(Ticket.id != exclude)
    return list(session.scalars(query.order_by(Ticket.opened_at.desc()).limit(50)))


def _audit(session: Session, action: str, mediator: Mediator, ticket_id: int, now: datetime, *,
           detail: str | None = None, resident_id: int | None = None) -> None:
    session.add(AuditEntry(action=action, mediator_id=mediator.id, ticket_id=ticket_id, resident_id=resident_id,
                           detail=detail, created_at=now))
