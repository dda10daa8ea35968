"""Console figures: how soon a new ticket shows, and how fast pages render on a big database.

1. Ticket latency. A live server (uvicorn, SQLite, the real NLU) and a logged-in mediator whose
   "browser" polls /console/api/queue every `console.poll_seconds` exactly as console.js does.
   A resident texts AIDE through the simulator API at a random moment; we time from sending the
   SMS to the first poll answer that lists the new ticket. Target: <= 2 s (every sample).
2. Page render time. 10,000 tickets and 200,000 messages bulk-inserted in SQLite (two structures,
   5,000 residents), then the console pages a mediator uses are requested over HTTP from the live
   server, 200 times each; wall time per request, p50/p95. Target: p95 <= 100 ms for every page.

    .venv/bin/python benchmarks/console_latency.py [--samples 20] [--requests 200]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db import connect  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.models import Message, Resident, Structure, Ticket  # noqa: E402
from bot.mediators import create_mediator  # noqa: E402
from bot.structures import DEFAULT_OPENING_HOURS, default_structure  # noqa: E402
from tests.console.live import serve  # noqa: E402

PASSWORD = "benchmark-password"
TICKETS, MESSAGES, RESIDENTS = 10_000, 200_000, 5_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def log_in(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/console/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (200, 303), response.status_code
    return client


def ticket_latency(samples: int) -> list[float]:
    folder = Path(tempfile.mkdtemp(prefix="relais-bench-console-"))
    settings = Settings(database_url=f"sqlite:///{folder / 'latency.sqlite3'}", demo=True)
    upgrade(connect(settings.database_url))
    app = create_app(settings, background_jobs=False)
    runtime = app.state.runtime
    with runtime.db.transaction() as session:
        here = default_structure(session, settings)
        here.opening_hours = DEFAULT_OPENING_HOURS
        create_mediator(session, email="bench@relais.local", display_name="Bench", password=PASSWORD,
                        structures=[here])
    poll = settings.console.poll_seconds
    delays: list[float] = []
    with serve(app) as base_url:
        console = log_in(base_url, "bench@relais.local")
        seen: dict[int, float] = {}
        stop = threading.Event()

        def browser() -> None:  # what console.js does: one poll, wait poll_seconds, again
            while not stop.is_set():
                rows = console.get("/console/api/queue?state=open").json()["html"]
                now = time.perf_counter()
                for found in re.findall(r'data-ticket-id="(\d+)"', rows):
                    seen.setdefault(int(found), now)
                stop.wait(poll)

        watcher = threading.Thread(target=browser, daemon=True)
        watcher.start()
        resident = httpx.Client(base_url=base_url, timeout=30)
        rng = random.Random(6)
        for n in range(samples):
            time.sleep(rng.uniform(0, poll))  # a resident writes at any moment of the poll cycle
            sent = time.perf_counter()
            resident.post("/simulator/api/messages", json={"from": f"+336{n:08d}", "text": "AIDE"})
            ticket_id = n + 1
            while ticket_id not in seen:
                time.sleep(0.005)
                if time.perf_counter() - sent > 30:
                    raise RuntimeError(f"ticket {ticket_id} never showed")
            delays.append(seen[ticket_id] - sent)
        stop.set()
        watcher.join()
    return delays


def seed_big(url: str) -> None:
    database = connect(url)
    upgrade(database)
    rng = random.Random(10)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with database.transaction() as session:
        lilas = Structure(slug="lilas", name="Centre social Les Lilas", opening_hours=DEFAULT_OPENING_HOURS)
        eloi = Structure(slug="eloi", name="France services Saint-Eloi", opening_hours=DEFAULT_OPENING_HOURS)
        session.add_all([lilas, eloi])
        session.flush()
        me = create_mediator(session, email="bench@relais.local", display_name="Bench", password=PASSWORD,
                             structures=[lilas])
        colleague = create_mediator(session, email="other@relais.local", display_name="Other",
                                    password=PASSWORD, structures=[lilas])
        structures, mediators = [lilas.id, eloi.id], [me.id, colleague.id]
    with database.transaction() as session:
        session.execute(insert(Resident), [
            {"id": i + 1, "channel": "sms", "address": f"+3361{i:07d}", "structure_id": structures[i % 2],
             "first_contact_at": start, "last_contact_at": start, "language": "fr", "opted_out": False,
             "followups_enabled": True, "invalid_address": False}
            for i in range(RESIDENTS)])
        tickets = []
        for t in range(TICKETS):
            resident = t % RESIDENTS + 1
            opened = start + timedelta(minutes=45 * t)
            status = "open" if t >= TICKETS - 300 else "claimed" if t >= TICKETS - 500 else "closed"
            tickets.append({
                "id": t + 1, "resident_id": resident, "structure_id": structures[(resident - 1) % 2],
                "status": status, "reason": "asked", "theme": "aide_aux_demarches_administratives",
                "opened_at": opened, "waiting_since": opened, "updated_at": opened, "reopened_count": 0,
                "assignee_id": None if status == "open" else mediators[t % 2],
                "claimed_at": None if status == "open" else opened + timedelta(minutes=5),
                "closed_at": opened + timedelta(hours=2) if status == "closed" else None,
                "outcome": "resolu" if status == "closed" else None,
            })
        session.execute(insert(Ticket), tickets)
        per_ticket = MESSAGES // TICKETS
        batch = []
        for t in tickets:
            for m in range(per_ticket):
                at = t["opened_at"] + timedelta(minutes=m)
                inbound = m % 2 == 0
                batch.append({
                    "resident_id": t["resident_id"], "direction": "in" if inbound else "out", "channel": "sms",
                    "provider": "simulator", "provider_message_id": f"b{t['id']}-{m}" if inbound else None,
                    "body": rng.choice(["jai oublie mon code caf", "le site dit erreur", "merci beaucoup",
                                        "Bonjour, ouvrez caf.fr puis touchez Mon Compte."]),
                    "status": "received" if inbound else "delivered", "ticket_id": t["id"],
                    "author_id": None if inbound or m < 10 else mediators[0], "segments": 1,
                    "created_at": at, "updated_at": at,
                })
            if len(batch) >= 20_000:
                session.execute(insert(Message), batch)
                batch = []
        if batch:
            session.execute(insert(Message), batch)
    database.dispose()


def page_times(requests: int) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="relais-bench-pages-"))
    url = f"sqlite:///{folder / 'big.sqlite3'}"
    started = time.perf_counter()
    seed_big(url)
    print(f"seeded {TICKETS:,} tickets, {MESSAGES:,} messages, {RESIDENTS:,} residents "
          f"in {time.perf_counter() - started:.1f} s (SQLite, bulk inserts)")
    settings = Settings(database_url=url)
    app = create_app(settings, background_jobs=False)
    with app.state.runtime.db.transaction() as session:
        visible = list(session.scalars(select(Ticket.id).where(Ticket.structure_id == 1)))
    rng = random.Random(3)
    timings: dict[str, list[float]] = {}
    with serve(app) as base_url:
        client = log_in(base_url, "bench@relais.local")
        pages = {
            "queue (open)": lambda: "/console?state=open",
            "queue (claimed)": lambda: "/console?state=claimed",
            "queue (closed, page 20)": lambda: "/console?state=closed&page=20",
            "queue poll (JSON)": lambda: "/console/api/queue?state=open",
            "ticket page": lambda: f"/console/tickets/{rng.choice(visible)}",
            "ticket poll (JSON)": lambda: f"/console/api/tickets/{rng.choice(visible)}?after=199000",
        }
        for name, path in pages.items():
            for _ in range(10):  # warm-up: connections, template compilation
                client.get(path())
            values = []
            for _ in range(requests):
                target = path()
                begun = time.perf_counter()
                response = client.get(target)
                values.append((time.perf_counter() - begun) * 1000)
                assert response.status_code == 200, (target, response.status_code)
            timings[name] = values
    return timings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    ok = True

    delays = ticket_latency(args.samples)
    worst = max(delays)
    print(f"ticket shown after the resident's SMS ({args.samples} samples, polling every "
          f"{Settings().console.poll_seconds:g} s like the console): p50 {statistics.median(delays):.2f} s, "
          f"p95 {percentile(delays, 0.95):.2f} s, max {worst:.2f} s (target <= 2 s)")
    ok &= worst <= 2.0

    timings = page_times(args.requests)
    print(f"console pages over HTTP, {args.requests} requests each, mediator of one structure "
          f"(5,000 of the 10,000 tickets), wall time per request on loopback:")
    for name, values in timings.items():
        p95 = percentile(values, 0.95)
        ok &= p95 <= 100
        print(f"  {name:26s} p50 {statistics.median(values):6.1f} ms   p95 {p95:6.1f} ms   (target p95 <= 100 ms)")
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
