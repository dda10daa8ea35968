"""Inbound SMS webhook latency at 50 concurrent requests on SQLite, and throughput vs a bare endpoint.

One uvicorn process (one worker, uvloop + httptools, loopback) serves the real app as `relais serve`
runs it: signature check, secrets redacted, idempotent storage, empty TwiML answer, and the decision
worker running the engine right after (bot/inbound/decisions.py, bot/inbound/acks.py). The same process serves
``GET /bare`` (an async endpoint answering 200, behind the same middlewares and router), so the ratio
compares the webhook with the server stack alone, in the same run.

The load comes from wrk (C, one thread, 50 keep-alive connections: `apt install wrk`), replaying
requests signed beforehand with twilio's RequestValidator, each with its own MessageSid, from
residents already known to the database (as most of a help desk's traffic is). A Python client
on this 2-core machine took as much CPU as the server and measured itself more than the server.
Latency is wrk's, send to answer. After the load the script waits for the worker to decide every
stored message and reports how long that took and how late replies were queued.

    .venv/bin/python benchmarks/webhook_latency.py [--seconds 10] [--concurrency 50] [--residents 5000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
TEXTS = ["jai oublie mon code caf", "bonjour", "actualisation france travail", "MENU", "1", "SUITE",
         "je veux parler a quelquun", "mot de passe ameli"]
SMS_PATH = "/channels/twilio/sms"
RESULT = re.compile(r"RESULT p50=([\d.]+) p95=([\d.]+) p99=([\d.]+) rps=([\d.]+) n=(\d+) errors=(\d+)")


def serve(port: int, database_url: str) -> None:
    """Child process: the real app plus a bare endpoint, on uvicorn."""
    import uvicorn
    from fastapi import Response

    from bot.app import create_app
    from bot.channels.settings import TwilioSettings
    from bot.config import Settings

    settings = Settings(database_url=database_url, public_url=f"http://127.0.0.1:{port}",
                        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"))
    # The outbox is not dispatched (Twilio is not called); the decision worker runs, as in production.
    app = create_app(settings, background_jobs=False, decide_in_background=True)

    @app.get("/bare")
    async def bare() -> Response:
        return Response(status_code=200)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, loop="uvloop",
                http="httptools")


def prepare_database(database_url: str, residents: int) -> None:
    """Migrated, with ``residents`` known residents (and their conversations), as after some weeks of use."""
    from sqlalchemy import insert

    from bot.config import Settings
    from bot.db import connect
    from bot.db.migrate import upgrade
    from bot.db.models import Conversation, Resident
    from bot.structures import default_structure

    database = connect(database_url)
    upgrade(database)
    now = datetime.now(UTC)
    with database.transaction() as session:
        structure_id = default_structure(session, Settings(database_url=database_url)).id
        session.execute(insert(Resident), [
            {"channel": "sms", "address": phone(i), "structure_id": structure_id, "first_contact_at": now,
             "last_contact_at": now, "informed_at": now} for i in range(residents)])
        session.execute(insert(Conversation), [{"resident_id": i + 1, "state": {}} for i in range(residents)])
    database.dispose()


def phone(index: int) -> str:
    return f"+3361{index:07d}"


def lua_script(port: int, first: int, count: int, residents: int) -> str:
    """A wrk script replaying ``count`` signed requests with their own MessageSid, then printing its figures."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = f"http://127.0.0.1:{port}{SMS_PATH}"
    lines = ["local reqs = {}"]
    for i in range(first, first + count):
        form = {"MessageSid": f"SM{i:032x}", "AccountSid": ACCOUNT_SID, "To": "38123", "From": phone(i % residents),
                "Body": TEXTS[i % len(TEXTS)], "NumMedia": "0"}
        lines.append(f'reqs[{i - first + 1}] = {{"{urlencode(form)}", "{validator.compute_signature(url, form)}"}}')
    lines.append(f"""
local i = 0
request = function()
  i = i + 1
  local r = reqs[((i - 1) % #reqs) + 1]
  return wrk.format("POST", "{SMS_PATH}", {{["Content-Type"] = "application/x-www-form-urlencoded",
                                           ["X-Twilio-Signature"] = r[2]}}, r[1])
end
""" + DONE)
    return "\n".join(lines)


DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT p50=%.3f p95=%.3f p99=%.3f rps=%.1f n=%d errors=%d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk(url: str, script: Path, seconds: float, concurrency: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s",
               str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = RESULT.search(out)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    p50, p95, p99, rps, n, errors = found.groups()
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "rps": float(rps), "n": int(n),
            "errors": int(errors)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    if shutil.which("wrk") is None:
        print("wrk is needed for this benchmark: apt install wrk", file=sys.stderr)
        return 2

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    # Enough distinct requests for the run even at 6,000 req/s: no MessageSid is sent twice.
    count = int(6000 * args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        database_url = f"sqlite:///{path}"
        prepare_database(database_url, args.residents)
        scripts = {name: Path(folder) / f"{name}.lua" for name in ("bare", "warm", "hook")}
        scripts["bare"].write_text(DONE)
        scripts["warm"].write_text(lua_script(port, 10**9, 2000, args.residents))
        scripts["hook"].write_text(lua_script(port, 0, count, args.residents))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RELAIS_"))}
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), database_url], cwd=ROOT,
                                  env={**env, "PYTHONPATH": str(ROOT)})
        try:
            if not wait_until_up(base, server):
                print("server did not start", file=sys.stderr)
                return 1
            load_before = load_average()
            wrk(f"{base}/bare", scripts["bare"], 2, args.concurrency)  # warm-up, not counted
            cpu = cpu_seconds(server.pid)
            bare = wrk(f"{base}/bare", scripts["bare"], args.seconds, args.concurrency)
            bare["cpu_ms"] = (cpu_seconds(server.pid) - cpu) * 1000 / max(bare["n"], 1)
            wrk(base, scripts["warm"], 2, args.concurrency)  # warm-up (compiled statements...), not counted
            wait_decided(path, timeout=600)
            measured_from = max_message_id(path)
            cpu = cpu_seconds(server.pid)
            hook = wrk(base, scripts["hook"], args.seconds, args.concurrency)
            hook["cpu_ms"] = (cpu_seconds(server.pid) - cpu) * 1000 / max(hook["n"], 1)
            load_after = load_average()
            started = time.monotonic()
            decided = wait_decided(path, timeout=1800)
            drain = time.monotonic() - started
            lags, stored, statuses = decision_figures(path, measured_from)
        finally:
            server.terminate()
            server.wait(timeout=60)

    print(f"How: one uvicorn worker (uvloop, httptools) on 127.0.0.1, SQLite file (WAL), {args.residents} known "
          f"residents; wrk -t1 -c{args.concurrency} for {args.seconds:g} s per endpoint, keep-alive; each webhook "
          f"request signed with twilio's RequestValidator and carrying its own MessageSid, texts cycling through "
          f"{len(TEXTS)} phrases (real NLU and engine in the decision worker; outbox not dispatched). "
          "Latency is wrk's, send to answer; the webhook answers once the message is committed.")
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load_after}  (2 cores; other work included)")
    print(f"bare GET /bare            : p50 {bare['p50']:.1f} ms, p95 {bare['p95']:.1f} ms, p99 {bare['p99']:.1f} ms, "
          f"{bare['rps']:.0f} req/s, errors {bare['errors']}")
    print(f"POST {SMS_PATH}: p50 {hook['p50']:.1f} ms, p95 {hook['p95']:.1f} ms, p99 {hook['p99']:.1f} ms, "
          f"{hook['rps']:.0f} req/s, errors {hook['errors']}")
    print(f"webhook throughput / bare throughput: {hook['rps'] / bare['rps']:.2f}")
    print(f"server CPU per request during the run: bare {bare['cpu_ms']:.2f} ms, webhook {hook['cpu_ms']:.2f} ms "
          "(all threads: the webhook's includes the decisions the worker made meanwhile)")
    wrapped = hook["n"] > count
    acknowledged = hook["n"] - hook["errors"]
    # wrk stops counting at the deadline: the requests then in flight are stored but not counted.
    complete = acknowledged <= stored <= acknowledged + args.concurrency
    print(f"acknowledged {acknowledged} requests (+ at most {args.concurrency} in flight at the end), stored "
          f"{stored} messages ({'some MessageSids were sent twice: run shorter' if wrapped else 'none lost'}); "
          f"statuses {statuses}")
    if decided and lags:
        print(f"decisions: all made {drain:.1f} s after the load ended ({stored / max(drain, 1e-9):.0f}/s while "
              f"draining); reply queued after the answer to the webhook: p50 {statistics.median(lags):.2f} s, "
              f"max {max(lags):.2f} s (the worker gives way to webhooks being answered, bot/inbound/acks.py)")
    else:
        print("decisions: NOT all made within the wait")
    print(f"target p99 <= 50 ms at {args.concurrency} concurrent requests: "
          f"{'met' if hook['p99'] <= 50 else 'NOT met'}")
    failed = hook["errors"] or bare["errors"] or not decided or (not wrapped and not complete)
    return 1 if failed else 0


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> bool:
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/bare", timeout=1).close()
            return True
        except OSError:
            if server.poll() is not None:
                return False
            time.sleep(0.3)
    return False


def _query(path: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(path, timeout=30) as connection:
        return connection.execute(sql, params).fetchall()


def max_message_id(path: Path) -> int:
    return _query(path, "SELECT coalesce(max(id), 0) FROM messages")[0][0]


def wait_decided(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _query(path, "SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'received'")[0][0] == 0:
            return True
        time.sleep(0.2)
    return False


def decision_figures(path: Path, after_id: int) -> tuple[list[float], int, dict[str, int]]:
    """Seconds from storing to the first reply queued, per message; messages stored; their statuses."""
    rows = _query(path, """
        SELECT m.created_at, min(o.created_at) FROM messages m JOIN outbox o ON o.in_reply_to = m.id
        WHERE m.direction = 'in' AND m.id > ? GROUP BY m.id""", after_id)

    def when(value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    lags = [(when(done) - when(stored)).total_seconds() for stored, done in rows]
    statuses = dict(_query(path, "SELECT status, count(*) FROM messages WHERE direction = 'in' AND id > ? "
                                 "GROUP BY status", after_id))
    return lags, sum(statuses.values()), statuses


if __name__ == "__main__":
    sys.exit(main())
