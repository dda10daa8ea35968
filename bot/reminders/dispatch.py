"""Turning due reminder rows into outbox rows, exactly once.

In ONE transaction a due row is locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
processes share the work and never take the same row), checked, and either:
- sent: an outbox row is written and the reminder marked ``sent`` with its ``outbox_id``;
- deferred: the window is closed now, ``due_at`` moves to the next opening (never dropped);
- skipped: it would only go out after it stopped being useful (``not_after``, e.g. the workshop
  started), logged with the reason;
- cancelled: the enrolment was cancelled, the resident opted out or turned follow-ups off.
A crash before commit leaves the row pending; after commit it is sent and never written again.
The text is written at send time, so a deferred "day before" reminder still says the right day.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session

from bot.db.models import Enrolment, Message, OutboxItem, Reminder, Resident, Workshop
from bot.outbox.queue import enqueue
from bot.reminders.kinds import (
    FOLLOWUP_NO_SHOW,
    FOLLOWUP_PROCEDURE,
    FOLLOWUP_WORKSHOP,
    FOLLOWUPS,
    WORKSHOP_REMINDER,
)
from bot.reminders.window import SendingWindow
from bot.runtime import Runtime
from bot.workshops.dates import french_date, french_time, paris
from bot.workshops.texts import text

log = structlog.get_logger(__name__)

DEFAULT_PROVIDERS = {"sms": "simulator", "telegram": "telegram"}


@dataclass
class ReminderReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.deferred) + len(self.skipped) + len(self.cancelled)


def provider_for(session: Session, resident: Resident) -> str:
    """The provider the resident last wrote through (a notification goes back the same way)."""
    provider = session.scalar(
        select(Message.provider).where(Message.resident_id == resident.id, Message.direction == "in")
        .order_by(Message.id.desc()).limit(1)
    )
    return provider or DEFAULT_PROVIDERS.get(resident.channel, "simulator")


def dispatch_due_reminders(runtime: Runtime, *, limit: int | None = None) -> ReminderReport:
    """Handle up to ``limit`` due reminders in one transaction."""
    settings = runtime.settings.reminders
    window = SendingWindow(settings.window)
    now = runtime.clock()
    report = ReminderReport()
    with runtime.db.transaction() as session:
        if not runtime.db.is_postgresql:
            # SQLite has no row locks and reads outside the write transaction: take the database's
            # write lock first, so a second dispatcher waits and then sees these rows as sent.
            session.execute(update(Reminder).where(false()).values(state=Reminder.state))
        due = list(session.scalars(
            select(Reminder)
            .where(Reminder.state == "pending", Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit or settings.batch_size)
            .with_for_update(skip_locked=True)
        ))
        loaded, providers = _preload(session, due)
        for reminder in due:
            _handle(session, runtime, window, reminder, now, report, providers)
        del loaded
    return report


# On SQLite a batch holds the one write lock the outbox dispatcher also needs to record each send:
# batches stay short, and the job rests as long as the batch took before the next one.
SQLITE_BATCH = 25
PAUSE_BETWEEN_BATCHES = 0.05
# With a pace set, the outbox holds at most this many seconds of notifications: later reminders stay rows
# (still cancellable, their text written nearer the time) instead of crowding the database at once.
BACKLOG_SECONDS = 10.0


def notification_backlog(runtime: Runtime) -> int:
    """Notifications waiting in the outbox to go now."""
    with runtime.db.transaction() as session:
        return int(session.scalar(
            select(func.count()).select_from(OutboxItem).where(
                OutboxItem.status == "pending", OutboxItem.kind == "notification",
                OutboxItem.next_attempt_at <= runtime.clock())
        ) or 0)


def drain_due_reminders(runtime: Runtime, *, sleep: Callable[[float], None] = time.sleep,
                        should_stop: Callable[[], bool] = lambda: False) -> int:
    """Handle every due reminder, batch after batch, leaving the database to the outbox in between.
    Returns how many were handled."""
    sqlite = not runtime.db.is_postgresql
    batch = runtime.settings.reminders.batch_size
    batch = min(batch, SQLITE_BATCH) if sqlite else batch
    rate = runtime.settings.reminders.rate_per_second
    backlog_limit = max(batch, rate * BACKLOG_SECONDS) if rate > 0 else None
    handled = 0
    while not should_stop():
        if backlog_limit is not None and notification_backlog(runtime) >= backlog_limit:
            return handled  # enough queued: the next run of the job tops it up
        started = time.monotonic()
        done = dispatch_due_reminders(runtime, limit=batch).handled
        handled += done
        if done < batch:
            return handled
        sleep(max(PAUSE_BETWEEN_BATCHES, time.monotonic() - started) if sqlite else PAUSE_BETWEEN_BATCHES)
    return handled


def _preload(session: Session, due: list[Reminder]) -> tuple[list[object], dict[int, str]]:
    """The batch's residents, enrolments and workshops in a few queries (``session.get`` then finds them
    without asking the database), and the provider each resident last wrote through. On SQLite the batch
    holds the write lock: the shorter, the sooner the outbox dispatcher records its sends."""
    if not due:
        return [], {}
    resident_ids = {r.resident_id for r in due}
    loaded: list[object] = list(session.scalars(select(Resident).where(Resident.id.in_(resident_ids))))
    enrolment_ids = {r.enrolment_id for r in due if r.enrolment_id}
    if enrolment_ids:
        loaded += session.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids)))
    workshop_ids = {r.workshop_id for r in due if r.workshop_id}
    if workshop_ids:
        loaded += session.scalars(select(Workshop).where(Workshop.id.in_(workshop_ids)))
    latest = (select(func.max(Message.id)).where(Message.resident_id.in_(resident_ids), Message.direction == "in")
              .group_by(Message.resident_id))
    providers = {rid: provider for rid, provider in session.execute(
        select(Message.resident_id, Message.provider).where(Message.id.in_(latest)))}
    return loaded, providers


def _close(reminder: Reminder, state: str, note: str, now: datetime) -> None:
    reminder.state, reminder.note, reminder.updated_at = state, note[:200], now


def _handle(session: Session, runtime: Runtime, window: SendingWindow, reminder: Reminder, now: datetime,
            report: ReminderReport, providers: dict[int, str] | None = None) -> None:
    resident = session.get(Resident, reminder.resident_id)
    if resident is None or resident.opted_out or resident.erased_at is not None:
        _close(reminder, "cancelled", "resident opted out", now)
        report.cancelled.append(reminder.id)
        return
    if reminder.kind in FOLLOWUPS and not resident.followups_enabled:
        _close(reminder, "cancelled", "follow-ups turned off", now)
        report.cancelled.append(reminder.id)
        return
    workshop = session.get(Workshop, reminder.workshop_id) if reminder.workshop_id else None
    if reminder.kind == WORKSHOP_REMINDER:
        enrolment = session.get(Enrolment, reminder.enrolment_id) if reminder.enrolment_id else None
        if enrolment is None or enrolment.status != "confirmed" or workshop is None \
                or workshop.status != "scheduled":
            _close(reminder, "cancelled", "enrolment no longer confirmed", now)
            report.cancelled.append(reminder.id)
            return
    send_at = window.next_opening(now)
    if reminder.not_after is not None and send_at >= reminder.not_after:
        why = "window closed until after it stopped being useful" if send_at > now else "too late, no longer useful"
        _close(reminder, "skipped", why, now)
        report.skipped.append(reminder.id)
        log.info("reminder_skipped", reminder_id=reminder.id, kind=reminder.kind, reason=why,
                 due_at=reminder.due_at.isoformat())
        return
    if reminder.kind == WORKSHOP_REMINDER and runtime.settings.reminders.collapse_overdue \
            and _superseded(session, reminder, send_at):
        _close(reminder, "skipped", "superseded by a later reminder due as soon", now)
        report.skipped.append(reminder.id)
        log.info("reminder_skipped", reminder_id=reminder.id, kind=reminder.kind, reason="superseded")
        return
    if send_at > now:
        reminder.payload = {**reminder.payload, "deferred_from": reminder.due_at.isoformat()}
        reminder.due_at, reminder.updated_at = send_at, now
        report.deferred.append(reminder.id)
        return
    body = _body(session, runtime, reminder, workshop, now)
    if body is None:
        _close(reminder, "skipped", "nothing to offer", now)
        report.skipped.append(reminder.id)
        return
    provider = (providers or {}).get(resident.id) if providers is not None else provider_for(session, resident)
    provider = provider or DEFAULT_PROVIDERS.get(resident.channel, "simulator")
    item = enqueue(session, resident, body, provider=provider, kind="notification", now=now,
                   ticket_id=reminder.ticket_id)
    reminder.state, reminder.outbox_id, reminder.updated_at = "sent", item.id, now
    if reminder.due_at < now - timedelta(minutes=5):
        reminder.note = "sent late after downtime"
        log.info("reminder_sent_late", reminder_id=reminder.id, due_at=reminder.due_at.isoformat())
    report.sent.append(reminder.id)


def _superseded(session: Session, reminder: Reminder, send_at: datetime) -> bool:
    """A later reminder of the same enrolment is due by the time this one could go: send only that one."""
    later = session.scalar(
        select(Reminder.id).where(
            Reminder.enrolment_id == reminder.enrolment_id, Reminder.kind == WORKSHOP_REMINDER,
            Reminder.state.in_(("pending", "sent")), Reminder.id != reminder.id, Reminder.due_at > reminder.due_at,
            Reminder.due_at <= send_at,
        ).limit(1)
    )
    return later is not None


def _body(session: Session, runtime: Runtime, reminder: Reminder, workshop: Workshop | None,
          now: datetime) -> str | None:
    if reminder.kind == WORKSHOP_REMINDER and workshop is not None:
        days = (paris(workshop.starts_at).date() - paris(now).date()).days
        values = {"title": workshop.title, "place": workshop.place_name, "time": french_time(workshop.starts_at),
                  "date": french_date(workshop.starts_at)}
        key = {0: "reminder_soon", 1: "reminder_day_before"}.get(days, "reminder_generic")
        return text(key, **values)
    if reminder.kind == FOLLOWUP_WORKSHOP:
        return text("followup_workshop")
    if reminder.kind == FOLLOWUP_NO_SHOW:
        from bot.workshops.service import upcoming_workshops

        upcoming = upcoming_workshops(session, now, limit=1)
        if not upcoming:
            return None
        reminder.payload = {**reminder.payload, "offered_workshop_id": upcoming[0].id}
        return text("followup_no_show", title=upcoming[0].title, date=french_date(upcoming[0].starts_at))
    if reminder.kind == FOLLOWUP_PROCEDURE:
        service = reminder.payload.get("service")
        label = runtime.texts.service_label(service) if service else ""
        return " ".join(text("followup_procedure", service=label).split())
    log.warning("reminder_unknown_kind", reminder_id=reminder.id, kind=reminder.kind)
    return None
