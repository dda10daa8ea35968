"""What happens around a handover, called by ``bot.inbound.receive`` in its transaction.

- a ticket just opened: the resident is told honestly when a mediator will answer, and the
  team is notified;
- a resident writing again soon after their ticket was closed: the ticket reopens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Message, Resident, Structure, Ticket
from bot.engine.keywords import Keyword, match_keyword
from bot.engine.privacy import PRIVACY_PENDING
from bot.outbox.queue import enqueue
from bot.runtime import Runtime
from bot.tickets.hours import OpeningHours, expected_wait
from bot.tickets.notify import TicketNotice, notify_after_commit
from bot.tickets.service import reopen_recent

# Keywords that never reopen a ticket: they are about the messages, not the request.
_NOT_A_REQUEST = frozenset({Keyword.STOP, Keyword.START, Keyword.MY_DATA, Keyword.FORGET})


def wait_text(runtime: Runtime, structure: Structure | None, now: datetime) -> str:
    settings = runtime.settings.tickets
    hours = OpeningHours.parse(structure.opening_hours if structure else None, settings.timezone,
                               settings.closed_on_public_holidays)
    return expected_wait(hours, structure.typical_response_hours if structure else 2, now)


def ticket_opened(session: Session, runtime: Runtime, resident: Resident, inbound: Message, ticket_id: int,
                  now: datetime) -> list[int]:
    """Queue the expected-wait SMS and the team's notification; returns the outbox ids queued."""
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    structure = session.get(Structure, ticket.structure_id) if ticket.structure_id else None
    item = enqueue(session, resident, wait_text(runtime, structure, now), provider=inbound.provider, kind="reply",
                   in_reply_to=inbound.id, now=now, ticket_id=ticket.id)
    notify_after_commit(session, runtime.settings,
                        TicketNotice(ticket.id, structure.name if structure else "-", ticket.theme))
    return [item.id]


def _answering_privacy_question(session: Session, resident_id: int) -> bool:
    state = session.scalar(select(Conversation.state).where(Conversation.resident_id == resident_id))
    return ((state or {}).get("pending") or {}).get("kind") in PRIVACY_PENDING


def reopen_if_recent(session: Session, runtime: Runtime, resident: Resident, inbound: Message, now: datetime,
                     *, answering_reminder: bool) -> tuple[Ticket | None, list[int]]:
    """Reopen the resident's recently closed ticket when they write again (not to answer a reminder
    or to say STOP); the resident is told when a mediator will answer."""
    if answering_reminder or match_keyword(inbound.body.strip()) in _NOT_A_REQUEST:
        return None, []
    if _answering_privacy_question(session, resident.id):  # the OUI to MES DONNEES / OUBLIER
        return None, []
    ticket = reopen_recent(session, resident.id, now, runtime.settings.tickets.reopen_within_days)
    if ticket is None:
        return None, []
    structure = session.get(Structure, ticket.structure_id) if ticket.structure_id else None
    item = enqueue(session, resident, wait_text(runtime, structure, now), provider=inbound.provider, kind="reply",
                   in_reply_to=inbound.id, now=now, ticket_id=ticket.id)
    notify_after_commit(session, runtime.settings,
                        TicketNotice(ticket.id, structure.name if structure else "-", ticket.theme, reopened=True))
    return ticket, [item.id]
