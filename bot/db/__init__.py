"""Storage: the SQLAlchemy engine, sessions, and what a caller sees when the database is down."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; callers answer 503 so providers retry."""


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back on error.

        Connection failures surface as :class:`DatabaseUnavailable`.
        """
        try:
            with self.sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc
            raise

    def ping(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets the simulator read while the dispatcher writes; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqliteWriteLock:
    """One writing transaction at a time per process, handed over by a lock instead of SQLite's busy loop.

    SQLite lets one connection write at a time; the others retry with growing sleeps (busy_timeout),
    which under load turns a 1 ms wait into tens of milliseconds and starves unlucky threads. Here a
    connection takes this lock just before its first write (where pysqlite opens the transaction) and
    gives it back once its commit or rollback is done, so writers queue and wake at once. Reads never
    take it: WAL lets them run beside the writer. Other processes still meet SQLite's busy_timeout.
    """

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        # Not re-entrant on purpose: a second connection of a writing thread would wait on SQLite anyway;
        # and a plain lock may be released by another thread (a connection closed from elsewhere).
        self._lock = threading.Lock()

    def connection_class(self) -> type[sqlite3.Connection]:
        lock = self

        class WriteLockedConnection(sqlite3.Connection):
            holds_write_lock = False

            def commit(self) -> None:
                try:
                    super().commit()
                finally:
                    lock.release(self)

            def rollback(self) -> None:
                try:
                    super().rollback()
                finally:
                    lock.release(self)

            def close(self) -> None:
                try:
                    super().close()
                finally:
                    lock.release(self)

        return WriteLockedConnection

    def before_execute(self, _connection, cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection = cursor.connection
        if getattr(dbapi_connection, "holds_write_lock", True) or _is_read(statement):
            return
        if not self._lock.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked (waited for the write lock)")
        dbapi_connection.holds_write_lock = True

    def release(self, dbapi_connection) -> None:  # type: ignore[no-untyped-def]
        if not getattr(dbapi_connection, "holds_write_lock", False):
            return
        dbapi_connection.holds_write_lock = False
        self._lock.release()


def _is_read(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(("SELECT", "PRAGMA", "WITH", "EXPLAIN"))


def connect(url: str) -> Database:
    """A :class:`Database` for ``url``; SQLite files get their folder created."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writes = SqliteWriteLock()
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5,
                                                  "factory": writes.connection_class()})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", writes.before_execute)
    else:
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args={"connect_timeout": 5}
        )
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
