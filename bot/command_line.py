"""What every `relais` sub-command shares: the --config option, the settings and the database, with clear errors.

A bad configuration ends the command with exit code 2 and a message naming the key; a database that
cannot be reached, or is not migrated, with exit code 3. The connection is always closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.config import ConfigError, Settings, load_settings
from bot.db import Database, DatabaseUnavailable, connect
from bot.db import migrate as migrations

err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuration file (default: ./config.yml if present).")
]


def settings_or_exit(config: Path | None, **overrides: object) -> Settings:
    try:
        settings = load_settings(config)
        return settings.model_copy(update=overrides) if overrides else settings
    except ConfigError as exc:
        err.print(f"[bold red]Configuration error[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc


@contextmanager
def configured_database(config: Path | None, *, migrate: bool = False) -> Iterator[tuple[Settings, Database]]:
    """The settings and a connected database for one command; ``migrate`` applies pending migrations first."""
    settings = settings_or_exit(config)
    database = connect(settings.database_url)
    try:
        if migrate:
            migrations.upgrade(database)
        yield settings, database
    except DatabaseUnavailable as exc:
        err.print(f"[bold red]Database problem[/]: {exc} (did you run `relais db upgrade`?)", highlight=False)
        raise typer.Exit(3) from exc
    finally:
        database.dispose()
