"""The decision worker: runs the engine on stored messages right after their webhook has answered.

Webhooks only verify, store and commit (bot/inbound/pipeline.py ``store``), then answer: providers retry
when an answer is slow, and a resident's reply can wait a few milliseconds more. This thread then
decides what was stored, one message at a time per resident and in arrival order, the residents
waiting longest first (one message per resident per pass, so a busy resident does not hold up the
others). A stored message is woken for at once; every ``poll_seconds`` the worker also looks for
messages still ``received`` — which is how a message stored just before a crash is answered after
the restart.

On PostgreSQL every server process runs one worker; a resident another process is deciding is
skipped (``FOR UPDATE SKIP LOCKED`` on the conversation), so processes share the work and never
decide one resident's messages at the same time. On SQLite the one server process runs one.
"""

from __future__ import annotations

import threading
import time
import traceback

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from bot.db import DatabaseUnavailable
from bot.inbound.acks import AcksInFlight
from bot.inbound.pipeline import (
    DecisionFailed,
    Stored,
    count_undecided,
    decide_next,
    decide_through,
    undecided_residents,
)
from bot.runtime import Runtime

log = structlog.get_logger(__name__)


class DecisionWorker:
    """One background thread deciding stored inbound messages (see the module's docstring)."""

    def __init__(self, runtime: Runtime, *, poll_seconds: float = 2.0, acks: AcksInFlight | None = None,
                 max_defer: float = 0.05) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        # While webhooks are being answered, each decision waits up to max_defer for them (bot/inbound/acks.py).
        self.acks, self.max_defer = acks, max_defer
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.decided = 0

    def start(self) -> DecisionWorker:
        self._thread = threading.Thread(target=self._run, name="relais-decisions", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """A message was stored: decide it now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the message in hand and stop; what is still waiting is decided at the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no stored message waits for a decision (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while count_undecided(self.runtime) > 0:
            if time.monotonic() > deadline:
                return False
            self._wake.set()
            time.sleep(0.01)
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before looking: a message stored meanwhile wakes the next pass
            try:
                done = self.decide_waiting()
            except DatabaseUnavailable as exc:
                log.warning("decisions_paused_database_unavailable", reason=str(exc))
                self._stopping.wait(self.poll_seconds)
                continue
            except Exception as exc:  # never let the thread die: log, wait, look again
                log.error("decisions_pass_failed", error=type(exc).__name__, where=_where(exc))
                self._stopping.wait(self.poll_seconds)
                continue
            if not done:
                self._wake.wait(self.poll_seconds)

    def decide_waiting(self) -> int:
        """Decide what is waiting now, one message per resident per pass; how many were decided."""
        total = 0
        while not self._stopping.is_set():
            done = 0
            for resident_id in undecided_residents(self.runtime):
                if self._stopping.is_set():
                    break
                if self.acks is not None:
                    self.acks.wait_quiet(self.max_defer)
                try:
                    decision = decide_next(self.runtime, resident_id, wait=False)
                except DecisionFailed as failed:  # kept as 'failed' with an audit entry; the others go on
                    cause = failed.__cause__ or failed
                    log.error("decision_failed", message_id=failed.message_id, error=type(cause).__name__,
                              where=_where(cause))
                    continue
                done += decision is not None
            total += done
            self.decided += done
            if not done:
                return total
        return total


def _where(exc: BaseException) -> str:
    # Where it broke, without the exception's text or locals: they may hold what a resident wrote.
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


async def hand_over(app: Starlette, stored: Stored) -> None:
    """After a webhook stored a message: wake the app's worker, or decide here when it runs none (tests)."""
    if not stored.to_decide:
        return
    worker: DecisionWorker | None = getattr(app.state, "decisions", None)
    if worker is not None:
        worker.wake()
        return
    await run_in_threadpool(decide_through, app.state.runtime, stored)
