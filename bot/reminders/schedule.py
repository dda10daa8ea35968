"""Creating reminder rows: before a workshop at configured offsets, and follow-ups afterwards.

A row per message, with its due time and ``not_after`` (past which it is no longer useful), so
reminders are queryable, cancellable and survive restarts.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.config import ReminderSettings
from bot.db.models import Enrolment, Reminder, Workshop
from bot.reminders.kinds import (
    FOLLOWUP_NO_SHOW,
    FOLLOWUP_PROCEDURE,
    FOLLOWUP_WORKSHOP,
    WORKSHOP_REMINDER,
)
from bot.workshops.dates import PARIS

_BEFORE = re.compile(r"^-(\d+)([hm])$")
_DAY_BEFORE = re.compile(r"^day_before@(\d{2}):(\d{2})$")


def due_time(offset: str, starts_at: datetime) -> datetime:
    """When a reminder at ``offset`` is due for a workshop starting at ``starts_at`` (UTC).

    "day_before@18:00" is 18:00 Paris wall-clock time the day before, whatever the UTC offset
    that day (DST changes); "-2h" is two real hours before the start.
    """
    if match := _DAY_BEFORE.match(offset):
        day = starts_at.astimezone(PARIS).date() - timedelta(days=1)
        local = datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=PARIS)
        return local.astimezone(starts_at.tzinfo)
    if match := _BEFORE.match(offset):
        amount = int(match[1])
        return starts_at - (timedelta(hours=amount) if match[2] == "h" else timedelta(minutes=amount))
    raise ValueError(f"unknown reminder offset {offset!r}: expected 'day_before@HH:MM' or '-2h' / '-30m'")


def _reminder_rows(enrolment_id: int, resident_id: int, workshop: Workshop, now: datetime,
                   settings: ReminderSettings) -> list[dict[str, Any]]:
    rows = []
    for offset in settings.offsets:
        due = due_time(offset, workshop.starts_at)
        if due <= now:  # enrolled later than this reminder: the confirmation said it all
            continue
        rows.append({
            "kind": WORKSHOP_REMINDER, "resident_id": resident_id, "workshop_id": workshop.id,
            "enrolment_id": enrolment_id, "due_at": due, "not_after": workshop.starts_at,
            "state": "pending", "payload": {"offset": offset}, "created_at": now, "updated_at": now,
        })
    return rows


def schedule_workshop_reminders(session: Session, enrolment: Enrolment, workshop: Workshop, now: datetime,
                                settings: ReminderSettings) -> int:
    if not settings.enabled:
        return 0
    rows = _reminder_rows(enrolment.id, enrolment.resident_id, workshop, now, settings)
    if rows:
        session.execute(insert(Reminder), rows)
    return len(rows)


def schedule_all_for_workshop(session: Session, workshop: Workshop, now: datetime,
                              settings: ReminderSettings) -> int:
    """Reminders for every confirmed enrolment at once (bulk insert; used after imports and benchmarks)."""
    enrolments = session.execute(
        select(Enrolment.id, Enrolment.resident_id)
        .where(Enrolment.workshop_id == workshop.id, Enrolment.status == "confirmed")
    ).all()
    rows = [row for eid, rid in enrolments for row in _reminder_rows(eid, rid, workshop, now, settings)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Reminder), rows[start:start + 5000])
    return len(rows)


def cancel_enrolment_reminders(session: Session, enrolment_id: int, now: datetime) -> None:
    session.execute(
        update(Reminder).where(Reminder.enrolment_id == enrolment_id, Reminder.state == "pending")
        .values(state="cancelled", note="enrolment cancelled", updated_at=now)
    )


def reschedule_workshop_reminders(session: Session, workshop: Workshop, now: datetime,
                                  settings: ReminderSettings) -> int:
    """The workshop moved: reminders not sent yet are replaced by reminders for the new start."""
    session.execute(
        update(Reminder).where(Reminder.workshop_id == workshop.id, Reminder.kind == WORKSHOP_REMINDER,
                               Reminder.state == "pending")
        .values(state="cancelled", note="workshop moved", updated_at=now)
    )
    if not settings.enabled:
        return 0
    return schedule_all_for_workshop(session, workshop, now, settings)


def cancel_attendance_followups(session: Session, enrolment_id: int, now: datetime) -> None:
    """Attendance marked again: the follow-up for the previous answer is not sent."""
    session.execute(
        update(Reminder).where(Reminder.enrolment_id == enrolment_id, Reminder.state == "pending",
                               Reminder.kind.in_((FOLLOWUP_WORKSHOP, FOLLOWUP_NO_SHOW)))
        .values(state="cancelled", note="attendance changed", updated_at=now)
    )


def cancel_followups(session: Session, resident_id: int, now: datetime, kinds: frozenset[str]) -> None:
    session.execute(
        update(Reminder).where(Reminder.resident_id == resident_id, Reminder.state == "pending",
                               Reminder.kind.in_(kinds))
        .values(state="cancelled", note="follow-ups turned off", updated_at=now)
    )


def schedule_attendance_followup(session: Session, enrolment: Enrolment, workshop: Workshop, now: datetime,
                                 settings: ReminderSettings | None = None) -> Reminder | None:
    settings = settings or ReminderSettings()
    attended = enrolment.status == "attended"
    if (attended and not settings.after_workshop) or (not attended and not settings.after_no_show):
        return None
    due = max(now, workshop.ends_at + timedelta(hours=settings.after_workshop_delay_hours))
    reminder = Reminder(
        kind=FOLLOWUP_WORKSHOP if attended else FOLLOWUP_NO_SHOW, resident_id=enrolment.resident_id,
        workshop_id=workshop.id, enrolment_id=enrolment.id, due_at=due,
        not_after=due + timedelta(days=settings.followup_useful_days), state="pending", payload={},
        created_at=now, updated_at=now,
    )
    session.add(reminder)
    return reminder


def schedule_procedure_followup(session: Session, resident_id: int, now: datetime, *, service: str | None,
                                reason: str, ticket_id: int | None = None,
                                settings: ReminderSettings | None = None) -> Reminder | None:
    """'Avez-vous pu finir votre demarche ?' N days after a failed guide or a closed ticket.

    ``reason``: "guide_failed" or "ticket_closed" (each can be turned off in config).
    """
    settings = settings or ReminderSettings()
    if (reason == "guide_failed" and not settings.after_guide_failed) or (
        reason == "ticket_closed" and not settings.after_ticket_closed
    ):
        return None
    due = now + timedelta(days=settings.followup_delay_days)
    reminder = Reminder(
        kind=FOLLOWUP_PROCEDURE, resident_id=resident_id, ticket_id=ticket_id, due_at=due,
        not_after=due + timedelta(days=settings.followup_useful_days), state="pending",
        payload={"service": service, "reason": reason}, created_at=now, updated_at=now,
    )
    session.add(reminder)
    return reminder


def schedule_all_confirmed(session: Session, workshops: list[Workshop], now: datetime,
                           settings: ReminderSettings) -> int:
    """Reminders for every confirmed enrolment of ``workshops``: one query, bulk inserts.

    Keep ``workshops`` to a few thousand (one IN list)."""
    by_id = {w.id: w for w in workshops}
    enrolments = session.execute(
        select(Enrolment.id, Enrolment.resident_id, Enrolment.workshop_id)
        .where(Enrolment.workshop_id.in_(list(by_id)), Enrolment.status == "confirmed")
    ).all()
    rows = [row for eid, rid, wid in enrolments for row in _reminder_rows(eid, rid, by_id[wid], now, settings)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Reminder), rows[start:start + 5000])
    return len(rows)
