"""Workshop dates as residents read them: French, Europe/Paris wall-clock time, right across DST."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

PARIS = ZoneInfo("Europe/Paris")


def paris(moment: datetime) -> datetime:
    return moment.astimezone(PARIS)


def french_time(moment: datetime) -> str:
    """'a 14 h' or 'a 14 h 30' (Paris time)."""
    local = paris(moment)
    minutes = f" {local.minute:02d}" if local.minute else ""
    return f"à {local.hour} h{minutes}"


def french_date(moment: datetime) -> str:
    """'mardi 3 décembre à 14 h' (Paris time); gsm7.prepare makes it SMS-safe later."""
    day = format_datetime(paris(moment), "EEEE d MMMM", tzinfo=PARIS, locale="fr_FR")
    return f"{day} {french_time(moment)}"


def french_short_date(moment: datetime) -> str:
    """'mardi 1/12 à 14 h' (Paris time): for lists, where three must fit one SMS."""
    local = paris(moment)
    day = format_datetime(local, "EEEE", tzinfo=PARIS, locale="fr_FR")
    return f"{day} {local.day}/{local.month:02d} {french_time(moment)}"
