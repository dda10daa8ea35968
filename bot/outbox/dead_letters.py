"""Dead letters: outbox rows whose retries are exhausted (status ``dead``), for the console.

A mediator sees those of residents of their own structures only, with the number masked, and can
put one back in the queue ("Réessayer"): a fresh set of attempts, recorded in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import AuditEntry, Mediator, Message, OutboxItem, Resident
from bot.logs import mask_phone

DEAD = "dead"
PAGE_LIMIT = 200


@dataclass(frozen=True)
class DeadLetter:
    """One row of the "Envois en échec" page."""

    id: int
    resident_id: int
    masked_address: str
    channel: str
    kind: str
    created_at: datetime
    last_attempt_at: datetime
    attempts: int
    error_code: str | None
    error_message: str | None
    preview: str


def _structure_ids(mediator: Mediator) -> list[int]:
    return [structure.id for structure in mediator.structures]


def _visible(mediator: Mediator):  # noqa: ANN202 - a SQL expression
    residents = select(Resident.id).where(Resident.structure_id.in_(_structure_ids(mediator)))
    return (OutboxItem.status == DEAD) & OutboxItem.resident_id.in_(residents)


def count(session: Session, mediator: Mediator) -> int:
    """How many dead letters ``mediator`` can see (the number in the console's navigation)."""
    return session.scalar(select(func.count()).select_from(OutboxItem).where(_visible(mediator))) or 0


def listing(session: Session, mediator: Mediator, limit: int = PAGE_LIMIT) -> list[DeadLetter]:
    """The most recent dead letters first."""
    rows = session.execute(
        select(OutboxItem, Resident.address)
        .join(Resident, Resident.id == OutboxItem.resident_id)
        .where(_visible(mediator))
        .order_by(OutboxItem.id.desc())
        .limit(limit)
    ).all()
    return [
        DeadLetter(
            id=item.id, resident_id=item.resident_id, masked_address=mask_phone(address), channel=item.channel,
            kind=item.kind, created_at=item.created_at, last_attempt_at=item.next_attempt_at,
            attempts=item.attempts, error_code=item.error_code, error_message=item.error_message,
            preview=item.body[:80] + ("…" if len(item.body) > 80 else ""),
        )
        for item, address in rows
    ]


def retry(session: Session, mediator: Mediator, outbox_id: int, now: datetime) -> bool:
    """Queue a dead letter again with a fresh set of attempts. False when it is not (or no longer) one
    of ``mediator``'s dead letters (another mediator retried it first, or another structure's)."""
    item = session.scalars(
        select(OutboxItem).where(OutboxItem.id == outbox_id, _visible(mediator)).with_for_update()
    ).first()
    if item is None:
        return False
    previous = f"{item.attempts} essais, erreur {item.error_code or '?'}"
    item.status, item.attempts, item.next_attempt_at = "pending", 0, now
    if item.message_id is not None:
        message = session.get(Message, item.message_id)
        if message is not None:
            message.status = "retrying"
    session.add(AuditEntry(action="dead_letter_retried", mediator_id=mediator.id, resident_id=item.resident_id,
                           detail=f"envoi n°{item.id} ({previous})", created_at=now))
    return True
