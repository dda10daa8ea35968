"""Reminders at scale: 10,000 enrolments x 2 reminders, scheduled, then dispatched at a set rate.

What it does, per database (SQLite: one dispatching process; PostgreSQL: two):
1. a fresh database, migrated; N residents (each has texted once through Twilio, so notifications go
   back through Twilio), N/6 workshops of 6 seats, N confirmed enrolments (bulk inserts, not timed);
   then the 2N reminder rows are scheduled (timed: target <= 5 s);
2. dispatcher processes (this script with --worker) each run like the server's scheduler jobs:
   in the leader (advisory lock on PostgreSQL) a thread turns due reminders into outbox rows while
   the main thread of every process sends outbox rows, paced at rate/processes
   (reminders.rate_per_second and twilio.messages_per_second), through Relais's TwilioSender
   (the official ``twilio`` client) to the Twilio mock: Prism serving Twilio's OpenAPI description
   (tests/peers, `npm ci --prefix tests/peers`), behind a counting pass-through proxy in its own
   process that logs the outbox id of each request (from its StatusCallback URL) and its arrival
   time. Prism answers every send with the same SID: the dispatcher must record them all anyway.
   With --provider sink the proxy answers by itself (no Prism; a plain HTTP sender, no twilio client);
3. a run where one dispatcher is SIGKILLed at 40 % and restarted (with --also-clean, a run without
   the kill first); rows it left in "sending" are recovered after --stale seconds, unless Twilio's status
   callback said it took them: with the twilio provider each dispatcher applies, half a second or less
   after the proxy saw a send, the callback Twilio would post for it (--no-callbacks turns this off).
Counted at the proxy: duplicates (same outbox row received twice) and losses (reminders never
received); in the database: every reminder sent, one outbox row each. Rate = messages received /
(last - first arrival), and in steady state (10th to 90th percentile arrival); "lost_seconds" adds up
the gaps between arrivals longer than 3 sending intervals, in the first 10 %, middle and last 10 %.
Memory: each dispatcher's VmRSS sampled every second, reported from 10 s on (the first seconds are imports).
The sending window is configured open all week (00:00-24:00, holidays off) and collapse_overdue is
off, so all 2N reminders, due at once, go out.

    .venv/bin/python benchmarks/reminders_dispatch.py [--enrolments 10000] [--rate 150] [--also-clean]
        [--databases sqlite,postgresql] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--provider twilio|sink]
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
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCRIPT = Path(__file__).resolve()
PROVIDER = "simulator"  # what provider_for() picks for a resident who never wrote: our HTTP sender


# -- the proxy: counts what reaches the provider (Prism), or stands in for it -----------------------

def run_sink(port_file: str, log_file: str, upstream: str = "") -> None:
    import http.client
    from urllib.parse import parse_qs, urlsplit

    lock = threading.Lock()
    out = open(log_file, "a", buffering=1)  # noqa: SIM115  (open for the process's life)
    local = threading.local()
    target = urlsplit(upstream) if upstream else None

    def forward(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        connection = getattr(local, "connection", None)
        for attempt in range(2):  # a kept-alive connection the mock closed: reconnect once
            if connection is None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                connection.connect()
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                local.connection = connection
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheader("Content-Type", "application/json"), response.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                connection = local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms each.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            if target is None:  # --provider sink: a JSON body from the plain HTTP sender
                outbox_id = json.loads(raw)["outbox_id"]
            else:  # the twilio client's form: the outbox id is in the StatusCallback URL
                callback = parse_qs(raw.decode())["StatusCallback"][0]
                outbox_id = int(parse_qs(urlsplit(callback).query)["outbox_id"][0])
            with lock:
                out.write(f"{outbox_id} {time.time():.6f}\n")
            if target is None:
                status, content_type = 201, "application/json"
                reply = json.dumps({"sid": f"SM{uuid.uuid4().hex}"}).encode()
            else:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                status, content_type, reply = forward("POST", self.path, headers, raw)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a SIGKILLed dispatcher's connection
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# -- a dispatching process ------------------------------------------------------------------------

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2  # well formed, fake: only the mock sees them
AUTH_TOKEN = "fedcba9876543210" * 2
# The sender number's cap (twilio.messages_per_second) above the notifications' pace
# (reminders.rate_per_second, the configured rate measured here): room left for replies.
TWILIO_HEADROOM = 1.25


def _settings(url: str, rate: float, proxy_url: str = "", stale: float = 300.0):  # type: ignore[no-untyped-def]
    from bot.channels.settings import TwilioSettings
    from bot.config import ReminderSettings, SendingWindowSettings, Settings
    from bot.outbox.settings import OutboxSettings

    window = SendingWindowSettings(days=list(range(7)), start="00:00", end="24:00", skip_public_holidays=False)
    reminders = ReminderSettings(offsets=["day_before@18:00", "-4h"], rate_per_second=rate, window=window,
                                 collapse_overdue=False, batch_size=100)
    twilio = TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+33757000000",
                            api_base_url=proxy_url or None, messages_per_second=rate * TWILIO_HEADROOM or 1.0)
    # The same "stale" as recover_stale below: a batch gives back the rows it has not reached by half of it,
    # instead of another process recovering and sending them while this one still would.
    outbox = OutboxSettings(stale_sending_seconds=stale)
    return Settings(database_url=url, reminders=reminders, twilio=twilio, outbox=outbox)


def _status_callbacks(runtime, log_file: str, done: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """What Twilio does after taking a send: a status callback naming the outbox row (its StatusCallback
    URL). Emulated from the proxy's log, a second or less after the send, as
    ``POST /channels/twilio/status`` would apply it: a row the provider took is recorded as sent even if
    its dispatcher was killed before recording it, so it is not sent again."""
    from bot.db.models import OutboxItem
    from bot.outbox.dispatcher import accepted_by_provider

    position = 0
    while not done.is_set():
        time.sleep(0.5)
        try:
            with open(log_file) as log:
                log.seek(position)
                chunk = log.read()
        except FileNotFoundError:
            continue
        complete = chunk[: chunk.rfind("\n") + 1]
        position += len(complete.encode())
        ids = {int(line.split()[0]) for line in complete.splitlines() if line}
        if not ids:
            continue
        with runtime.db.transaction() as session:
            for outbox_id in sorted(ids):
                item = session.get(OutboxItem, outbox_id)
                if item is not None and item.status in ("sending", "pending"):
                    accepted_by_provider(session, outbox_id, item.provider, f"SMcallback{outbox_id:026d}",
                                         datetime.now(UTC))


def run_worker(url: str, sink_url: str, rate: float, stale: float, provider: str = "twilio",
               log_file: str = "") -> None:
    import httpx
    import structlog
    from sqlalchemy import func, select

    from bot.channels.base import OutgoingMessage, SendResult
    from bot.db import DatabaseUnavailable, connect
    from bot.db.models import OutboxItem, Reminder
    from bot.outbox.dispatcher import dispatch_due, recover_stale
    from bot.reminders.dispatch import drain_due_reminders
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
    settings = _settings(url, rate, sink_url, stale)
    if provider == "twilio":
        from bot.channels.twilio_sms import PROVIDER as TWILIO
        from bot.channels.twilio_sms import TwilioSender

        senders = {TWILIO: TwilioSender(settings.twilio, settings.public_url)}
    else:
        senders = {PROVIDER: HttpSender()}
    runtime = Runtime(settings=settings, db=db, parser=None, library=None,  # type: ignore[arg-type]
                      texts=default_texts(), senders=senders)
    leadership = Leadership(db)
    stale_after = timedelta(seconds=stale)
    last_recovery = 0.0
    done = threading.Event()
    busy = [0]

    def reminders_job() -> None:
        # As in the server: its own scheduler thread, run by the leading process only.
        while not done.is_set():
            try:
                if leadership.try_lead():
                    drain_due_reminders(runtime, should_stop=done.is_set)  # what the server's job runs
                time.sleep(0.5)
            except DatabaseUnavailable:  # SQLite busy past its timeout: try again, as the server job does
                busy[0] += 1

    threading.Thread(target=reminders_job, daemon=True).start()
    if provider == "twilio" and log_file:
        threading.Thread(target=_status_callbacks, args=(runtime, log_file, done), daemon=True).start()
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


def _populate(url: str, enrolments: int, rate: float, provider: str = "twilio") -> tuple[int, float]:
    """Residents, workshops, enrolments (untimed), then the reminders (timed). Returns (rows, seconds)."""
    from sqlalchemy import insert, select

    from bot.db import connect
    from bot.db.migrate import upgrade
    from bot.db.models import Enrolment, Message, Resident, Workshop
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
        if provider == "twilio":  # each enrolled by SMS: their notifications go back through Twilio
            for start in range(0, len(resident_ids), 5000):
                session.execute(insert(Message), [
                    {"resident_id": rid, "direction": "in", "channel": "sms", "provider": "twilio",
                     "provider_message_id": f"SMin{rid}", "body": "1", "created_at": now - timedelta(days=2)}
                    for rid in resident_ids[start:start + 5000]
                ])
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


def _lost_seconds(times: list[float], rate: float) -> dict[str, float]:
    """Time lost in gaps longer than 3 sending intervals, by part of the run (first 10 %, middle, last 10 %)."""
    parts = {"first_10pct": 0.0, "middle": 0.0, "last_10pct": 0.0}
    interval = 1.0 / rate
    for i in range(1, len(times)):
        gap = times[i] - times[i - 1]
        if gap > 3 * interval:
            part = "first_10pct" if i < len(times) // 10 else "last_10pct" if i > len(times) * 9 // 10 else "middle"
            parts[part] += gap - interval
    return {k: round(v, 1) for k, v in parts.items()}


def _steady_ratio(times: list[float], rate: float) -> float | None:
    if len(times) < 20:
        return None
    low, high = len(times) // 10, len(times) * 9 // 10
    span = times[high] - times[low]
    return round((high - low) / span / rate, 3) if span else None


def _check_database(url: str) -> dict[str, object]:
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
            # A send that timed out (an overloaded mock) is tried again: the mock may have had the first one.
            "outbox_rows_tried_again": session.scalar(select(func.count()).select_from(OutboxItem)
                                                      .where(OutboxItem.attempts > 1)),
            "errors_before_a_retry": dict(session.execute(
                select(OutboxItem.error_code, func.count()).where(OutboxItem.attempts > 1)
                .group_by(OutboxItem.error_code)).all()),
            "distinct_outbox_per_reminder": session.scalar(select(func.count(func.distinct(Reminder.outbox_id)))),
        }
    db.dispose()
    return result


def _run(kind: str, args: argparse.Namespace, folder: Path, kill: bool) -> dict[str, object]:
    processes = 1 if kind == "sqlite" else 2
    url, drop = _fresh_database(kind, args.pg_url, folder)
    try:
        rows, schedule_seconds = _populate(url, args.enrolments, args.rate, args.provider)
        log_file, port_file = folder / f"sink-{uuid.uuid4().hex[:6]}.log", folder / "port"
        port_file.unlink(missing_ok=True)
        sink = subprocess.Popen([sys.executable, str(SCRIPT), "--sink", str(port_file), str(log_file),
                                 args.upstream])
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        sink_url = f"http://127.0.0.1:{port_file.read_text()}"

        def start_worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, str(SCRIPT), "--worker", url, sink_url,
                                     str(args.rate / processes), str(args.stale), args.provider,
                                     str(log_file) if args.callbacks else ""])

        run_started = time.time()
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
            # From 10 s on: the first seconds are the imports, not the dispatch.
            f"dispatcher_{i}_rss_mb": (f"at 10 s {s[9] / 1024:.0f}, max {max(s[9:]) / 1024:.0f}, "
                                       f"last {s[-1] / 1024:.0f} ({len(s)} samples)" if len(s) > 10 else "few samples")
            for i, s in enumerate(samples)
        }
        return {
            "database": kind, "provider": args.provider, "dispatching_processes": processes,
            "sigkill_and_restart": kill,
            "killed_after_received": killed_at, "reminders_scheduled": rows,
            "schedule_seconds": round(schedule_seconds, 2), "received": len(ids), "unique_received": len(set(ids)),
            "duplicates": len(ids) - len(set(ids)), "losses": rows - len(set(ids)),
            "configured_rate": args.rate, "achieved_rate": round(len(ids) / elapsed, 1) if elapsed else None,
            "rate_ratio": round(len(ids) / elapsed / args.rate, 3) if elapsed else None,
            # Steady state: between the 10th and 90th percentile arrivals (leaves out the start-up and,
            # after a SIGKILL, the tail of rows waiting --stale seconds to be recovered).
            "steady_rate_ratio": _steady_ratio(times, args.rate),
            "lost_seconds": _lost_seconds(times, args.rate),
            "first_arrival_after_start_s": round(times[0] - run_started, 1) if times else None,
            **memory, **database,
        }
    finally:
        drop()  # type: ignore[operator]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        run_sink(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6],
                   sys.argv[7] if len(sys.argv) > 7 else "")
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrolments", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=80.0, help="messages per second, all processes together")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("RELAIS_TEST_DATABASE_URL")
                        or "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--stale", type=float, default=5.0, help="seconds before 'sending' rows are recovered")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--also-clean", action="store_true", help="also a run without SIGKILL per database")
    parser.add_argument("--provider", choices=["twilio", "sink"], default="twilio",
                        help="twilio: TwilioSender -> counting proxy -> Prism; sink: plain HTTP to the proxy alone")
    parser.add_argument("--no-callbacks", dest="callbacks", action="store_false",
                        help="twilio: do not emulate Twilio's status callbacks (rows in flight at a SIGKILL then "
                             "go twice, after --stale seconds)")
    args = parser.parse_args()
    print(__doc__.split("\n\n    .venv")[0])
    with ExitStack() as stack:
        args.upstream = ""
        if args.provider == "twilio":
            from tests.peers.peers import twilio_mock

            args.upstream = stack.enter_context(twilio_mock())
        return _all_runs(args)


def _all_runs(args: argparse.Namespace) -> int:
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
