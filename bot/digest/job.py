"""The daily digest job: run every minute by the leading process; builds each structure's digest once
a day (a row per structure and day), then sends it to the structure's Telegram team chat.

Sent at most once: the row is committed (status ``sending``) before the message goes, so a second
process or a restart never sends it again; a process killed in between leaves it ``sending``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.db.models import Digest as DigestRow
from bot.db.models import Structure
from bot.digest.build import Digest, build_digest, digest_day, digest_lines
from bot.runtime import Runtime

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Built:
    row_id: int
    structure_slug: str
    digest: Digest
    chat_id: str | None


def chat_for(settings: Settings, slug: str) -> str | None:
    """The structure's team chat, or the chat told about new tickets; None when Telegram is not set up."""
    if not settings.telegram.bot_token:
        return None
    return settings.digest.telegram_chat_ids.get(slug) or settings.tickets.notify_telegram_chat_id


def telegram_text(settings: Settings, digest: Digest, now: datetime) -> str:
    title, lines = digest_lines(digest, now, settings.digest)
    return "\n".join([title, *lines, f"{settings.public_url.rstrip('/')}/console"])


async def _send(settings: Settings, chat_id: str, text: str) -> None:
    from bot.channels.telegram import make_bot

    async with make_bot(settings.telegram) as bot:
        await bot.send_message(chat_id=chat_id, text=text)


def build_due_digests(runtime: Runtime) -> list[Built]:
    """Build (and store) today's digest of every structure that has none yet. Nothing before the time."""
    settings = runtime.settings
    now = runtime.clock()
    day = digest_day(now, settings.digest)
    if day is None:
        return []
    built = []
    with runtime.db.transaction() as session:
        structures = list(session.scalars(select(Structure).order_by(Structure.id)))
        done = set(session.scalars(select(DigestRow.structure_id).where(DigestRow.day == day)))
        for structure in structures:
            if structure.id in done:
                continue
            digest = build_digest(session, structure, day, settings.digest, runtime.texts.service_label)
            chat_id = chat_for(settings, structure.slug)
            row = DigestRow(structure_id=structure.id, day=day, payload=digest.payload(),
                            telegram_status="sending" if chat_id else "none", created_at=now)
            try:
                with session.begin_nested():  # another process may have just built it
                    session.add(row)
                    session.flush()
            except IntegrityError:
                continue
            built.append(Built(row.id, structure.slug, digest, chat_id))
    return built


def run_daily_digest(runtime: Runtime) -> list[Built]:
    """Build what is due, then send each to its team chat (outside the transaction)."""
    built = build_due_digests(runtime)
    for item in built:
        if item.chat_id is None:
            continue
        status = "sent"
        try:
            asyncio.run(_send(runtime.settings, item.chat_id, telegram_text(runtime.settings, item.digest,
                                                                            runtime.clock())))
        except Exception as exc:  # a lost digest must not stop the scheduler: log it, the console has it
            status = "failed"
            log.warning("digest_telegram_failed", structure=item.structure_slug, error=type(exc).__name__)
        with runtime.db.transaction() as session:
            row = session.get(DigestRow, item.row_id)
            if row is not None:
                row.telegram_status = status
                row.sent_at = runtime.clock() if status == "sent" else None
    if built:
        log.info("digests_built", count=len(built), sent=sum(1 for b in built if b.chat_id))
    return built


def latest_digests(session, structure_ids: list[int], today: date) -> list[Digest]:  # type: ignore[no-untyped-def]
    """For the console home: the most recent digest of each structure, up to ``today``."""
    latest: dict[int, Digest] = {}
    rows = session.scalars(
        select(DigestRow).where(DigestRow.structure_id.in_(structure_ids), DigestRow.day <= today)
        .order_by(DigestRow.day.desc()).limit(len(structure_ids) * 7 or 1)
    )
    for row in rows:
        latest.setdefault(row.structure_id, Digest.from_payload(row.payload))
    return [latest[i] for i in structure_ids if i in latest]
