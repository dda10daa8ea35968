"""Answering the providers fast: webhooks wait only for their message to be stored.

Two pieces, both per server process:

- :class:`InboundWriter`, one thread that stores what the webhooks hand it, every message waiting
  at that moment in ONE transaction (group commit, bot/inbound/pipeline.py ``store_many``). A burst of 50
  webhooks costs a few commits instead of 50, and no thread queues on SQLite's write lock; each
  webhook still answers only once its own message is committed, so nothing acknowledged is lost.
- :class:`AcksInFlight`, the count of webhook requests being answered (ASGI middleware :class:`CountAcks`). The
  decision worker (bot/inbound/decisions.py) waits while some are, up to ``max_defer`` seconds per
  decision: in a burst the CPU goes first to answering the providers (they retry what is slow to
  answer), then the engine catches up — replies go out a little later, none is lost.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from fastapi import Request
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.channels.base import InboundMessage
from bot.inbound.pipeline import Stored, store, store_many
from bot.runtime import Runtime

log = structlog.get_logger(__name__)

WEBHOOK_PREFIX = "/channels/"
MAX_BATCH = 200


@dataclass
class _Pending:
    message: InboundMessage
    notices: Sequence[str]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Stored]


class InboundWriter:
    """One thread storing inbound messages for the webhooks, in batches (see the module's docstring)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.stored = 0

    def start(self) -> InboundWriter:
        self._thread = threading.Thread(target=self._run, name="relais-inbound-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Store what was handed over already, then stop."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    async def store(self, message: InboundMessage, notices: Sequence[str] = ()) -> Stored:
        """Stored and committed (or the exception storing raised, e.g. DatabaseUnavailable)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Stored] = loop.create_future()
        self._queue.put(_Pending(message, notices, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._store(batch)

    def _store(self, batch: list[_Pending]) -> None:
        try:
            results: list[Stored | Exception] = store_many(self.runtime, [(p.message, p.notices) for p in batch])
        except Exception as exc:  # DatabaseUnavailable, or worse: every webhook of the batch answers an error
            results = [exc] * len(batch)
        self.batches += 1
        self.stored += len(batch)
        for pending, result in zip(batch, results, strict=True):
            pending.loop.call_soon_threadsafe(_settle, pending.future, result)


def _settle(future: asyncio.Future[Stored], result: Stored | Exception) -> None:
    if future.done():  # the client went away and the request was cancelled
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)


class AcksInFlight:
    """How many webhook requests are being answered right now (counted by :class:`CountAcks`)."""

    def __init__(self) -> None:
        self.count = 0  # only ever changed on the event loop's thread
        self._quiet = threading.Condition()

    def enter(self) -> None:
        self.count += 1

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            with self._quiet:
                self._quiet.notify_all()

    def wait_quiet(self, max_defer: float) -> None:
        """Return when no webhook is being answered, or after ``max_defer`` seconds at most."""
        deadline = time.monotonic() + max_defer
        with self._quiet:
            while self.count > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._quiet.wait(left)


class CountAcks:
    """ASGI middleware feeding :class:`AcksInFlight` with the requests to the channels' webhooks."""

    def __init__(self, app: ASGIApp, counter: AcksInFlight) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(WEBHOOK_PREFIX):
            await self.app(scope, receive, send)
            return
        self.counter.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.leave()


async def store_for_webhook(request: Request, message: InboundMessage, notices: Sequence[str] = ()) -> Stored:
    """Stored and committed, through the app's writer (or a worker thread when the app runs none)."""
    return await store_for_app(request.app, message, notices)


async def store_for_app(app: Starlette, message: InboundMessage, notices: Sequence[str] = ()) -> Stored:
    writer: InboundWriter | None = getattr(app.state, "writer", None)
    if writer is not None:
        return await writer.store(message, notices)
    return await run_in_threadpool(store, app.state.runtime, message, notices=notices)
