"""Workshop services: create, list, enrol (or wait), cancel and promote the waiting list.

Every function works in the caller's transaction (a ``Session``) so an enrolment, its reminders
and the SMS that confirms it are committed together. The workshop row is locked while seats are
counted (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import ReminderSettings
from bot.db.models import Enrolment, Resident, Workshop
from bot.outbox.queue import enqueue
from bot.reminders.schedule import cancel_enrolment_reminders, schedule_workshop_reminders
from bot.workshops.dates import french_date
from bot.workshops.texts import text

ACTIVE = ("confirmed", "waiting")


@dataclass(frozen=True)
class EnrolResult:
    enrolment: Enrolment
    status: str  # confirmed | waiting | already
    position: int | None = None  # on the waiting list


@dataclass(frozen=True)
class WorkshopAttendance:
    workshop: Workshop
    confirmed: int
    waiting: int
    attended: int
    no_show: int
    cancelled: int


def create_workshop(
    session: Session, *, structure_id: int, title: str, place_name: str, starts_at: datetime,
    ends_at: datetime, capacity: int = 6, description: str | None = None, place_address: str | None = None,
    level: str = "debutant", theme: str | None = None,
) -> Workshop:
    if ends_at <= starts_at:
        raise ValueError("a workshop must end after it starts")
    if capacity < 1:
        raise ValueError("capacity must be at least 1")
    workshop = Workshop(
        structure_id=structure_id, title=title, description=description, place_name=place_name,
        place_address=place_address, starts_at=starts_at, ends_at=ends_at, capacity=capacity, level=level,
        theme=theme, status="scheduled",
    )
    session.add(workshop)
    session.flush()
    return workshop


def upcoming_workshops(session: Session, now: datetime, *, limit: int = 3,
                       structure_id: int | None = None) -> list[Workshop]:
    query = (
        select(Workshop)
        .where(Workshop.starts_at > now, Workshop.status == "scheduled")
        .order_by(Workshop.starts_at, Workshop.id)
        .limit(limit)
    )
    if structure_id is not None:
        query = query.where(Workshop.structure_id == structure_id)
    return list(session.scalars(query))


def active_enrolments(session: Session, resident_id: int, now: datetime) -> list[tuple[Enrolment, Workshop]]:
    """The resident's confirmed or waiting enrolments in workshops not started yet, soonest first."""
    query = (
        select(Enrolment, Workshop)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .where(Enrolment.resident_id == resident_id, Enrolment.status.in_(ACTIVE), Workshop.starts_at > now)
        .order_by(Workshop.starts_at)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def _lock_workshop(session: Session, workshop_id: int) -> Workshop:
    workshop = session.scalars(select(Workshop).where(Workshop.id == workshop_id).with_for_update()).one()
    return workshop


def _count(session: Session, workshop_id: int, status: str) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Enrolment)
        .where(Enrolment.workshop_id == workshop_id, Enrolment.status == status)
    ) or 0)


def _waiting_position(session: Session, enrolment: Enrolment) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Enrolment).where(
            Enrolment.workshop_id == enrolment.workshop_id, Enrolment.status == "waiting",
            Enrolment.id <= enrolment.id,
        )
    ) or 0)


def enrol(session: Session, resident: Resident, workshop_id: int, now: datetime,
          settings: ReminderSettings | None = None) -> EnrolResult:
    """A seat if one is free, else the waiting list. Re-enrolling after a cancel is allowed."""
    workshop = _lock_workshop(session, workshop_id)
    existing = session.scalars(
        select(Enrolment).where(Enrolment.workshop_id == workshop_id, Enrolment.resident_id == resident.id)
    ).first()
    if existing is not None and existing.status in ACTIVE:
        position = _waiting_position(session, existing) if existing.status == "waiting" else None
        return EnrolResult(existing, "already", position)
    full = _count(session, workshop_id, "confirmed") >= workshop.capacity
    status = "waiting" if full else "confirmed"
    if existing is None:
        existing = Enrolment(workshop_id=workshop_id, resident_id=resident.id, status=status, created_at=now,
                             updated_at=now)
        session.add(existing)
    else:  # came back after cancelling: to the end of the queue
        existing.status, existing.updated_at = status, now
    session.flush()
    if status == "confirmed":
        schedule_workshop_reminders(session, existing, workshop, now, settings or ReminderSettings())
        return EnrolResult(existing, "confirmed")
    return EnrolResult(existing, "waiting", _waiting_position(session, existing))


