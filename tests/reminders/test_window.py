"""The sending window: Monday-Saturday 08:00-20:00 Paris, never on a French public holiday."""

from __future__ import annotations

import pytest

from bot.config import SendingWindowSettings
from bot.reminders.window import SendingWindow
from tests.workshops.helpers import paris

WINDOW = SendingWindow()


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (paris(2026, 11, 24, 10), paris(2026, 11, 24, 10)),  # Tuesday morning: open
        (paris(2026, 11, 24, 7, 59), paris(2026, 11, 24, 8)),  # too early: at 08:00
        (paris(2026, 11, 24, 20), paris(2026, 11, 25, 8)),  # 20:00 is closed: next morning
        (paris(2026, 11, 28, 19, 30), paris(2026, 11, 28, 19, 30)),  # Saturday evening: open
        (paris(2026, 11, 29, 12), paris(2026, 11, 30, 8)),  # Sunday: Monday 08:00
        (paris(2026, 12, 24, 21), paris(2026, 12, 26, 8)),  # Christmas (Friday): Saturday 26th
        (paris(2026, 7, 14, 9), paris(2026, 7, 15, 8)),  # 14 juillet (Tuesday)
        (paris(2026, 4, 4, 20, 30), paris(2026, 4, 7, 8)),  # Sat evening, Easter Sunday, Easter Monday
        (paris(2026, 10, 31, 21), paris(2026, 11, 2, 8)),  # Sunday then Toussaint on Sunday: Monday 2nd
    ],
)
def test_next_opening(moment, opens):
    assert WINDOW.next_opening(moment) == opens
    assert WINDOW.is_open(moment) == (moment == opens)


def test_holidays_can_be_allowed_and_hours_configured():
    window = SendingWindow(SendingWindowSettings(skip_public_holidays=False, start="09:30", end="18:00"))
    assert window.next_opening(paris(2026, 12, 25, 8)) == paris(2026, 12, 25, 9, 30)
    assert window.next_opening(paris(2026, 12, 25, 18)) == paris(2026, 12, 26, 9, 30)


def test_a_window_open_all_day_every_day():
    window = SendingWindow(SendingWindowSettings(days=list(range(7)), start="00:00", end="24:00",
                                                 skip_public_holidays=False))
    for moment in (paris(2026, 12, 25, 23, 59), paris(2026, 11, 29, 0, 0), paris(2026, 7, 14, 12)):
        assert window.is_open(moment)
