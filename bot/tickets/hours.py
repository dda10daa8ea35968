"""A structure's opening hours, and the honest wait told to a resident handed over to a mediator.

Opening hours are stored as ``{"mon": ["09:00-12:00", "14:00-18:00"], ...}`` in the structure's
own zone (Europe/Paris); days missing are closed. The expected answer time is the structure's
typical response time counted in *opening* time only: at 17:30 with a 2-hour habit and a 18:00
close, the answer comes the next opening morning, and the resident is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.tickets.texts import messages, text

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 21  # past this with no opening, the structure is treated as having no hours


@dataclass(frozen=True)
class Interval:
    start: time
    end: time  # time(0, 0) written as "24:00" is kept as time.max


@dataclass(frozen=True)
class OpeningHours:
    days: tuple[tuple[Interval, ...], ...]  # index 0 = Monday
    zone: ZoneInfo
    closed_on_public_holidays: bool = True

    @classmethod
    def parse(cls, raw: dict[str, list[str]] | None, zone: str = "Europe/Paris",
              closed_on_public_holidays: bool = True) -> OpeningHours:
        """Read the stored form; a malformed range raises ValueError naming it."""
        raw = raw or {}
        unknown = set(raw) - set(DAY_KEYS)
        if unknown:
            raise ValueError(f"unknown day(s) {sorted(unknown)}: expected {', '.join(DAY_KEYS)}")
        days = []
        for key in DAY_KEYS:
            intervals = [_interval(item) for item in raw.get(key) or []]
            days.append(tuple(sorted(intervals, key=lambda i: i.start)))
        return cls(tuple(days), ZoneInfo(zone), closed_on_public_holidays)

    @property
    def empty(self) -> bool:
        return not any(self.days)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if self.closed_on_public_holidays and day in _french_holidays(day.year):
            return ()
        return self.days[day.weekday()]

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return any(i.start <= local.time() < i.end for i in self.intervals_on(local.date()))

    def add_open_time(self, moment: datetime, duration: timedelta) -> datetime | None:
        """``moment`` plus ``duration`` of opening time (None when the hours never open)."""
        local = moment.astimezone(self.zone)
        remaining = duration
        day = local.date()
        for _ in range(SEARCH_DAYS):
            for interval in self.intervals_on(day):
                start = datetime.combine(day, interval.start, tzinfo=self.zone)
                end = _end_of(day, interval, self.zone)
                start = max(start, local)
                if start >= end:
                    continue
                if start + remaining <= end:
                    return start + remaining
                remaining -= end - start
            day += timedelta(days=1)
        return None

    def next_opening(self, moment: datetime) -> datetime | None:
        """When the structure next opens at or after ``moment`` (``moment`` itself when open)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(SEARCH_DAYS):
            for interval in self.intervals_on(day):
                start = datetime.combine(day, interval.start, tzinfo=self.zone)
                if _end_of(day, interval, self.zone) > local:
                    return max(start, local)
            day += timedelta(days=1)
        return None

    def describe(self) -> str:
        """'du lundi au vendredi 9h-18h' — each day's first opening to its last closing, grouped."""
        words = messages()
        names = words["weekdays"]
        spans = [(d[0].start, d[-1].end) if d else None for d in self.days]
        groups: list[tuple[list[int], tuple[time, time]]] = []
        for index, span in enumerate(spans):
            if span is None:
                continue
            if groups and groups[-1][1] == span and groups[-1][0][-1] == index - 1:
                groups[-1][0].append(index)
            else:
                groups.append(([index], span))
        parts = []
        for days, (start, end) in groups:
            if len(days) == 1:
                label = names[days[0]]
            elif len(days) == 2:
                label = f"{names[days[0]]} {words['days_list_and']} {names[days[1]]}"
            else:
                label = words["days_range"].format(first=names[days[0]], last=names[days[-1]])
            parts.append(f"{label} {format_time(start)}-{format_time(end)}")
        return ", ".join(parts)


def _interval(item: str) -> Interval:
    try:
        first, last = item.split("-")
        start = _parse_time(first)
        end = _parse_time(last)
    except ValueError as exc:
        raise ValueError(f"opening hours {item!r}: expected HH:MM-HH:MM") from exc
    if end <= start:
        raise ValueError(f"opening hours {item!r}: the end must come after the start")
    return Interval(start, end)


def _parse_time(raw: str) -> time:
    raw = raw.strip()
    if raw == "24:00":
        return time.max
    return time.fromisoformat(raw)


def _end_of(day: date, interval: Interval, zone: ZoneInfo) -> datetime:
    if interval.end == time.max:
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return datetime.combine(day, interval.end, tzinfo=zone)


@lru_cache(maxsize=8)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year)


def format_time(moment: time) -> str:
    """9h, 9h30, 18h, minuit (24:00) as 24h."""
    if moment == time.max:
        return "24h"
    return f"{moment.hour}h" if moment.minute == 0 else f"{moment.hour}h{moment.minute:02d}"


def day_phrase(target: datetime, now: datetime, zone: ZoneInfo) -> str:
    """aujourd'hui, demain, a weekday within the week, otherwise 'le 3 janvier'."""
    words = messages()
    days = (target.astimezone(zone).date() - now.astimezone(zone).date()).days
    if days <= 0:
        return words["today"]
    if days == 1:
        return words["tomorrow"]
    local = target.astimezone(zone)
    if days < 7:
        return words["weekdays"][local.weekday()]
    return words["date_format"].format(day=local.day, month=words["months"][local.month - 1])


def expected_wait(hours: OpeningHours, typical_response_hours: int, now: datetime) -> str:
    """The SMS telling a resident, honestly, when a mediator will answer."""
    if hours.empty:
        return text("wait_unknown")
    deadline = hours.add_open_time(now, timedelta(hours=typical_response_hours))
    if deadline is None:
        return text("wait_unknown")
    zone = hours.zone
    local_deadline = deadline.astimezone(zone)
    schedule = hours.describe()
    if hours.is_open(now) and local_deadline.date() == now.astimezone(zone).date():
        return text("wait_open", hours=typical_response_hours, schedule=schedule)
    values = {"when": day_phrase(deadline, now, zone), "time": format_time(_round_up(local_deadline.time())),
              "schedule": schedule}
    if hours.is_open(now):
        return text("wait_closing", **values)
    full = text("wait_closed", **values)
    return full if len(full) <= 160 else text("wait_closed_short", **values)


def _round_up(moment: time) -> time:
    """To the next quarter hour, so residents read 10h15 rather than 10h07."""
    minutes = moment.hour * 60 + moment.minute + (1 if moment.second or moment.microsecond else 0)
    minutes = -(-minutes // 15) * 15
    if minutes >= 24 * 60:
        return time.max
    return time(minutes // 60, minutes % 60)
