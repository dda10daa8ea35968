"""iCalendar export of a structure's workshops (RFC 5545, with the ``icalendar`` package)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Structure, Workshop
from bot.workshops.dates import PARIS


def export_calendar(session: Session, structure_id: int, *, now: datetime | None = None) -> bytes:
    """An .ics with every scheduled workshop of ``structure_id`` (times in Europe/Paris)."""
    structure = session.get(Structure, structure_id)
    calendar = Calendar()
    calendar.add("prodid", "-//Relais//ateliers//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Ateliers {structure.name if structure else ''}".strip())
    calendar.add("x-wr-timezone", "Europe/Paris")
    query = select(Workshop).where(Workshop.structure_id == structure_id, Workshop.status == "scheduled")
    for workshop in session.scalars(query.order_by(Workshop.starts_at)):
        event = Event()
        event.add("uid", f"workshop-{workshop.id}@relais")
        event.add("summary", workshop.title)
        event.add("dtstart", workshop.starts_at.astimezone(PARIS))
        event.add("dtend", workshop.ends_at.astimezone(PARIS))
        event.add("dtstamp", now or workshop.created_at)
        location = ", ".join(part for part in (workshop.place_name, workshop.place_address) if part)
        event.add("location", location)
        if workshop.description:
            event.add("description", workshop.description)
        calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for Europe/Paris, so any client reads the right hour
    return calendar.to_ical()
