"""`relais workshops add|list|export`: create and review workshops from the command line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.command_line import ConfigOption, configured_database
from bot.workshops.dates import PARIS, french_date

app = typer.Typer(help="Workshops (ateliers): add, list with attendance, export to iCalendar.",
                  no_args_is_help=True)
out = Console()



def _paris(value: str) -> datetime:
    """'2026-12-01 14:00' read as Paris wall-clock time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=PARIS)
    except ValueError as exc:
        raise typer.BadParameter(f"expected YYYY-MM-DD HH:MM (Paris time), got {value!r}") from exc


@app.command("add")
def add(
    title: Annotated[str, typer.Option(help="Title residents read, e.g. 'Envoyer un mail'.")],
    start: Annotated[str, typer.Option(help="Start, Paris time: '2026-12-01 14:00'.")],
    place: Annotated[str, typer.Option(help="Place name, e.g. 'Maison de quartier Saint-Eloi'.")],
    duration: Annotated[int, typer.Option(help="Minutes.")] = 120,
    capacity: Annotated[int, typer.Option(min=1)] = 6,
    address: Annotated[str | None, typer.Option(help="Street address.")] = None,
    level: Annotated[str, typer.Option(help="debutant | intermediaire")] = "debutant",
    theme: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    config: ConfigOption = None,
) -> None:
    from datetime import timedelta

    from bot.structures import default_structure
    from bot.workshops.service import create_workshop

    starts = _paris(start)
    with configured_database(config, migrate=True) as (settings, db), db.transaction() as session:
        structure = default_structure(session, settings)
        workshop = create_workshop(
            session, structure_id=structure.id, title=title, place_name=place, place_address=address,
            starts_at=starts, ends_at=starts + timedelta(minutes=duration), capacity=capacity, level=level,
            theme=theme, description=description,
        )
        out.print(f"Workshop {workshop.id} added: {title}, {french_date(workshop.starts_at)}, {place}")


@app.command("list")
def list_(config: ConfigOption = None) -> None:
    from bot.workshops.service import workshops_with_attendance

    table = Table("id", "title", "start (Paris)", "place", "capacity", "confirmed", "waiting", "attended",
                  "no-show", "cancelled")
    with configured_database(config, migrate=True) as (_, db), db.transaction() as session:
        for row in workshops_with_attendance(session):
            w = row.workshop
            table.add_row(str(w.id), w.title, w.starts_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
                          w.place_name, str(w.capacity), str(row.confirmed), str(row.waiting), str(row.attended),
                          str(row.no_show), str(row.cancelled))
    out.print(table)


@app.command("export")
def export(output: Annotated[Path, typer.Argument(help="Where to write the .ics file.")],
           config: ConfigOption = None) -> None:
    from bot.structures import default_structure
    from bot.workshops.ical import export_calendar

    with configured_database(config, migrate=True) as (settings, db), db.transaction() as session:
        output.write_bytes(export_calendar(session, default_structure(session, settings).id))
    out.print(f"Written {output}")
