"""Retention: a resident silent for ``retention.months`` (24 by default) is erased, as if they had sent OUBLIER.

Run daily by the scheduler on the leading process (bot/scheduler/jobs.py) and by
``relais residents purge``. Residents are erased ``retention.batch_size`` at a time, each batch in its
own short transaction, so the database is never locked for long and a crash loses at most one batch
of work (the next run takes it up again). Logs hold counts only: no text, no number.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from bot.db import Database, DatabaseUnavailable
from bot.db.models import Enrolment, Message, OutboxItem, Resident, Ticket, Workshop
from bot.privacy.residents import Erasure, erase_residents
from bot.privacy.settings import RetentionSettings
from bot.runtime import Runtime
from bot.scheduler.leader import Leadership

log = structlog.get_logger(__name__)

# Pause between two batches: lets the server's own writes in (SQLite has one writer at a time).
PAUSE_BETWEEN_BATCHES_SECONDS = 0.05


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` months earlier (the 31st becomes the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _stale(cutoff: datetime, now: datetime):  # noqa: ANN202 - a SQL condition
    """Silent since before ``cutoff``, and not expected at a workshop to come."""
    upcoming_seat = exists().where(
        Enrolment.resident_id == Resident.id, Enrolment.status.in_(("confirmed", "waiting")),
        Enrolment.workshop_id == Workshop.id, Workshop.starts_at > now,
    )
    return and_(Resident.last_contact_at < cutoff, ~upcoming_seat)


@dataclass(frozen=True)
class PurgePreview:
    cutoff: datetime
    residents: int
    messages: int
    tickets: int


def purge_preview(session: Session, settings: RetentionSettings, now: datetime) -> PurgePreview:
    """What a purge would erase now (``relais residents purge --dry-run``)."""
    cutoff = months_before(now, settings.months)
    stale = select(Resident.id).where(_stale(cutoff, now))
    count = int(session.scalar(select(func.count()).select_from(stale.subquery())) or 0)
    messages = int(session.scalar(select(func.count()).select_from(Message)
                                  .where(Message.resident_id.in_(stale))) or 0)
    tickets = int(session.scalar(select(func.count()).select_from(Ticket).where(Ticket.resident_id.in_(stale))) or 0)
    return PurgePreview(cutoff, count, messages, tickets)


@dataclass
class PurgeReport:
    cutoff: datetime
    residents: int = 0
    batches: int = 0
    erasure: Erasure = field(default_factory=Erasure)


def purge_batch(session: Session, settings: RetentionSettings, now: datetime) -> Erasure:
    """Erase up to ``settings.batch_size`` stale residents in the caller's transaction."""
    cutoff = months_before(now, settings.months)
    residents = list(session.scalars(
        select(Resident).where(_stale(cutoff, now)).order_by(Resident.id).limit(settings.batch_size)
        .with_for_update(skip_locked=True)  # one writing right now is left for the next run
    ))
    total = erase_residents(session, residents, now, reason="retention")
    # Erasure confirmations already sent or given up keep nothing personal; drop the rows too.
    session.execute(delete(OutboxItem).where(OutboxItem.resident_id.is_(None),
                                             OutboxItem.status.in_(("sent", "failed", "dead", "cancelled")))
                    .execution_options(synchronize_session=False))
    return total


def purge(database: Database, settings: RetentionSettings, now: datetime, *,
          pause_seconds: float = PAUSE_BETWEEN_BATCHES_SECONDS) -> PurgeReport:
    """Erase every stale resident, batch after batch, each in its own transaction."""
    report = PurgeReport(cutoff=months_before(now, settings.months))
    while True:
        with database.transaction() as session:
            erased = purge_batch(session, settings, now)
        if erased.residents:
            report.batches += 1
            report.residents += erased.residents
            report.erasure.add(erased)
            log.info("retention_batch", residents=erased.residents, messages=erased.messages,
                     tickets=erased.tickets, batch=report.batches)
        if erased.residents < settings.batch_size:
            break
        time.sleep(pause_seconds)
    log.info("retention_purge_done", residents=report.residents, messages=report.erasure.messages,
             tickets=report.erasure.tickets, batches=report.batches, cutoff=report.cutoff.date().isoformat(),
             months=settings.months)
    return report


def retention_job(runtime: Runtime, leadership: Leadership) -> PurgeReport | None:
    """The scheduler's daily purge: only the leading process runs it; a database down waits for tomorrow."""
    try:
        if not leadership.try_lead():
            return None
        return purge(runtime.db, runtime.settings.retention, runtime.clock())
    except DatabaseUnavailable as exc:
        log.warning("retention_paused_database_unavailable", reason=str(exc))
        return None
