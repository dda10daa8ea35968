"""Reminders at scale: 10,000 enrolments x 2 reminders, scheduled, then dispatched at a set rate.

What it does, per database (SQLite: one dispatching process; PostgreSQL: two):
1. a fresh database, migrated; N residents, N/6 workshops of 6 seats, N confirmed enrolments
   (bulk inserts, not timed); then the 2N reminder rows are scheduled (timed: target <= 5 s);
2. dispatcher processes (this script with --worker) each run like the server's scheduler jobs:
   in the leader (advisory lock on PostgreSQL) a thread turns due reminders into outbox rows while
   the main thread of every process
   sends outbox rows through an HTTP sender, paced at rate/processes, to a local HTTP sink in a
   separate process that logs every message it receives (no Twilio mock was in the tree: this
   sink stands in for the provider; the sender is a plain httpx POST);
3. a run where one dispatcher is SIGKILLed at 40 % and restarted (with --also-clean, a run without
   the kill first); rows it left in "sending" are recovered after --stale seconds.
Counted at the sink: duplicates (same outbox row received twice) and losses (reminders never
received); in the database: every reminder sent, one outbox row each. Rate = messages received /
(last - first arrival), and in steady state (10th to 90th percentile arrival). Memory: each
dispatcher's VmRSS sampled every second.
The sending window is configured open all week (00:00-24:00, holidays off) and collapse_overdue is
off, so all 2N reminders, due at once, go out.

    .venv/bin/python benchmarks/reminders_dispatch.py [--enrolments 10000] [--rate 150] [--also-clean]
        [--databases sqlite,postgresql] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCRIPT = Path(__file__).resolve()
PROVIDER = "simulator"  # what provider_for() picks for a resident who never wrote: our HTTP sender


# -- the sink: a stand-in provider that logs what it receives --------------------------------------

def run_sink(port_file: str, log_file: str) -> None:
    lock = threading.Lock()
    out = open(log_file, "a", buffering=1)  # noqa: SIM115  (open for the process's life)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms each.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                out.write(f"{body['outbox_id']} {time.time():.6f}\n")
            reply = json.dumps({"sid": f"SM{uuid.uuid4().hex}"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# -- a dispatching process ------------------------------------------------------------------------

def _settings(url: str, rate: float):  # type: ignore[no-untyped-def]
    from bot.config import ReminderSettings, SendingWindowSettings, Settings

    window = SendingWindowSettings(days=list(range(7)), start="00:00", end="24:00", skip_public_holidays=False)
    reminders = ReminderSettings(offsets=["day_before@18:00", "-4h"], rate_per_second=rate, window=window,
                                 collapse_overdue=False, batch_size=100)
    return Settings(database_url=url, reminders=reminders)


def run_worker(url: str, sink_url: str, rate: float, stale: float) -> None:
    import httpx
    import structlog
    from sqlalchemy import func, select

    from bot.channels.base import OutgoingMessage, SendResult
    from bot.db import DatabaseUnavailable, connect
    from bot.db.models import OutboxItem, Reminder
    from bot.outbox.dispatcher import dispatch_due, recover_stale
    from bot.reminders.dispatch import dispatch_due_reminders
    from bot.runtime import Runtime
    from bot.scheduler.leader import Leadership
    from flows.texts import default_texts

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))

    class HttpSender:
        provider = PROVIDER

        def __init__(self) -> None:
            self.client = httpx.Client(base_url=sink_url, timeout=10)

        def send(self, message: OutgoingMessage) -> SendResult:
            response = self.client.post("/send", json={"outbox_id": message.outbox_id, "to": message.address,
                                                       "body": message.text})
            if response.status_code >= 500:
                return SendResult(ok=False, status="failed", transient=True, error_code=str(response.status_code))
            return SendResult(ok=True, provider_message_id=response.json()["sid"], status="queued")

    db = connect(url)
    runtime = Runtime(settings=_settings(url, rate), db=db, parser=None, library=None,  # type: ignore[arg-type]
                      texts=default_texts(), senders={PROVIDER: HttpSender()})
    leadership = Leadership(db)
    stale_after = timedelta(seconds=stale)
    last_recovery = 0.0
    done = threading.Event()
    busy = [0]

    def reminders_job() -> None:
        # As in the server: its own scheduler thread, run by the leading process only.
        while not done.is_set():
            try:
                if not leadership.try_lead() or dispatch_due_reminders(runtime).handled == 0:
                    time.sleep(0.5)
                time.sleep(0.05)  # between batches, as the server's job does
            except DatabaseUnavailable:  # SQLite busy past its timeout: try again, as the server job does
                busy[0] += 1

    threading.Thread(target=reminders_job, daemon=True).start()
    while True:
        try:
            if time.monotonic() - last_recovery > stale / 2:
                recover_stale(runtime, older_than=stale_after)
                last_recovery = time.monotonic()
            report = dispatch_due(runtime, limit=20)
        except DatabaseUnavailable:
            busy[0] += 1
            continue
        if report.sent or report.retrying or report.failed:
            continue
        with db.transaction() as session:
            left = session.scalar(select(func.count()).select_from(Reminder).where(Reminder.state == "pending"))
            left += session.scalar(select(func.count()).select_from(OutboxItem)
                                   .where(OutboxItem.status.in_(("pending", "sending"))))
        if not left:
            done.set()
            if busy[0]:
                print(f"dispatcher {os.getpid()}: database busy {busy[0]} times (retried)", flush=True)
            return
        time.sleep(0.2)


# -- the orchestrator -----------------------------------------------------------------------------

def _rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _fresh_database(kind: str, pg_url: str, folder: Path) -> tuple[str, object]:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}", lambda: None
    from sqlalchemy import create_engine, text

    name = f"relais_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{pg_url.rsplit('/', 1)[0]}/{name}", drop


def _populate(url: str, enrolments: int, rate: float) -> tuple[int, float]:
    """Residents, workshops, enrolments (untimed), then the reminders (timed). Returns (rows, seconds)."""
    from sqlalchemy import insert, select

    from bot.db import connect
    from bot.db.migrate import upgrade
    from bot.db.models import Enrolment, Resident, Workshop
    from bot.reminders.schedule import schedule_all_confirmed
    from bot.structures import default_structure

    settings = _settings(url, rate)
    db = connect(url)
    upgrade(db)
    now = datetime.now(UTC)
    starts = now + timedelta(hours=3)
    with db.transaction() as session:
        structure = default_structure(session, settings)
        session.execute(insert(Resident), [
            {"channel": "sms", "address": f"+3361{n:07d}", "structure_id": structure.id} for n in range(enrolments)
        ])
        resident_ids = list(session.scalars(select(Resident.id).order_by(Resident.id)))
        count = (enrolments + 5) // 6
        session.execute(insert(Workshop), [
            {"structure_id": structure.id, "title": f"Atelier {n}", "place_name": "Maison de quartier Saint-Eloi",
             "starts_at": starts, "ends_at": starts + timedelta(hours=2), "capacity": 6} for n in range(count)
        ])
        workshop_ids = list(session.scalars(select(Workshop.id).order_by(Workshop.id)))
        session.execute(insert(Enrolment), [
            {"workshop_id": workshop_ids[i // 6], "resident_id": rid, "status": "confirmed"}
            for i, rid in enumerate(resident_ids)
        ])
    started = time.perf_counter()
    with db.transaction() as session:
        workshops = list(session.scalars(select(Workshop)))
        # Booked two days ago, so both reminders are due now and the whole run is dispatch.
        rows = schedule_all_confirmed(session, workshops, now - timedelta(days=2), settings.reminders)
    seconds = time.perf_counter() - started
    db.dispose()
    return rows, seconds


def _steady_ratio(times: list[float], rate: float) -> float | None:
    if len(times) < 20:
        return None
    low, high = len(times) // 10, len(times) * 9 // 10
    span = times[high] - times[low]
    return round((high - low) / span / rate, 3) if span else None


def _check_database(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from bot.db import connect
    from bot.db.models import OutboxItem, Reminder

    db = connect(url)
    with db.transaction() as session:
        result = {
            "reminders_sent": session.scalar(select(func.count()).select_from(Reminder)
                                             .where(Reminder.state == "sent")),
            "reminders_not_sent": session.scalar(select(func.count()).select_from(Reminder)
                                                 .where(Reminder.state != "sent")),
            "outbox_rows": session.scalar(select(func.count()).select_from(OutboxItem)),
            "outbox_rows_sent": session.scalar(select(func.count()).select_from(OutboxItem)
                                               .where(OutboxItem.status == "sent")),
            "distinct_outbox_per_reminder": session.scalar(select(func.count(func.distinct(Reminder.outbox_id)))),
        }
    db.dispose()
    return result


def _run(kind: str, args: argparse.Namespace, folder: Path, kill: bool) -> dict[str, object]:
    processes = 1 if kind == "sqlite" else 2
    url, drop = _fresh_database(kind, args.pg_url, folder)
    try:
        rows, schedule_seconds = _populate(url, args.enrolments, args.rate)
        log_file, port_file = folder / f"sink-{uuid.uuid4().hex[:6]}.log", folder / "port"
        port_file.unlink(missing_ok=True)
        sink = subprocess.Popen([sys.executable, str(SCRIPT), "--sink", str(port_file), str(log_file)])
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        sink_url = f"http://127.0.0.1:{port_file.read_text()}"

        def start_worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, str(SCRIPT), "--worker", url, sink_url,
                                     str(args.rate / processes), str(args.stale)])

        workers = [start_worker() for _ in range(processes)]
        samples: list[list[int]] = [[] for _ in range(processes)]
        killed_at = None
        started = time.monotonic()
        while any(w.poll() is None for w in workers):
            time.sleep(1)
            for i, worker in enumerate(workers):
                rss = _rss_kb(worker.pid) if worker.poll() is None else None
                if rss:
                    samples[i].append(rss)
            received = sum(1 for _ in open(log_file)) if log_file.exists() else 0
            if kill and killed_at is None and received >= 0.4 * rows:
                os.kill(workers[0].pid, signal.SIGKILL)
                workers[0].wait()
                killed_at = received
                time.sleep(1)
                workers[0] = start_worker()
                samples[0] = []  # memory of the restarted process only
            if time.monotonic() - started > args.timeout:
                for worker in workers:
                    worker.kill()
                break
        sink.terminate()
        sink.wait()
        lines = [line.split() for line in log_file.read_text().splitlines()]
        ids = [int(parts[0]) for parts in lines]
        times = sorted(float(parts[1]) for parts in lines)
        elapsed = times[-1] - times[0] if len(times) > 1 else 0.0
        database = _check_database(url)
        memory = {
            f"dispatcher_{i}_rss_mb": (f"first {s[0] / 1024:.0f}, max {max(s) / 1024:.0f}, last {s[-1] / 1024:.0f}"
                                       f" ({len(s)} samples)" if s else "no samples")
            for i, s in enumerate(samples)
        }
        return {
            "database": kind, "dispatching_processes": processes, "sigkill_and_restart": kill,
            "killed_after_received": killed_at, "reminders_scheduled": rows,
            "schedule_seconds": round(schedule_seconds, 2), "received": len(ids), "unique_received": len(set(ids)),
            "duplicates": len(ids) - len(set(ids)), "losses": rows - len(set(ids)),
            "configured_rate": args.rate, "achieved_rate": round(len(ids) / elapsed, 1) if elapsed else None,
            "rate_ratio": round(len(ids) / elapsed / args.rate, 3) if elapsed else None,
            # Steady state: between the 10th and 90th percentile arrivals (leaves out the start-up and,
            # after a SIGKILL, the tail of rows waiting --stale seconds to be recovered).
            "steady_rate_ratio": _steady_ratio(times, args.rate),
            **memory, **database,
        }
    finally:
        drop()  # type: ignore[operator]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        run_sink(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrolments", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=150.0, help="messages per second, all processes together")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("RELAIS_TEST_DATABASE_URL")
                        or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--stale", type=float, default=5.0, help="seconds before 'sending' rows are recovered")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--also-clean", action="store_true", help="also a run without SIGKILL per database")
    args = parser.parse_args()
    print(__doc__.split("\n\n    .venv")[0])
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            for kill in ([False, True] if args.also_clean else [True]):
                result = _run(kind, args, Path(tmp), kill)
                print(json.dumps(result, indent=2), flush=True)
                failures += bool(result["duplicates"] or result["losses"] or result["reminders_not_sent"]
                                 or result["reminders_scheduled"] != 2 * args.enrolments)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
