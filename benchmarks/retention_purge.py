"""Retention purge: how fast residents silent for 24 months are erased, and how long other writers wait meanwhile.

Set-up: a fresh database (SQLite file by default, or --database-url for PostgreSQL), migrated, then
bulk-inserted: --stale residents silent for 25 months and --active residents who wrote yesterday, each
with --messages messages (half in, half out, each out message with its outbox row) and, for one in two,
a closed ticket with a note and two audit entries.
The purge runs exactly as the daily job does (bot/privacy/retention.py: batches of
retention.batch_size residents, one transaction each). Meanwhile a second thread plays the server:
every 20 ms a short write transaction (an active resident's last_contact_at), timed from start to commit.

Printed: residents erased per second, batch transaction time p50/p95/max, the other writer's wait
p50/p99/max, and a check that every stale resident went, no active one did, and each erased ticket left an
anonymous row.

    .venv/bin/python benchmarks/retention_purge.py [--stale 3000] [--active 3000] [--messages 20]
        [--batch-size 50] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/relais_bench]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db import connect  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import (  # noqa: E402
    AnonymousTicket,
    AuditEntry,
    Mediator,
    Message,
    OutboxItem,
    Resident,
    Ticket,
    TicketNote,
)
from bot.privacy.retention import PAUSE_BETWEEN_BATCHES_SECONDS, purge_batch  # noqa: E402
from bot.privacy.settings import RetentionSettings  # noqa: E402

NOW = datetime(2028, 6, 15, 3, 17, tzinfo=UTC)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def fresh_url(given: str | None) -> str:
    if given is None:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='relais-bench-retention-')) / 'bench.sqlite3'}"
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:  # the named database is the benchmark's own: emptied first
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return given


def seed(database, stale: int, active: int, messages: int) -> None:  # type: ignore[no-untyped-def]
    old, recent = NOW - timedelta(days=760), NOW - timedelta(days=1)
    with database.transaction() as session:
        mediator = Mediator(email="bench@relais.test", display_name="Bench", password_hash="x")
        session.add(mediator)
        session.flush()
        mediator_id = mediator.id
    for start in range(0, stale + active, 1000):
        numbers = range(start, min(start + 1000, stale + active))
        with database.transaction() as session:
            rows = [{"channel": "sms", "address": f"+336{n:08d}", "first_contact_at": old if n < stale else recent,
                     "last_contact_at": old if n < stale else recent, "language": "fr", "opted_out": False,
                     "followups_enabled": True, "invalid_address": False} for n in numbers]
            session.execute(insert(Resident), rows)
            ids = dict(session.execute(select(Resident.address, Resident.id)
                                       .where(Resident.address.in_([r["address"] for r in rows]))).all())
            session.execute(insert(Message), [
                {"resident_id": ids[r["address"]], "direction": "in" if k % 2 == 0 else "out", "channel": "sms",
                 "provider": "simulator", "body": f"message {k} de la conversation", "status": "received",
                 "created_at": r["last_contact_at"], "updated_at": r["last_contact_at"]}
                for r in rows for k in range(messages)])
            tickets = [{"resident_id": ids[r["address"]], "reason": "asked", "theme": "email", "status": "closed",
                        "outcome": "resolu", "reopened_count": 0, "opened_at": r["last_contact_at"],
                        "waiting_since": r["last_contact_at"], "closed_at": r["last_contact_at"],
                        "updated_at": r["last_contact_at"]}
                       for n, r in zip(numbers, rows, strict=True) if n % 2 == 0]
            session.execute(insert(Ticket), tickets)
            ticket_ids = session.scalars(select(Ticket.id).where(
                Ticket.resident_id.in_([t["resident_id"] for t in tickets]))).all()
            session.execute(insert(TicketNote), [{"ticket_id": t, "mediator_id": mediator_id, "body": "note",
                                                  "created_at": NOW} for t in ticket_ids])
            session.execute(insert(AuditEntry), [{"action": action, "mediator_id": mediator_id, "ticket_id": t,
                                                  "created_at": NOW} for t in ticket_ids
                                                 for action in ("ticket_claimed", "ticket_closed")])
            out = session.execute(select(Message.id, Message.resident_id, Message.body, Message.created_at).where(
                Message.resident_id.in_(ids.values()), Message.direction == "out")).all()
            session.execute(insert(OutboxItem), [
                {"resident_id": resident_id, "message_id": message_id, "channel": "sms", "provider": "simulator",
                 "address": "+33600000000", "body": body, "kind": "reply", "encoding": "GSM-7", "segments": 1,
                 "status": "sent", "attempts": 1, "next_attempt_at": created, "created_at": created}
                for message_id, resident_id, body, created in out])


class OtherWriter(threading.Thread):
    """The server meanwhile: a short write every 20 ms, timed from begin to commit."""

    def __init__(self, database, address: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.database, self.address = database, address
        self.waits: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            with self.database.transaction() as session:
                session.execute(update(Resident).where(Resident.address == self.address)
                                .values(last_contact_at=NOW - timedelta(hours=1)))
            self.waits.append(time.perf_counter() - started)
            time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stale", type=int, default=3000)
    parser.add_argument("--active", type=int, default=3000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=RetentionSettings().batch_size)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    url = fresh_url(args.database_url)
    database = connect(url)
    upgrade(database)
    started = time.perf_counter()
    seed(database, args.stale, args.active, args.messages)
    print(f"database: {database.engine.dialect.name}; seeded {args.stale} stale + {args.active} active residents, "
          f"{args.messages} messages each, a ticket with a note for one in two "
          f"({time.perf_counter() - started:.1f} s)")

    settings = RetentionSettings(batch_size=args.batch_size)
    writer = OtherWriter(database, f"+336{args.stale:08d}")  # an active resident
    batch_times: list[float] = []
    erased = 0
    writer.start()
    started = time.perf_counter()
    while True:  # what retention.purge does, with each batch timed
        batch_started = time.perf_counter()
        with database.transaction() as session:
            done = purge_batch(session, settings, NOW)
        batch_times.append(time.perf_counter() - batch_started)
        erased += done.residents
        if done.residents < settings.batch_size:
            break
        time.sleep(PAUSE_BETWEEN_BATCHES_SECONDS)
    elapsed = time.perf_counter() - started
    writer.stop.set()
    writer.join()

    with database.transaction() as session:
        left_stale = session.scalar(select(func.count()).select_from(Resident)
                                    .where(Resident.last_contact_at < NOW - timedelta(days=700)))
        active_left = session.scalar(select(func.count()).select_from(Resident))
        anonymous = session.scalar(select(func.count()).select_from(AnonymousTicket))
    ms = [t * 1000 for t in batch_times]
    waits = [w * 1000 for w in writer.waits]
    print(f"purge: {erased} residents erased in {elapsed:.1f} s = {erased / elapsed:.0f} residents/s "
          f"({erased * args.messages / elapsed:.0f} messages/s), {len(batch_times)} batches of {args.batch_size}")
    print(f"batch transaction: p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, "
          f"max {max(ms):.0f} ms")
    print(f"other writer meanwhile ({len(waits)} writes): p50 {statistics.median(waits):.1f} ms, "
          f"p99 {percentile(waits, 0.99):.1f} ms, max {max(waits):.1f} ms")
    ok = left_stale == 0 and active_left == args.active and anonymous == (args.stale + 1) // 2 and erased == args.stale
    print(f"check: stale left {left_stale}, active kept {active_left}/{args.active}, anonymous tickets {anonymous} "
          f"-> {'OK' if ok else 'WRONG'}")
    database.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
