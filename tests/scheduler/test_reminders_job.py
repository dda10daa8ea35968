"""The scheduler's reminders job: the leading process turns due reminders into outbox rows; others wait."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import connect
from bot.db.models import OutboxItem
from bot.scheduler.jobs import _dispatch_reminders
from bot.scheduler.leader import Leadership
from bot.workshops.service import enrol
from tests.workshops.helpers import add_resident, add_workshop, paris


def test_only_the_leader_dispatches_reminders(runtime, database_url):
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, paris(2026, 12, 1, 14))
        enrol(session, add_resident(session, 1), workshop.id, paris(2026, 11, 20, 10))
    runtime.clock = lambda: paris(2026, 11, 30, 18)
    holder_db = connect(database_url)
    holder = Leadership(holder_db)
    try:
        assert holder.try_lead()
        follower = Leadership(runtime.db)
        _dispatch_reminders(runtime, follower)
        with runtime.db.transaction() as session:
            sent = session.scalars(select(OutboxItem)).all()
        # On PostgreSQL another process holds the lock: nothing sent. SQLite has one process: it leads.
        assert len(sent) == (0 if runtime.db.is_postgresql else 1)
        holder.release()
        _dispatch_reminders(runtime, follower)
        follower.release()
        with runtime.db.transaction() as session:
            assert len(session.scalars(select(OutboxItem)).all()) == 1
    finally:
        holder.release()
        holder_db.dispose()
