"""Building one structure's daily digest, and writing it as mediators read it.

The digest covers: tickets waiting now and the oldest wait; tickets opened and closed since the
previous digest day ("hier", or "depuis vendredi" on a Monday) by service and by theme; the
workshops of today and tomorrow with their seats; sends that failed. Counts only: never what a
resident wrote, nor who they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import OutboxItem, Resident, Structure, Ticket
from bot.digest.settings import DigestSettings
from bot.reminders.window import is_public_holiday
from bot.sms.catalogue import MessageCatalogue
from bot.tickets.themes import themes

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"
MAX_DAYS_BACK = 10


_text = MessageCatalogue(MESSAGES_FILE).fill


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class WorkshopLine:
    workshop_id: int
    title: str
    starts_at: str  # ISO, UTC
    today: bool
    seats: int
    capacity: int
    waiting: int


@dataclass(frozen=True)
class Digest:
    structure_id: int
    structure_name: str
    day: str  # ISO date, local
    since: str  # ISO datetime (UTC): start of the period "opened / closed" counts
    waiting: int
    oldest_waiting_since: str | None
    opened: int
    closed: int
    opened_by_service: list[Count] = field(default_factory=list)
    closed_by_theme: list[Count] = field(default_factory=list)
    workshops: list[WorkshopLine] = field(default_factory=list)
    dead_letters: int = 0
    failed_sends: int = 0

    def payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Digest:
        values = dict(payload)
        values["opened_by_service"] = [Count(**c) for c in payload.get("opened_by_service", [])]
        values["closed_by_theme"] = [Count(**c) for c in payload.get("closed_by_theme", [])]
        values["workshops"] = [WorkshopLine(**w) for w in payload.get("workshops", [])]
        return cls(**values)


def is_digest_day(day: date, settings: DigestSettings) -> bool:
    if day.weekday() not in settings.days:
        return False
    return not (settings.skip_public_holidays and is_public_holiday(day))


def digest_day(now: datetime, settings: DigestSettings) -> date | None:
    """Today (local) if a digest is due by ``now``: a digest day, at or after the configured time."""
    if not settings.enabled:
        return None
    local = now.astimezone(ZoneInfo(settings.timezone))
    if not is_digest_day(local.date(), settings) or local.time() < time.fromisoformat(settings.time):
        return None
    return local.date()


def previous_digest_day(day: date, settings: DigestSettings) -> date:
    """The digest day before ``day`` (Friday for a Monday); yesterday when none is found close by."""
    for back in range(1, MAX_DAYS_BACK + 1):
        candidate = day - timedelta(days=back)
        if is_digest_day(candidate, settings):
            return candidate
    return day - timedelta(days=1)


def build_digest(session: Session, structure: Structure, day: date, settings: DigestSettings,
                 service_label: Callable[[str], str] = str) -> Digest:
    """The digest of ``structure`` for the local ``day``."""
    from bot.workshops.service import workshops_with_attendance

    zone = ZoneInfo(settings.timezone)
    start_of_day = datetime.combine(day, time(0), tzinfo=zone)
    since = datetime.combine(previous_digest_day(day, settings), time(0), tzinfo=zone)
    mine = Ticket.structure_id == structure.id
    waiting, oldest = session.execute(
        select(func.count(), func.min(Ticket.waiting_since)).where(mine, Ticket.status == "open")
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite's aggregate comes back without the zone
        oldest = oldest.replace(tzinfo=ZoneInfo("UTC"))
    in_period = (Ticket.opened_at >= since) & (Ticket.opened_at < start_of_day)
    opened = [Count(service_label(s) if s else _text("no_theme"), n) for s, n in session.execute(
        select(Ticket.service, func.count()).where(mine, in_period).group_by(Ticket.service)
        .order_by(func.count().desc(), Ticket.service))]
    closed_in_period = (Ticket.status == "closed") & (Ticket.closed_at >= since) & (Ticket.closed_at < start_of_day)
    closed = [Count(themes().get(t or "", t or _text("no_theme")), n) for t, n in session.execute(
        select(Ticket.theme, func.count()).where(mine, closed_in_period).group_by(Ticket.theme)
        .order_by(func.count().desc(), Ticket.theme))]
    workshops = [
        WorkshopLine(w.workshop.id, w.workshop.title, w.workshop.starts_at.isoformat(),
                     w.workshop.starts_at.astimezone(zone).date() == day, w.confirmed + w.attended + w.no_show,
                     w.workshop.capacity, w.waiting)
        for w in workshops_with_attendance(session, structure_id=structure.id, since=start_of_day,
                                           before=start_of_day + timedelta(days=2))
        if w.workshop.status == "scheduled"
    ]
    residents = select(Resident.id).where(Resident.structure_id == structure.id)
    of_structure = OutboxItem.resident_id.in_(residents)
    dead = session.scalar(select(func.count()).select_from(OutboxItem).where(of_structure, OutboxItem.status == "dead"))
    failed = session.scalar(select(func.count()).select_from(OutboxItem).where(
        of_structure, OutboxItem.status == "failed", OutboxItem.created_at >= since,
        OutboxItem.created_at < start_of_day))
    return Digest(
        structure_id=structure.id, structure_name=structure.name, day=day.isoformat(),
        since=since.astimezone(ZoneInfo("UTC")).isoformat(), waiting=int(waiting or 0),
        oldest_waiting_since=oldest.isoformat() if oldest else None,
        opened=sum(c.count for c in opened), closed=sum(c.count for c in closed),
        opened_by_service=opened, closed_by_theme=closed, workshops=workshops,
        dead_letters=int(dead or 0), failed_sends=int(failed or 0),
    )


def _detail(counts: list[Count]) -> str:
    return " (" + ", ".join(f"{c.label} {c.count}" for c in counts) + ")" if counts else ""


def digest_lines(digest: Digest, now: datetime, settings: DigestSettings) -> tuple[str, list[str]]:
    """The digest's title and lines, in French: what the console shows and the Telegram chat reads."""
    from bot.console.views import waited

    zone = ZoneInfo(settings.timezone)
    day = date.fromisoformat(digest.day)
    since = datetime.fromisoformat(digest.since).astimezone(zone).date()
    period = _text("period_yesterday") if since == day - timedelta(days=1) else _text(
        "period_since", weekday=format_date(since, "EEEE", locale="fr_FR"))
    title = _text("title", day=format_date(day, "EEEE d MMMM", locale="fr_FR"), structure=digest.structure_name)
    lines = []
    if digest.waiting:
        oldest = datetime.fromisoformat(digest.oldest_waiting_since) if digest.oldest_waiting_since else now
        lines.append(_text("waiting", count=digest.waiting, wait=waited(oldest, now)))
    else:
        lines.append(_text("waiting_none"))
    lines.append(_text("opened", period=period, count=digest.opened, detail=_detail(digest.opened_by_service)))
    lines.append(_text("closed", period=period, count=digest.closed, detail=_detail(digest.closed_by_theme)))
    if digest.workshops:
        lines.append(_text("workshops_header"))
        for w in digest.workshops:
            starts = datetime.fromisoformat(w.starts_at).astimezone(zone)
            minutes = f" {starts.minute:02d}" if starts.minute else ""
            when = f"{_text('today') if w.today else _text('tomorrow')} {starts.hour} h{minutes}"
            waiting = _text("workshop_waiting", count=w.waiting) if w.waiting else ""
            lines.append(_text("workshop", when=when, title=w.title, seats=w.seats, capacity=w.capacity,
                               waiting=waiting))
    else:
        lines.append(_text("workshops_none"))
    lines.append(_text("sends", dead=digest.dead_letters, failed=digest.failed_sends, period=period))
    return title, lines
