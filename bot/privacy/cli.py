"""`relais residents export|erase|purge`: a resident's rights, and the retention purge, from the command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from bot.channels.phone import InvalidPhoneNumber
from bot.command_line import ConfigOption, configured_database
from bot.db.models import AuditEntry
from bot.logs import mask_phone
from bot.privacy.residents import UnknownResident, erase_resident, export_resident, find_resident, normalise_address
from bot.privacy.retention import purge, purge_preview
from bot.runtime import utc_now

app = typer.Typer(help="Residents' data: export, erase, retention purge.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

PhoneArgument = Annotated[str, typer.Argument(help="The resident's number (06 12 34 56 78, +33612345678...) "
                                                   "or, with --telegram, their Telegram chat id.")]
TelegramOption = Annotated[bool, typer.Option("--telegram", help="PHONE is a Telegram chat id.")]


def _address(phone: str, telegram: bool) -> tuple[str, str]:
    channel = "telegram" if telegram else "sms"
    try:
        return channel, normalise_address(phone, channel)
    except InvalidPhoneNumber as exc:
        err.print(f"[bold red]Not a phone number[/]: {exc}", highlight=False)
        raise typer.Exit(1) from exc


def _unknown(address: str) -> typer.Exit:
    err.print(f"[bold red]No resident[/] with the number {address}: nothing is held about it.", highlight=False)
    return typer.Exit(1)


def _find(session, address: str, channel: str):  # type: ignore[no-untyped-def]
    try:
        return find_resident(session, address, channel)
    except UnknownResident:
        raise _unknown(address) from None


@app.command("export")
def export(phone: PhoneArgument, telegram: TelegramOption = False, config: ConfigOption = None) -> None:
    """Everything held about a resident, as JSON on standard output."""
    channel, address = _address(phone, telegram)
    with configured_database(config) as (_, database), database.transaction() as session:
        resident = _find(session, address, channel)
        data = export_resident(session, resident)
        session.add(AuditEntry(action="data_exported", resident_id=resident.id, detail="cli", created_at=utc_now()))
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@app.command("erase")
def erase(
    phone: PhoneArgument,
    telegram: TelegramOption = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
) -> None:
    """Erase a resident; only anonymous counts stay (tickets' themes and outcomes, past attendance). No SMS."""
    channel, address = _address(phone, telegram)
    with configured_database(config) as (_, database):
        with database.transaction() as session:
            _find(session, address, channel)
        if not yes and not typer.confirm(f"Erase everything held about {address}? This cannot be undone"):
            err.print("Nothing erased.")
            raise typer.Exit(1)
        with database.transaction() as session:
            resident = _find(session, address, channel)  # erased meanwhile (by SMS, or another administrator)?
            erasure = erase_resident(session, resident, utc_now(), reason="cli")
    out.print(f"Erased {mask_phone(address)}: {erasure.messages} messages, {erasure.tickets} tickets "
              f"(kept as anonymous counts), {erasure.enrolments_cancelled} workshop seats freed.", highlight=False)


@app.command("purge")
def purge_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be erased.")] = False,
    config: ConfigOption = None,
) -> None:
    """Erase residents silent for longer than retention.months (what the daily job does)."""
    now = utc_now()
    with configured_database(config) as (settings, database):
        if dry_run:
            with database.transaction() as session:
                preview = purge_preview(session, settings.retention, now)
            out.print(f"Would erase {preview.residents} residents silent since before {preview.cutoff:%Y-%m-%d} "
                      f"(retention.months = {settings.retention.months}): {preview.messages} messages, "
                      f"{preview.tickets} tickets (kept as anonymous counts).", highlight=False)
            return
        report = purge(database, settings.retention, now)
    out.print(f"Erased {report.residents} residents silent since before {report.cutoff:%Y-%m-%d}: "
              f"{report.erasure.messages} messages, {report.erasure.tickets} tickets "
              f"(kept as anonymous counts), in {report.batches} batches.", highlight=False)