def cancel(session: Session, enrolment: Enrolment, now: datetime, *, provider: str,
           settings: ReminderSettings | None = None) -> Enrolment | None:
    """Free the seat; the first on the waiting list gets it and is told. Returns who was promoted."""
    was_confirmed = enrolment.status == "confirmed"
    enrolment.status, enrolment.updated_at = "cancelled", now
    cancel_enrolment_reminders(session, enrolment.id, now)
    session.flush()
    if not was_confirmed:
        return None
    return promote_waiting(session, enrolment.workshop_id, now, provider=provider, settings=settings)


def promote_waiting(session: Session, workshop_id: int, now: datetime, *, provider: str | None,
                    settings: ReminderSettings | None = None) -> Enrolment | None:
    workshop = _lock_workshop(session, workshop_id)
    if workshop.starts_at <= now or _count(session, workshop_id, "confirmed") >= workshop.capacity:
        return None
    first = session.scalars(
        select(Enrolment).where(Enrolment.workshop_id == workshop_id, Enrolment.status == "waiting")
        .order_by(Enrolment.updated_at, Enrolment.id).limit(1)
    ).first()
    if first is None:
        return None
    first.status, first.updated_at = "confirmed", now
    session.flush()
    schedule_workshop_reminders(session, first, workshop, now, settings or ReminderSettings())
    resident = session.get(Resident, first.resident_id)
    if resident is not None and not resident.opted_out:
        if provider is None:  # not in reply to a message of theirs: the way they last wrote
            from bot.reminders.dispatch import provider_for

            provider = provider_for(session, resident)
        enqueue(session, resident, text("promoted", title=workshop.title, date=french_date(workshop.starts_at),
                                        place=workshop.place_name),
                provider=provider, kind="notification", now=now)
    return first


def mark_attendance(session: Session, enrolment_id: int, attended: bool, now: datetime,
                    settings: ReminderSettings | None = None) -> Enrolment:
    """After the workshop, a mediator records who came; follow-ups are scheduled accordingly.

    Marking again with the other answer replaces the follow-up not sent yet; the same answer changes nothing.
    """
    from bot.reminders.schedule import cancel_attendance_followups, schedule_attendance_followup

    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise LookupError(f"no enrolment {enrolment_id}")
    status = "attended" if attended else "no_show"
    if enrolment.status == status:
        return enrolment
    enrolment.status, enrolment.updated_at = status, now
    workshop = session.get(Workshop, enrolment.workshop_id)
    assert workshop is not None
    cancel_attendance_followups(session, enrolment.id, now)
    schedule_attendance_followup(session, enrolment, workshop, now, settings)
    session.flush()
    return enrolment


# What a mediator may change on a workshop from the console.
EDITABLE = ("title", "description", "place_name", "place_address", "starts_at", "ends_at", "capacity", "level",
            "theme")


@dataclass(frozen=True)
class WorkshopChange:
    workshop: Workshop
    told: int  # enrolled residents sent an SMS about the change
    promoted: int  # taken from the waiting list because seats were added


def _notify(session: Session, enrolment: Enrolment, body: str, now: datetime) -> bool:
    """A notification to the enrolled resident, through the outbox (window, opt-out, pace apply)."""
    from bot.reminders.dispatch import provider_for

    resident = session.get(Resident, enrolment.resident_id)
    if resident is None or resident.opted_out or resident.erased_at is not None:
        return False
    enqueue(session, resident, body, provider=provider_for(session, resident), kind="notification", now=now)
    return True


