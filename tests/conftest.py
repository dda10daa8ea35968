"""Shared fixtures: a real database (SQLite by default, PostgreSQL with RELAIS_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text

from bot.config import Settings
from bot.db import Database, connect
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.runtime import Runtime
from flows.library import load_library
from flows.texts import default_texts
from nlu.result import IntentScore, ParseResult

TEST_LIBRARY = Path(__file__).parent / "engine" / "library"


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("RELAIS_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'relais-test.sqlite3'}"


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    """The test database, migrated from empty once per session."""
    if _is_postgres(database_url):
        _reset_postgres_schema(database_url)
    db = connect(database_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The test database, emptied after each test."""
    yield database
    with database.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test database, dropped afterwards."""
    if not _is_postgres(database_url):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"relais_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _ = database_url.rsplit("/", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class KeywordParser:
    """A stand-in NLU for storage tests: a few fixed phrases, everything else out of scope."""

    phrases = {
        "jai oublie mon code caf": ("password_reset", 0.95, "caf"),
        "je veux parler a quelquun": ("human_handoff", 0.9, None),
    }

    def parse(self, text_: str) -> ParseResult:
        from nlu.result import Entity

        intent, confidence, service = self.phrases.get(text_.strip().lower(), ("out_of_scope", 0.9, None))
        entities = [Entity("service", service, 0, len(text_))] if service else []
        return ParseResult(text_, IntentScore(intent, confidence), entities, [IntentScore(intent, confidence)])


@pytest.fixture
def runtime(db: Database, database_url: str) -> Runtime:
    """A runtime on the test database with the test guide library and a stand-in NLU."""
    from bot.channels.simulator import PROVIDER, SimulatorSender

    runtime = Runtime(
        settings=Settings(database_url=database_url),
        db=db,
        parser=KeywordParser(),
        library=load_library(TEST_LIBRARY / "guides", TEST_LIBRARY / "menu.yml"),
        texts=default_texts(),
        clock=lambda: datetime.now(UTC),
    )
    runtime.senders[PROVIDER] = SimulatorSender()
    return runtime
