"""Building workshops and residents for tests, with Paris wall-clock times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.db.models import Resident, Workshop
from bot.structures import default_structure
from bot.workshops.dates import PARIS
from bot.workshops.service import create_workshop


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def add_workshop(session: Session, runtime, starts_at: datetime, *, capacity: int = 2,  # type: ignore[no-untyped-def]
                 title: str = "Envoyer un mail", place: str = "Maison de quartier Saint-Éloi") -> Workshop:
    structure = default_structure(session, runtime.settings)
    return create_workshop(session, structure_id=structure.id, title=title, place_name=place,
                           starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), capacity=capacity)


def add_resident(session: Session, number: int) -> Resident:
    resident = Resident(channel="sms", address=f"+3361234{number:04d}")
    session.add(resident)
    session.flush()
    return resident
