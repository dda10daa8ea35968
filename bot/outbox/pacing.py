"""Pacing notifications to the provider's rate per sender number, and the rules they obey.

Only for outbox rows of kind "notification" (reminders, follow-ups, promotions): replies to a
resident who just wrote go at once. The pace is per process: with several server processes,
set ``reminders.rate_per_second`` to the sender's rate divided by the number of processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.models import OutboxItem, Resident
from bot.reminders.window import SendingWindow

CATCH_UP_SLOTS = 5
# ...or, at a high rate, half a second of them: a sender held up a moment (a commit waiting for SQLite's
# write lock while reminders are turned into outbox rows) gets that time back instead of losing it.
CATCH_UP_SECONDS = 0.5


def catch_up_slots(rate: float) -> float:
    return max(CATCH_UP_SLOTS, rate * CATCH_UP_SECONDS)


class Pacer:
    """Spaces sends at most ``rate`` per second per provider (one slot after another, no bursts)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._monotonic, self._sleep = monotonic, sleep

    def wait(self, provider: str, rate: float) -> None:
        if rate <= 0:
            return
        with self._lock:
            now = self._monotonic()
            # A sender slower than the pace for a moment may catch up a few slots, never more:
            # the average stays at ``rate`` and bursts stay at catch_up_slots(rate) messages.
            slot = max(now - catch_up_slots(rate) / rate, self._next.get(provider, now))
            self._next[provider] = slot + 1.0 / rate
        if slot > now:
            self._sleep(slot - now)


PACER = Pacer()


def hold_back(session: Session, item: OutboxItem, window: SendingWindow, now: datetime) -> bool:
    """For a notification: cancel it (opted out) or defer it (window closed). True when not to send now."""
    if item.kind != "notification":
        return False
    resident = session.get(Resident, item.resident_id)
    if resident is None or resident.opted_out:
        item.status, item.error_message = "cancelled", "opted out"
        return True
    opening = window.next_opening(now)
    if opening > now:
        item.next_attempt_at = opening
        return True
    return False
