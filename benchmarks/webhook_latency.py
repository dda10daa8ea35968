"""Inbound SMS webhook latency at 50 concurrent requests on SQLite, and throughput vs a bare endpoint.

One uvicorn process (one worker, loopback) serves the real app: signature check, idempotent
storage, engine, outbox write, empty TwiML. The same process also serves ``GET /bare`` (returns
200, nothing else), so the ratio compares the webhook with the server stack alone, in the same run.

    .venv/bin/python benchmarks/webhook_latency.py [--requests 2000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
TEXTS = ["jai oublie mon code caf", "bonjour", "actualisation france travail", "MENU", "1", "SUITE",
         "je veux parler a quelquun", "mot de passe ameli"]


def serve(port: int, database_url: str) -> None:
    """Child process: the real app plus a bare endpoint, on uvicorn."""
    import uvicorn
    from fastapi import Response

    from bot.app import create_app
    from bot.channels.settings import TwilioSettings
    from bot.config import Settings
    from bot.db import connect
    from bot.db.migrate import upgrade

    settings = Settings(database_url=database_url, public_url=f"http://127.0.0.1:{port}",
                        twilio=TwilioSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="38123"))
    database = connect(database_url)
    upgrade(database)
    database.dispose()
    app = create_app(settings, background_jobs=False)  # the outbox is not dispatched: Twilio is not called

    @app.get("/bare")
    def bare() -> Response:
        return Response(status_code=200)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def load(base: str, count: int, concurrency: int, *, webhook: bool) -> tuple[list[float], float, int]:
    validator = RequestValidator(AUTH_TOKEN)
    url = f"{base}/channels/twilio/sms"
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                index = queue.get_nowait()
                if webhook:
                    form = {"MessageSid": f"SM{index:032x}", "AccountSid": ACCOUNT_SID, "To": "38123",
                            "From": f"+3361{index % 500:07d}", "Body": TEXTS[index % len(TEXTS)], "NumMedia": "0"}
                    headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
                    started = time.perf_counter()
                    answer = await client.post(url, data=form, headers=headers)
                else:
                    started = time.perf_counter()
                    answer = await client.get(f"{base}/bare")
                latencies.append(time.perf_counter() - started)
                errors += answer.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, count / elapsed, errors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "RELAIS_"))}
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), database_url], cwd=ROOT,
                                  env={**env, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(f"{base}/bare", timeout=1)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        print("server did not start", file=sys.stderr)
                        return 1
                    time.sleep(0.3)
            asyncio.run(load(base, 200, args.concurrency, webhook=False))  # warm-up, not counted
            bare, bare_rps, bare_errors = asyncio.run(load(base, args.requests, args.concurrency, webhook=False))
            hook, hook_rps, hook_errors = asyncio.run(load(base, args.requests, args.concurrency, webhook=True))
        finally:
            server.terminate()
            server.wait(timeout=30)

    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction) * 1000:.1f} ms"

    print(f"How: one uvicorn worker on 127.0.0.1, SQLite file, {args.requests} requests per endpoint, "
          f"{args.concurrency} concurrent httpx clients, keep-alive; webhook requests signed with twilio's "
          f"RequestValidator, each a new MessageSid from 500 residents, texts cycling through {len(TEXTS)} "
          "phrases (real NLU, engine and outbox write; dispatch off). Latency is client-side, send to answer.")
    print(f"bare GET /bare          : p50 {ms(bare, 0.5)}, p99 {ms(bare, 0.99)}, {bare_rps:.0f} req/s, "
          f"errors {bare_errors}")
    print(f"POST /channels/twilio/sms: p50 {ms(hook, 0.5)}, p99 {ms(hook, 0.99)}, {hook_rps:.0f} req/s, "
          f"errors {hook_errors}")
    print(f"webhook throughput / bare throughput: {hook_rps / bare_rps:.2f}")
    print(f"mean webhook latency {statistics.mean(hook) * 1000:.1f} ms; target p99 <= 50 ms: "
          f"{'met' if percentile(hook, 0.99) <= 0.05 else 'NOT met'}")
    return 1 if hook_errors or bare_errors else 0


if __name__ == "__main__":
    sys.exit(main())
