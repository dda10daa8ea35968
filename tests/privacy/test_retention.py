"""Retention: residents silent for retention.months are erased by the daily job, batch by batch; a fake clock
moves time, and `relais residents purge --dry-run` shows what would go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs
from typer.testing import CliRunner

from bot.config import Settings
from bot.db import connect
from bot.db.models import AnonymousTicket, Message, Resident, Ticket
from bot.privacy.retention import months_before, purge, purge_preview, retention_job
from bot.privacy.settings import RetentionSettings
from bot.scheduler.leader import Leadership
from bot.workshops.service import enrol
from tests.workshops.helpers import add_workshop

NOW = datetime(2028, 6, 15, 3, 17, tzinfo=UTC)


def _resident(session, number: int, last_contact: datetime, *, messages: int = 2, ticket: bool = False) -> Resident:
    resident = Resident(channel="sms", address=f"+3361234{number:04d}", first_contact_at=last_contact,
                        last_contact_at=last_contact)
    session.add(resident)
    session.flush()
    for n in range(messages):
        session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider="simulator",
                            body=f"message {n} du {number}", created_at=last_contact))
    if ticket:
        session.add(Ticket(resident_id=resident.id, reason="asked", theme="email", status="closed", outcome="resolu",
                           opened_at=last_contact, waiting_since=last_contact, closed_at=last_contact))
    session.flush()
    return resident


def _addresses(db) -> set[str]:
    with db.transaction() as session:
        return set(session.scalars(select(Resident.address)))


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2028, 6, 15, tzinfo=UTC), 24, datetime(2026, 6, 15, tzinfo=UTC)),
    (datetime(2028, 3, 31, 8, tzinfo=UTC), 1, datetime(2028, 2, 29, 8, tzinfo=UTC)),
    (datetime(2028, 1, 10, tzinfo=UTC), 13, datetime(2026, 12, 10, tzinfo=UTC)),
])
def test_months_before(moment, months, expected):
    assert months_before(moment, months) == expected


def test_only_residents_silent_for_longer_than_the_retention_are_erased(runtime):
    with runtime.db.transaction() as session:
        _resident(session, 1, NOW - timedelta(days=2 * 365 + 10), ticket=True)  # 24 months and 10 days
        _resident(session, 2, NOW - timedelta(days=700))  # 23 months
        _resident(session, 3, NOW - timedelta(days=5))
    report = purge(runtime.db, RetentionSettings(), NOW, pause_seconds=0)
    assert (report.residents, report.erasure.messages, report.erasure.tickets) == (1, 2, 1)
    assert _addresses(runtime.db) == {"+33612340002", "+33612340003"}
    with runtime.db.transaction() as session:
        assert session.scalars(select(AnonymousTicket.theme)).all() == ["email"]
        assert session.scalar(select(func.count()).select_from(Message)) == 4


def test_the_retention_is_configurable(runtime):
    with runtime.db.transaction() as session:
        _resident(session, 1, NOW - timedelta(days=400))
    purge(runtime.db, RetentionSettings(months=24), NOW, pause_seconds=0)
    assert _addresses(runtime.db) == {"+33612340001"}
    purge(runtime.db, RetentionSettings(months=12), NOW, pause_seconds=0)
    assert _addresses(runtime.db) == set()


def test_a_resident_expected_at_a_workshop_to_come_is_kept(runtime):
    with runtime.db.transaction() as session:
        resident = _resident(session, 1, NOW - timedelta(days=800))
        workshop = add_workshop(session, runtime, NOW + timedelta(days=3))
        enrol(session, resident, workshop.id, NOW - timedelta(days=800))
    purge(runtime.db, RetentionSettings(), NOW, pause_seconds=0)
    assert _addresses(runtime.db) == {"+33612340001"}
    purge(runtime.db, RetentionSettings(), NOW + timedelta(days=4), pause_seconds=0)  # the workshop is past
    assert _addresses(runtime.db) == set()


def test_the_purge_works_in_batches_each_its_own_transaction(runtime):
    with runtime.db.transaction() as session:
        for number in range(7):
            _resident(session, number, NOW - timedelta(days=800), messages=1)
    report = purge(runtime.db, RetentionSettings(batch_size=3), NOW, pause_seconds=0)
    assert (report.residents, report.batches) == (7, 3)
    assert _addresses(runtime.db) == set()


def test_the_logs_hold_counts_never_a_number_or_a_text(runtime):
    with runtime.db.transaction() as session:
        _resident(session, 1, NOW - timedelta(days=800), ticket=True)
    with capture_logs() as logs:
        purge(runtime.db, RetentionSettings(), NOW, pause_seconds=0)
    done = [line for line in logs if line["event"] == "retention_purge_done"]
    assert done and done[0]["residents"] == 1 and done[0]["messages"] == 2
    flat = repr(logs)
    assert "+3361234" not in flat and "message 0" not in flat


def test_dry_run_shows_what_would_go_and_erases_nothing(runtime, database_url, monkeypatch, tmp_path):
    from bot.cli import app

    (tmp_path / "config.yml").write_text("", encoding="utf-8")  # defaults, whatever the working folder holds
    monkeypatch.setenv("RELAIS_CONFIG", str(tmp_path / "config.yml"))

    old = datetime.now(UTC) - timedelta(days=800)
    with runtime.db.transaction() as session:
        _resident(session, 1, old, messages=3, ticket=True)
        _resident(session, 2, old, messages=1)
        _resident(session, 3, datetime.now(UTC))
        preview = purge_preview(session, RetentionSettings(), datetime.now(UTC))
    assert (preview.residents, preview.messages, preview.tickets) == (2, 4, 1)
    monkeypatch.setenv("RELAIS_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["residents", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would erase 2 residents" in result.output and "4 messages, 1 tickets" in result.output
    assert len(_addresses(runtime.db)) == 3
    done = CliRunner().invoke(app, ["residents", "purge"])
    assert done.exit_code == 0 and "Erased 2 residents" in done.output
    assert _addresses(runtime.db) == {"+33612340003"}


def test_the_daily_job_runs_on_the_leading_process_only_with_the_runtime_clock(runtime, database_url):
    with runtime.db.transaction() as session:
        _resident(session, 1, NOW - timedelta(days=800))
    runtime.clock = lambda: NOW - timedelta(days=365)  # a year earlier: not yet stale
    alone = Leadership(runtime.db)
    try:
        assert retention_job(runtime, alone).residents == 0
    finally:
        alone.release()
    runtime.clock = lambda: NOW
    holder_db = connect(database_url)
    holder = Leadership(holder_db)
    follower = Leadership(runtime.db)
    try:
        assert holder.try_lead()
        report = retention_job(runtime, follower)
        # On PostgreSQL another process holds the lock: nothing done. SQLite has one process: it leads.
        if runtime.db.is_postgresql:
            assert report is None and _addresses(runtime.db) == {"+33612340001"}
        holder.release()
        retention_job(runtime, follower)
        assert _addresses(runtime.db) == set()
    finally:
        follower.release()
        holder.release()
        holder_db.dispose()


def test_the_scheduler_runs_the_purge_daily_at_the_configured_hour(runtime):
    from bot.scheduler.jobs import start_scheduler

    runtime.settings = Settings(database_url=runtime.settings.database_url, retention={"hour": 4})
    scheduler = start_scheduler(runtime)
    try:
        trigger = scheduler.get_job("retention").trigger
        fields = {f.name: str(f) for f in trigger.fields}
        assert (fields["hour"], fields["minute"], fields["day"]) == ("4", "17", "*")
    finally:
        scheduler.shutdown(wait=True)
        scheduler.leadership.release()
