"""Small builders for ticket tests: structures, mediators, residents and their tickets."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.channels.base import InboundMessage
from bot.db.models import Mediator, Message, Resident, Structure, Ticket
from bot.mediators import create_mediator

WEEKDAYS_9_TO_18 = {day: ["09:00-12:00", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
PASSWORD = "correct-horse-battery"


def structure(session: Session, slug: str, **extra: object) -> Structure:
    found = Structure(slug=slug, name=f"Centre {slug}", opening_hours=extra.pop("opening_hours", WEEKDAYS_9_TO_18),
                      **extra)
    session.add(found)
    session.flush()
    return found


def mediator(session: Session, email: str, structures: list[Structure], role: str = "mediator") -> Mediator:
    return create_mediator(session, email=email, display_name=email.split("@")[0].title(), password=PASSWORD,
                           structures=structures, role=role)


def resident_with_ticket(session: Session, where: Structure, address: str = "+33612345678", *,
                         provider: str = "simulator", text: str = "AIDE", status: str = "open",
                         now: datetime | None = None) -> Ticket:
    now = now or datetime.now(UTC)
    resident = Resident(channel="sms", address=address, structure_id=where.id, first_contact_at=now,
                        last_contact_at=now)
    session.add(resident)
    session.flush()
    ticket = Ticket(resident_id=resident.id, structure_id=where.id, status=status, reason="asked", opened_at=now,
                    waiting_since=now)
    session.add(ticket)
    session.flush()
    session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider=provider,
                        provider_message_id=f"{address}-{ticket.id}", body=text, ticket_id=ticket.id,
                        created_at=now))
    session.flush()
    return ticket


def sms(text: str, provider_id: str, address: str = "+33612345678", at: datetime | None = None) -> InboundMessage:
    return InboundMessage(channel="sms", address=address, text=text, provider_id=provider_id,
                          received_at=at or datetime.now(UTC), provider="simulator")
