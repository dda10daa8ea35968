"""The `relais` command: demo, serve, database, NLU, guides and channels."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.command_line import ConfigOption, settings_or_exit
from bot.config import StructureSettings
from bot.db import DatabaseUnavailable, connect
from bot.db import migrate as migrations

app = typer.Typer(help="Relais: help desk over SMS and messaging for digital-inclusion teams.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

err = Console(stderr=True)
out = Console()

def _upgrade(url: str) -> None:
    database = connect(url)
    try:
        migrations.upgrade(database)
    except DatabaseUnavailable as exc:
        err.print(f"[bold red]Database unreachable[/] ({_safe_url(url)}): {exc}", highlight=False)
        raise typer.Exit(3) from exc
    finally:
        database.dispose()


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials else url
    return url


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply every pending migration."""
    settings = settings_or_exit(config)
    _upgrade(settings.database_url)
    out.print(f"Database up to date ({_safe_url(settings.database_url)}).")


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (PostgreSQL only).")] = 1,
) -> None:
    """Run the server from config.yml for a real deployment."""
    import uvicorn

    from bot.app import create_app
    from bot.logs import configure_logging

    settings = settings_or_exit(config)
    configure_logging(settings.log_level, json=True)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        err.print("[bold red]Several workers need PostgreSQL[/]: SQLite allows one writer at a time.")
        raise typer.Exit(2)
    _upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Where the demo's SQLite database lives.")] = Path("."),
) -> None:
    """Start a demo with the web SMS simulator: SQLite, no credentials needed."""
    import uvicorn

    from bot.app import create_app
    from bot.demo import seed_demo
    from bot.logs import configure_logging

    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(data_dir / 'relais-demo.sqlite3').resolve()}"
    public_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    settings = settings_or_exit(
        None, database_url=url, demo=True, public_url=public_url,
        structure=StructureSettings(name="Centre social Les Lilas (demo)", slug="demo"),
    )
    configure_logging(settings.log_level)
    _upgrade(url)
    app_ = create_app(settings)
    account = seed_demo(app_.state.runtime.db, settings, datetime.now(UTC))
    base = public_url
    out.print(f"[bold green]Relais demo[/] — database {url}")
    out.print(f"  SMS simulator : {base}/simulator")
    out.print(f"  Console       : {base}/console  ({account.email} / {account.password})", soft_wrap=True)
    out.print(f"  API docs      : {base}/docs")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


def _mount_subcommands() -> None:
    from bot.channels.check import channels_app, telegram_app
    from flows.cli import app as flows_app
    from nlu.cli import app as nlu_app

    app.add_typer(nlu_app, name="nlu", help="Train, test and query the NLU model.")
    app.add_typer(flows_app, name="flows", help="Check the guide library.")
    app.add_typer(channels_app, name="channels", help="SMS and Telegram channels.")
    app.add_typer(telegram_app, name="telegram", help="Telegram: polling mode and webhook set-up.")

    from bot.workshops.cli import app as workshops_app

    app.add_typer(workshops_app, name="workshops", help="Workshops: add, list with attendance, export.")

    from bot.console.cli import app as mediators_app

    app.add_typer(mediators_app, name="mediators", help="Console accounts: add, list, disable, enable.")

    from bot.privacy.cli import app as residents_app

    app.add_typer(residents_app, name="residents", help="Residents' data: export, erase, retention purge.")


_mount_subcommands()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
