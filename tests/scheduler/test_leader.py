"""One process leads the scheduler's once-per-deployment jobs; another takes over when it goes."""

from __future__ import annotations

from bot.db import connect
from bot.scheduler.leader import Leadership


def test_one_leader_at_a_time_and_takeover(database_url):
    first_db, second_db = connect(database_url), connect(database_url)
    first, second = Leadership(first_db, key=4242), Leadership(second_db, key=4242)
    try:
        assert first.try_lead()
        if first_db.is_postgresql:
            assert not second.try_lead() and not second.leading
            assert first.try_lead()  # still leading: its connection holds the lock
            first.release()
            assert second.try_lead() and second.leading
        else:  # SQLite: one process, it leads
            assert second.try_lead()
    finally:
        first.release(), second.release()
        first_db.dispose(), second_db.dispose()


def test_a_leader_whose_process_dies_is_replaced(database_url):
    first_db, second_db = connect(database_url), connect(database_url)
    first, second = Leadership(first_db, key=4243), Leadership(second_db, key=4243)
    try:
        assert first.try_lead()
        first._connection.invalidate() if first._connection is not None else None  # the connection dies
        first_db.dispose()
        assert second.try_lead()
    finally:
        second.release()
        second_db.dispose()
