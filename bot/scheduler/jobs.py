"""The server's periodic jobs, driven by APScheduler (3.x) in a background thread."""

from __future__ import annotations

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from bot.db import DatabaseUnavailable
from bot.digest.job import run_daily_digest
from bot.outbox.dispatcher import dispatch_due, recover_stale
from bot.privacy.retention import retention_job
from bot.reminders.dispatch import drain_due_reminders
from bot.runtime import Runtime
from bot.scheduler.leader import Leadership

log = structlog.get_logger(__name__)

OUTBOX_INTERVAL_SECONDS = 1.0
REMINDERS_INTERVAL_SECONDS = 5.0
DIGEST_INTERVAL_SECONDS = 60.0


def _dispatch_outbox(runtime: Runtime) -> None:
    try:
        while True:
            report = dispatch_due(runtime, limit=100)
            if len(report.sent) + len(report.failed) + len(report.retrying) < 100:
                break
    except DatabaseUnavailable as exc:
        log.warning("outbox_paused_database_unavailable", reason=str(exc))


def _recover(runtime: Runtime) -> None:
    try:
        recovered = recover_stale(runtime)
        if recovered:
            log.warning("outbox_recovered_stale_rows", count=recovered)
    except DatabaseUnavailable as exc:
        log.warning("recovery_paused_database_unavailable", reason=str(exc))


def _dispatch_reminders(runtime: Runtime, leadership: Leadership) -> None:
    """Due reminders and follow-ups into the outbox; only the leading process does it."""
    try:
        if not leadership.try_lead():
            return
        drain_due_reminders(runtime)  # batch after batch, the outbox job in between (SQLite: one writer)
    except DatabaseUnavailable as exc:
        log.warning("reminders_paused_database_unavailable", reason=str(exc))


def _daily_digest(runtime: Runtime, leadership: Leadership) -> None:
    """The mediators' digest, once a day per structure (bot/digest/job.py); only the leading process."""
    try:
        if leadership.try_lead():
            run_daily_digest(runtime)
    except DatabaseUnavailable as exc:
        log.warning("digest_paused_database_unavailable", reason=str(exc))


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(_dispatch_outbox, "interval", seconds=OUTBOX_INTERVAL_SECONDS, args=[runtime],
                      id="outbox")
    # Checked at least every minute, and often enough when stale_sending_seconds is short.
    recover_every = max(1.0, min(60.0, runtime.settings.outbox.stale_sending_seconds / 4))
    scheduler.add_job(_recover, "interval", seconds=recover_every, args=[runtime], id="recover_stale")
    leadership = Leadership(runtime.db)
    scheduler.leadership = leadership  # type: ignore[attr-defined]  (released by the app at shutdown)
    scheduler.add_job(_dispatch_reminders, "interval", seconds=REMINDERS_INTERVAL_SECONDS,
                      args=[runtime, leadership], id="reminders")
    # Daily: residents silent for retention.months are erased (bot/privacy/retention.py), on the leader only.
    scheduler.add_job(retention_job, "cron", hour=runtime.settings.retention.hour, minute=17,
                      args=[runtime, leadership], id="retention")
    # Every minute: builds the daily digest once it is due (digest.time, working days), even after a restart.
    scheduler.add_job(_daily_digest, "interval", seconds=DIGEST_INTERVAL_SECONDS, args=[runtime, leadership],
                      id="digest")
    scheduler.start()
    return scheduler
