"""The sending window for messages the resident did not just ask for.

Default: Monday to Saturday, 08:00-20:00 Europe/Paris, never on a French public holiday. Outside
it a message waits for the next opening; it is never dropped here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.config import SendingWindowSettings

MAX_DAYS_AHEAD = 30


@lru_cache(maxsize=8)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _french_holidays(day.year)


class SendingWindow:
    def __init__(self, settings: SendingWindowSettings | None = None) -> None:
        self.settings = settings or SendingWindowSettings()
        self.zone = ZoneInfo(self.settings.timezone)
        self.start = time.fromisoformat(self.settings.start)
        # "24:00" closes at midnight: the whole day is open.
        self.end_of_day = self.settings.end == "24:00"
        self.end = time(0, 0) if self.end_of_day else time.fromisoformat(self.settings.end)
        self.days = frozenset(self.settings.days)

    def _open_day(self, day: date) -> bool:
        if day.weekday() not in self.days:
            return False
        return not (self.settings.skip_public_holidays and is_public_holiday(day))

    def is_open(self, moment: datetime) -> bool:
        return self.next_opening(moment) == moment

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` if the window is open then, else when it next opens (same zone as ``moment``)."""
        local = moment.astimezone(self.zone)
        for offset in range(MAX_DAYS_AHEAD + 1):
            day = local.date() + timedelta(days=offset)
            if not self._open_day(day):
                continue
            opens = datetime.combine(day, self.start, tzinfo=self.zone)
            closes = datetime.combine(day + timedelta(days=1) if self.end_of_day else day, self.end,
                                      tzinfo=self.zone)
            if local < closes:
                return max(local, opens).astimezone(moment.tzinfo)
        raise ValueError("no sending window in the next 30 days: check reminders.window")
