"""The schema comes from Alembic migrations, from an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from bot.db import connect
from bot.db.migrate import current_revision, downgrade, head_revision, is_current, upgrade
from bot.db.models import Base


def test_upgrade_from_empty_creates_every_table_and_reaches_head(fresh_database_url):
    database = connect(fresh_database_url)
    try:
        assert current_revision(database) is None
        upgrade(database)
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert current_revision(database) == head_revision()
        assert is_current(database)
    finally:
        database.dispose()


def test_downgrade_to_base_removes_the_tables(fresh_database_url):
    database = connect(fresh_database_url)
    try:
        upgrade(database)
        downgrade(database, "base")
        assert not set(Base.metadata.tables) & set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def test_models_and_migrations_agree(fresh_database_url):
    """A model changed without its migration shows up here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    database = connect(fresh_database_url)
    try:
        upgrade(database)
        with database.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
    finally:
        database.dispose()
