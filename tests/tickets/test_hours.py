"""The wait a resident is told when handed over to a mediator, from the structure's opening hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.sms.gsm7 import is_gsm7
from bot.tickets.hours import OpeningHours, expected_wait
from tests.tickets.people import WEEKDAYS_9_TO_18

PARIS = ZoneInfo("Europe/Paris")
HOURS = OpeningHours.parse(WEEKDAYS_9_TO_18)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def test_during_opening_hours_the_typical_wait_and_the_hours_are_given():
    # Tuesday 24 November 2026, 10:00
    assert expected_wait(HOURS, 2, at(24, 10)) == (
        "Un conseiller vous répond en général sous 2 h, du lundi au vendredi 9h-18h."
    )


def test_shortly_before_closing_the_resident_is_told_it_will_be_the_next_morning():
    assert expected_wait(HOURS, 2, at(24, 17, 30)) == (
        "Le service ferme bientot. Un conseiller vous répond en général demain avant 10h30."
    )


def test_in_the_evening_the_answer_is_expected_the_next_opening_day():
    assert expected_wait(HOURS, 2, at(24, 20)) == (
        "Le service est fermé en ce moment. Un conseiller vous répond en général demain avant 11h. "
        "Horaires : du lundi au vendredi 9h-18h."
    )


def test_on_friday_evening_the_answer_comes_on_monday():
    assert "en général lundi avant 11h" in expected_wait(HOURS, 2, at(27, 19))


def test_public_holidays_are_closed_days():
    # Thursday 24 December 2026 in the evening: Friday 25 is Christmas, so Monday 28.
    assert "en général lundi avant 11h" in expected_wait(HOURS, 2, at(24, 19, month=12))
    open_on_holidays = OpeningHours.parse(WEEKDAYS_9_TO_18, closed_on_public_holidays=False)
    assert "en général demain avant 11h" in expected_wait(open_on_holidays, 2, at(24, 19, month=12))


def test_far_answers_name_the_date():
    only_mondays = OpeningHours.parse({"mon": ["09:00-12:00"]})
    # Monday 23 November 11:30 with a 2 h habit: 30 min today, then 1 h30 the next Monday.
    assert "en général le 30 novembre avant 10h30" in expected_wait(only_mondays, 2, at(23, 11, 30))


def test_a_structure_without_hours_promises_nothing_precise():
    assert expected_wait(OpeningHours.parse({}), 2, at(24, 10)) == "Un conseiller vous répond dès que possible."


def test_the_summary_groups_days_with_the_same_hours():
    hours = OpeningHours.parse({"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["14:00-18:30"],
                                "sat": ["10:00-12:00"]})
    assert hours.describe() == "lundi et mardi 9h-17h, mercredi 14h-18h30, samedi 10h-12h"


@pytest.mark.parametrize("hour", range(24))
@pytest.mark.parametrize("day", range(23, 30))
def test_every_wait_text_is_one_gsm7_sms(day, hour):
    wait = expected_wait(HOURS, 2, at(day, hour))
    assert is_gsm7(wait) and len(wait) <= 160


def test_malformed_hours_are_refused_with_the_culprit():
    with pytest.raises(ValueError, match="'18:00-09:00'"):
        OpeningHours.parse({"mon": ["18:00-09:00"]})
    with pytest.raises(ValueError, match="unknown day"):
        OpeningHours.parse({"lundi": ["09:00-12:00"]})
