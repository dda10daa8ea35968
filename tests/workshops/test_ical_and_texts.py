"""The iCalendar export reads back with the right times; every workshop SMS is GSM-7 and one segment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from bot.sms.gsm7 import count_segments, is_gsm7
from bot.structures import default_structure
from bot.workshops.ical import export_calendar
from bot.workshops.texts import template_keys, text
from tests.workshops.helpers import add_workshop, paris


def test_ical_export_parses_back_with_paris_times(runtime):
    with runtime.db.transaction() as session:
        add_workshop(session, runtime, paris(2026, 10, 26, 14), title="Envoyer un mail")  # after autumn change
        add_workshop(session, runtime, paris(2027, 3, 29, 9, 30), title="La CAF")  # after spring change
        data = export_calendar(session, default_structure(session, runtime.settings).id)
    events = Calendar.from_ical(data).walk("VEVENT")
    times = {str(e["summary"]): (e.decoded("dtstart"), e.decoded("dtend")) for e in events}
    assert times["Envoyer un mail"][0].astimezone(UTC) == datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert times["La CAF"][0].astimezone(UTC) == datetime(2027, 3, 29, 7, 30, tzinfo=UTC)
    assert times["La CAF"][1].astimezone(UTC) == datetime(2027, 3, 29, 9, 30, tzinfo=UTC)
    assert str(events[0]["location"]) == "Maison de quartier Saint-Éloi"
    assert b"BEGIN:VTIMEZONE" in data and b"TZID:Europe/Paris" in data


LONG = {
    "title": "Faire ses demarches en ligne", "date": "mercredi 30 septembre à 14 h 30",
    "place": "Maison de quartier Saint-Éloi", "time": "à 14 h 30", "position": 12, "number": 3,
    "service": "France Travail",
}


@pytest.mark.parametrize("key", [k for k in template_keys()])
def test_every_text_is_gsm7_and_one_sms(key):
    filled = text(key, **LONG)
    assert is_gsm7(filled), filled
    assert count_segments(filled).segments == 1, (key, len(filled))
