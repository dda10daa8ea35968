"""Which server process leads the scheduler's once-per-deployment jobs (reminders, purge, digest).

On PostgreSQL: the process holding a session-level advisory lock (``pg_try_advisory_lock``) on a
dedicated connection leads for as long as that connection lives; if the process dies, PostgreSQL
drops the lock and another process takes over at its next try. On SQLite there is one process: it
leads. The outbox is dispatched by every process (rows are claimed with SKIP LOCKED).
"""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import Connection, text

from bot.db import Database

log = structlog.get_logger(__name__)

# An arbitrary 64-bit key that names "the Relais scheduler" among advisory locks.
SCHEDULER_LOCK_KEY = 0x52454C414953  # "RELAIS"


class Leadership:
    def __init__(self, db: Database, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.db, self.key = db, key
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    @property
    def leading(self) -> bool:
        return not self.db.is_postgresql or self._connection is not None

    def try_lead(self) -> bool:
        """Take the lead if free; check the held connection is alive. True while leading."""
        if not self.db.is_postgresql:
            return True
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT 1"))
                    return True
                except Exception:  # connection lost: so is the lock
                    log.warning("scheduler_leadership_lost")
                    self._drop()
            try:
                connection = self.db.engine.connect()
                got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
                connection.commit()
            except Exception as exc:
                log.warning("scheduler_leadership_unavailable", reason=type(exc).__name__)
                return False
            if not got:
                connection.close()
                return False
            self._connection = connection
            log.info("scheduler_leading")
            return True

    def release(self) -> None:
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    self._connection.commit()
                except Exception:
                    pass
                self._drop()

    def _drop(self) -> None:
        try:
            if self._connection is not None:
                self._connection.invalidate()
                self._connection.close()
        finally:
            self._connection = None
