"""Soak: mixed SMS traffic at a steady rate for a long time, with faults injected; nothing lost, nothing doubled.

What it does (everything on loopback, through HTTP only; harness in tests/faults/harness.py):
- a real `relais serve` process (SQLite file, or a fresh PostgreSQL database created for the run and
  dropped after), its Twilio sender pointed at a fault-injecting stand-in of Twilio's Messages API that
  calls each message's signed status callback (retried until answered);
- residents texting at --rate messages per second (open loop: a message is due every 1/rate s whatever
  the server does), each resident at a person's pace (one message every --resident-interval s, under the
  flood limit of bot/inbound/flood.py; 6 messages each, then new residents take over): guides in their own
  words, MENU and its numbers, SUITE/OUI/NON, ATELIER,
  STOP then START, AIDE, photos (MMS), and retries of already acknowledged webhooks (duplicates);
  every webhook without a 2xx is retried, as Twilio does;
- faults: provider 500s, hangs (timeouts) and late accepts all along (--error-rate, --hang-rate,
  --late-rate) plus one 15 s provider outage (every send 500); two database outages (PostgreSQL: the
  database refuses connections and its backends are terminated for --db-outage s; SQLite: another
  process holds an exclusive lock that long); one SIGKILL of the server and a restart;
- at the end (traffic stopped, queue drained): lost = acknowledged messages not stored, or whose replies
  were never accepted by the provider (dead letters included); duplicates = replies the provider accepted
  twice, or one message's reply queued twice; p50/p99 latency of acknowledged webhooks (the attempt
  that got the 2xx); server RSS (VmRSS every 5 s), growth = mean of the last quarter of the surviving
  process's samples over the mean of its first quarter (the kill comes early, at 10 % of the run, so the
  surviving process serves ~90 % of it).

    .venv/bin/python benchmarks/soak.py [--duration 1800] [--rate 20] [--database sqlite|postgresql]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--database-url URL] [--json FILE]

Prints one block of figures; --json also writes them. Exit status 1 when anything was lost or doubled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.harness import Faults, Provider, ProviderSink, RelaisServer, check  # noqa: E402

GUIDE_TEXTS = [
    "jai oublie mon code caf", "comment je fais l'actualisation france travail", "mot de passe ameli perdu",
    "ce sms de l'ameli c'est une arnaque ?", "je dois declarer mes impots en ligne", "pronote marche pas",
    "comment avoir mon attestation caf", "renouveler mon titre de sejour", "jarrive pas a ouvrir mes mails",
]
MENU_TEXTS = ["MENU", "1", "2", "3", "4", "5", "6", "7", "8", "SUITE", "OUI", "NON", "0"]
PHOTO = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0"


@dataclass
class Figures:
    database: str
    duration_s: float
    rate_target: float
    messages: int = 0
    duplicates_sent: int = 0
    acked: int = 0
    unacked: int = 0
    lost: int = 0
    duplicate_replies: int = 0
    unanswered: int = 0
    replies: int = 0
    dead_letters: int = 0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    latency_max_ms: float = 0.0
    webhook_statuses: dict[str, int] = field(default_factory=dict)
    provider_faults: dict[str, int] = field(default_factory=dict)
    database_outages: int = 0
    sigkills: int = 0
    restart_s: list[float] = field(default_factory=list)
    rss_first_quarter_mib: float = 0.0
    rss_last_quarter_mib: float = 0.0
    rss_growth_pct: float = 0.0
    outbox: dict[str, int] = field(default_factory=dict)
    achieved_rate: float = 0.0
    aborted: str = ""
    machine: str = ""


def pick(rng: random.Random) -> tuple[str, list[str] | None, bool]:
    """One message of the mix: (text, media, delivered twice)."""
    draw = rng.random()
    duplicate = rng.random() < 0.08
    if draw < 0.30:
        return rng.choice(GUIDE_TEXTS), None, duplicate
    if draw < 0.70:
        return rng.choice(MENU_TEXTS), None, duplicate
    if draw < 0.78:
        return "ATELIER", None, duplicate
    if draw < 0.82:
        return "STOP", None, duplicate
    if draw < 0.86:
        return "START", None, duplicate
    if draw < 0.88:
        return "AIDE", None, duplicate
    if draw < 0.94:
        return "", [PHOTO], duplicate
    return rng.choice(["merci", "bonjour", "ok", "je comprends pas"]), None, duplicate


class DatabaseOutage:
    """Makes the run's database unavailable for a while, in a way that touches no other database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, seconds: float) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.split("sqlite:///", 1)[1]
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            connection.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            connection.execute("COMMIT")
            connection.close()
            return
        from sqlalchemy import create_engine, text

        name = self.url.rsplit("/", 1)[1]
        admin = create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:  # a restart: every session cut, no new one accepted
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                time.sleep(0.2)
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def create_pg_database(pg_url: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"relais_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(database_url: str, *, duration: float, rate: float = 20.0, seed: int = 2026, workdir: Path,
        error_rate: float = 0.03, hang_rate: float = 0.01, late_rate: float = 0.01, db_outage: float = 6.0,
        resident_interval: float = 10.0, conversation: int = 6, quiet: bool = False) -> Figures:
    rng = random.Random(seed)
    figures = Figures(database="postgresql" if database_url.startswith("postgresql") else "sqlite",
                      duration_s=duration, rate_target=rate,
                      machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    faults = Faults(error_500=error_rate, hang=hang_rate, late_accept=late_rate)
    sink = ProviderSink(faults, seed=seed)
    server = RelaisServer(database_url, sink.start(), workdir)
    figures.restart_s.append(round(server.start(), 2))
    provider = Provider(server.url, give_up_after=max(120.0, duration / 4))
    outage = DatabaseOutage(database_url)
    residents = max(1, int(rate * resident_interval))
    rss: list[tuple[float, int, int]] = []  # (t, server start number, KiB)
    stop = threading.Event()

    def say(text: str) -> None:
        if not quiet:
            print(f"[{time.monotonic() - began:7.1f} s] {text}", flush=True)

    def sample_memory() -> None:
        while not stop.wait(5.0):
            kib = server.rss_kib()
            if kib:
                rss.append((time.monotonic() - began, server.starts, kib))

    def fault_plan() -> None:
        try:
            inject_faults()
        except Exception as exc:  # e.g. the server did not come back: stop the run, report it
            figures.aborted = f"{type(exc).__name__}: {exc}"
            say(f"run aborted: {figures.aborted}")
            stop.set()

    def inject_faults() -> None:
        events = sorted([
            (0.10 * duration, "sigkill"),
            (0.25 * duration, "provider_outage"),
            (0.40 * duration, "database"),
            (0.75 * duration, "database"),
        ])
        for at, kind in events:
            if stop.wait(max(0.0, began + at - time.monotonic())):
                return
            if kind == "sigkill":
                server.kill()
                figures.sigkills += 1
                say("SIGKILL server")
                figures.restart_s.append(round(server.start(), 2))
                say(f"server back after {figures.restart_s[-1]} s")
            elif kind == "provider_outage":
                say("provider outage: every send answered 500 for 15 s")
                saved, faults.error_500 = faults.error_500, 1.0
                stop.wait(15.0)
                faults.error_500 = saved
            else:
                say(f"database outage {db_outage} s")
                outage.run(db_outage)
                figures.database_outages += 1

    pool = ThreadPoolExecutor(max_workers=96)
    began = time.monotonic()
    threading.Thread(target=sample_memory, daemon=True).start()
    planner = threading.Thread(target=fault_plan, daemon=True)
    planner.start()
    futures = []
    index = 0
    try:
        while True:
            due = began + index / rate
            if due - began >= duration or stop.is_set():
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            text, media, duplicate = pick(rng)
            # `residents` people text at once, each --conversation messages, then new people take over:
            # otherwise, over 30 minutes, nearly everyone ends up with a mediator (AIDE, misunderstandings)
            # and the bot stops answering them.
            address = f"+3367{index % residents + residents * (index // (residents * conversation)):07d}"
            futures.append(pool.submit(provider.deliver, address, text, media=media, duplicate=duplicate))
            figures.duplicates_sent += duplicate
            index += 1
            if index % int(rate * 60) == 0:
                say(f"{index} messages, {len(provider.acked())} acknowledged")
        say("traffic stopped; waiting for retries and the outbox to drain")
        if stop.is_set():
            provider.give_up_after = 0.0
        for future in futures:
            future.result()
        figures.achieved_rate = round(index / (time.monotonic() - began), 2)
        say("every webhook acknowledged or given up")
        planner.join(timeout=60)
        verdict = check(database_url, provider, sink, settle_timeout=180, progress=None if quiet else say)
        say("outbox drained and checked")
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        server.stop()
        sink.stop()
        say("server stopped")

    latencies = sorted(d.latency for d in provider.acked() if d.latency is not None)
    figures.messages = index
    figures.acked, figures.unacked = verdict.acked, verdict.unacked
    figures.lost, figures.duplicate_replies = len(verdict.lost), verdict.duplicates
    figures.unanswered, figures.replies = len(verdict.unanswered), verdict.replies
    figures.outbox = dict(verdict.outbox_states)
    figures.dead_letters = verdict.outbox_states.get("dead", 0)
    if latencies:
        figures.latency_p50_ms = round(1000 * statistics.median(latencies), 1)
        figures.latency_p99_ms = round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)
        figures.latency_max_ms = round(1000 * latencies[-1], 1)
    figures.webhook_statuses = dict(provider.statuses)
    figures.provider_faults = dict(sink.injected)
    last_process = [kib for _, start, kib in rss if start == server.starts]
    if len(last_process) >= 4:
        quarter = len(last_process) // 4
        first, last = statistics.mean(last_process[:quarter]), statistics.mean(last_process[-quarter:])
        figures.rss_first_quarter_mib = round(first / 1024, 1)
        figures.rss_last_quarter_mib = round(last / 1024, 1)
        figures.rss_growth_pct = round(100 * (last - first) / first, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds of traffic (default 30 min)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL server to create the run's own database on")
    parser.add_argument("--database-url", help="use this (empty) database instead of creating one")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--error-rate", type=float, default=0.03)
    parser.add_argument("--hang-rate", type=float, default=0.01)
    parser.add_argument("--late-rate", type=float, default=0.01)
    parser.add_argument("--db-outage", type=float, default=6.0, help="seconds of each database outage")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="relais-soak-"))
    created = None
    if args.database_url:
        url = args.database_url
    elif args.database == "postgresql":
        url = created = create_pg_database(args.pg_url)
    else:
        url = f"sqlite:///{workdir / 'soak.sqlite3'}"
    try:
        figures = run(url, duration=args.duration, rate=args.rate, seed=args.seed, workdir=workdir,
                      error_rate=args.error_rate, hang_rate=args.hang_rate, late_rate=args.late_rate,
                      db_outage=args.db_outage)
    finally:
        if created:
            drop_pg_database(created)
    print(json.dumps(asdict(figures), indent=2))
    print(f"server log: {workdir / 'server.log'}")
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n", encoding="utf-8")
    clean = not figures.aborted and figures.lost == 0 and figures.duplicate_replies == 0 and figures.unacked == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
