"""Start the real peers from node_modules on a free loopback port; stop them by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PEERS = Path(__file__).parent
NODE_MODULES = PEERS / "node_modules"
TWILIO_SPEC = NODE_MODULES / "@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json"
PRISM = NODE_MODULES / ".bin/prism"
TELEGRAM_WRAPPER = PEERS / "telegram_stand_in.js"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _require(path: Path) -> None:
    if not path.exists():
        raise RuntimeError(f"{path} missing: run `npm ci --prefix tests/peers` (see docs/channels.md)")


@contextmanager
def running(command: list[str], ready_url: str, timeout: float = 30.0) -> Iterator[None]:
    env = {**os.environ, "SCARF_ANALYTICS": "false"}
    process = subprocess.Popen(command, cwd=PEERS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                httpx.get(ready_url, timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not answer at {ready_url} within {timeout}s") from None
                time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def twilio_mock() -> Iterator[str]:
    """Prism serving Twilio's own OpenAPI description of API v2010; yields its base URL."""
    _require(PRISM)
    _require(TWILIO_SPEC)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(TWILIO_SPEC)], base, timeout=60):
        yield base


@contextmanager
def telegram_stand_in() -> Iterator[str]:
    """telegram-test-api behind our small compatibility wrapper; yields its base URL."""
    _require(TELEGRAM_WRAPPER)
    _require(NODE_MODULES / "telegram-test-api")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["node", str(TELEGRAM_WRAPPER), str(port)], base):
        yield base