def update_workshop(session: Session, workshop_id: int, now: datetime, settings: ReminderSettings | None = None,
                    **changes: object) -> WorkshopChange:
    """Change a scheduled workshop. A new time reschedules the reminders; a new time or place is told by SMS
    to who holds a seat or waits; added seats go to the waiting list."""
    from bot.reminders.schedule import reschedule_workshop_reminders

    settings = settings or ReminderSettings()
    workshop = _lock_workshop(session, workshop_id)
    if workshop.status != "scheduled":
        raise ValueError("a cancelled workshop cannot be changed")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    starts_at = changes.get("starts_at", workshop.starts_at)
    ends_at = changes.get("ends_at", workshop.ends_at)
    capacity = changes.get("capacity", workshop.capacity)
    assert isinstance(starts_at, datetime) and isinstance(ends_at, datetime) and isinstance(capacity, int)
    if ends_at <= starts_at:
        raise ValueError("a workshop must end after it starts")
    if capacity < _count(session, workshop_id, "confirmed"):
        raise ValueError("capacity below the seats already taken")
    moved = starts_at != workshop.starts_at
    told_changed = moved or changes.get("place_name", workshop.place_name) != workshop.place_name
    for name, value in changes.items():
        setattr(workshop, name, value)
    session.flush()
    if moved:
        reschedule_workshop_reminders(session, workshop, now, settings)
    told = 0
    if told_changed:
        body = text("workshop_changed", title=workshop.title, date=french_date(workshop.starts_at),
                    place=workshop.place_name)
        for enrolment in session.scalars(select(Enrolment).where(Enrolment.workshop_id == workshop_id,
                                                                 Enrolment.status.in_(ACTIVE))):
            told += _notify(session, enrolment, body, now)
    promoted = 0
    while promote_waiting(session, workshop_id, now, provider=None, settings=settings) is not None:
        promoted += 1
    return WorkshopChange(workshop, told, promoted)


def cancel_workshop(session: Session, workshop_id: int, now: datetime) -> int:
    """Cancel the workshop: every seat and waiting place is freed, their reminders cancelled, and each
    resident told by SMS through the outbox. Returns how many residents were told."""
    workshop = _lock_workshop(session, workshop_id)
    if workshop.status != "scheduled":
        return 0
    workshop.status = "cancelled"
    body = text("workshop_cancelled", title=workshop.title, date=french_date(workshop.starts_at))
    told = 0
    for enrolment in list(session.scalars(select(Enrolment).where(Enrolment.workshop_id == workshop_id,
                                                                  Enrolment.status.in_(ACTIVE)))):
        enrolment.status, enrolment.updated_at = "cancelled", now
        cancel_enrolment_reminders(session, enrolment.id, now)
        if workshop.starts_at > now:
            told += _notify(session, enrolment, body, now)
    session.flush()
    return told


def workshops_with_attendance(session: Session, *, structure_id: int | None = None,
                              since: datetime | None = None, structure_ids: list[int] | None = None,
                              before: datetime | None = None) -> list[WorkshopAttendance]:
    """Every workshop (from ``since``, before ``before``) with its counts per enrolment status, for lists
    and the console. ``structure_ids`` limits it to those structures (the console: the mediator's)."""
    query = select(Workshop).order_by(Workshop.starts_at)
    if structure_id is not None:
        query = query.where(Workshop.structure_id == structure_id)
    if structure_ids is not None:
        query = query.where(Workshop.structure_id.in_(structure_ids))
    if since is not None:
        query = query.where(Workshop.starts_at >= since)
    if before is not None:
        query = query.where(Workshop.starts_at < before)
    workshops = list(session.scalars(query))
    counts: dict[tuple[int, str], int] = {}
    if workshops:
        rows = session.execute(
            select(Enrolment.workshop_id, Enrolment.status, func.count())
            .where(Enrolment.workshop_id.in_([w.id for w in workshops]))
            .group_by(Enrolment.workshop_id, Enrolment.status)
        )
        counts = {(wid, status): int(n) for wid, status, n in rows}
    return [
        WorkshopAttendance(w, *(counts.get((w.id, s), 0)
                                for s in ("confirmed", "waiting", "attended", "no_show", "cancelled")))
        for w in workshops
    ]


def enrolments_of(session: Session, workshop_id: int) -> list[tuple[Enrolment, Resident]]:
    query = (
        select(Enrolment, Resident).join(Resident, Resident.id == Enrolment.resident_id)
        .where(Enrolment.workshop_id == workshop_id).order_by(Enrolment.id)
    )
    return [(row[0], row[1]) for row in session.execute(query)]
