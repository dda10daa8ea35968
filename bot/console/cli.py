"""`relais mediators add|list|disable|enable`: console accounts from the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bot.command_line import ConfigOption, configured_database
from bot.console.auth import end_all_sessions
from bot.db.models import AuditEntry, Mediator, Structure
from bot.mediators import MediatorError, create_mediator
from bot.runtime import utc_now
from bot.structures import default_structure

app = typer.Typer(help="Mediators' console accounts.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)



@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Login e-mail.")],
    name: Annotated[str, typer.Option("--name", help="Name shown to colleagues.")],
    structure: Annotated[list[str] | None, typer.Option(
        "--structure", "-s", help="Structure slug (repeat for several; default: the configured structure).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Can manage accounts and canned replies.")] = False,
    password_env: Annotated[str, typer.Option(
        help="Read the password from this environment variable instead of asking.")] = "RELAIS_NEW_PASSWORD",
    config: ConfigOption = None,
) -> None:
    """Create an account (the password is asked, or read from $RELAIS_NEW_PASSWORD)."""
    password = os.environ.get(password_env) or typer.prompt("Mot de passe", hide_input=True,
                                                            confirmation_prompt=True)
    try:
        with configured_database(config) as (settings, database), database.transaction() as session:
            if structure:
                found = list(session.scalars(select(Structure).where(Structure.slug.in_(structure))))
                missing = sorted(set(structure) - {s.slug for s in found})
                if missing:
                    known = ", ".join(session.scalars(select(Structure.slug).order_by(Structure.slug)))
                    err.print(f"[bold red]Unknown structure[/] {', '.join(missing)} (known: {known or 'none'})")
                    raise typer.Exit(2)
            else:
                found = [default_structure(session, settings)]
            mediator = create_mediator(session, email=email, display_name=name, password=password,
                                       structures=found, role="admin" if admin else "mediator")
            session.add(AuditEntry(action="mediator_added", detail=f"{mediator.id} {mediator.email} cli",
                                   created_at=utc_now()))
            out.print(f"Created {mediator.role} {mediator.email} in {', '.join(s.slug for s in found)}.")
    except MediatorError as exc:
        err.print(f"[bold red]Cannot create the account[/]: {exc}")
        raise typer.Exit(2) from exc


@app.command("list")
def list_(config: ConfigOption = None) -> None:
    """Every account, with its role, structures and state."""
    with configured_database(config) as (_, database), database.transaction() as session:
        table = Table("id", "e-mail", "name", "role", "structures", "state")
        for m in session.scalars(select(Mediator).order_by(Mediator.id)):
            state = ("active" + (", on duty" if m.on_duty else "")) if m.active else "disabled"
            table.add_row(str(m.id), m.email, m.display_name, m.role, ", ".join(s.slug for s in m.structures), state)
    out.print(table)


def _set_active(email: str, active: bool, config: Path | None) -> None:
    with configured_database(config) as (_, database), database.transaction() as session:
        mediator = session.scalars(select(Mediator).where(Mediator.email == email.strip().lower())).first()
        if mediator is None:
            err.print(f"[bold red]No account[/] {email}")
            raise typer.Exit(2)
        mediator.active = active
        if not active:
            end_all_sessions(session, mediator.id)
        session.add(AuditEntry(action="mediator_enabled" if active else "mediator_disabled",
                               detail=f"{mediator.id} {mediator.email} cli", created_at=utc_now()))
    out.print(f"{email}: {'enabled' if active else 'disabled (sessions closed)'}.")


@app.command("disable")
def disable(email: str, config: ConfigOption = None) -> None:
    """Disable an account: it cannot log in and its open sessions end now."""
    _set_active(email, False, config)


@app.command("enable")
def enable(email: str, config: ConfigOption = None) -> None:
    """Enable a disabled account again."""
    _set_active(email, True, config)
