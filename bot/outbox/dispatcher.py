"""Sending what the outbox holds: claim due rows, hand each to its channel's sender, record the result.

Claiming happens in its own short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several server processes share the work without sending a row twice); sending happens outside
any transaction; the result is recorded in another. A process killed between the two leaves the
row in ``sending``; :func:`recover_stale` puts such rows back after a while.

Transient failures (provider 5xx, timeouts) are retried with exponential backoff and jitter up to
``outbox.max_attempts``; then the row is a dead letter (status ``dead``), listed in the console's
"Envois en échec" page where a mediator can queue it again (bot/outbox/dead_letters.py).
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.base import OutgoingMessage, SendResult
from bot.db import DatabaseUnavailable
from bot.db.models import Message, OutboxItem, Resident
from bot.outbox.pacing import PACER, hold_back
from bot.reminders.window import SendingWindow
from bot.runtime import Runtime

log = structlog.get_logger(__name__)

# Defaults of config.yml's outbox: section (bot/outbox/settings.py), which the dispatcher reads.
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 15 * 60
STALE_SENDING_AFTER = timedelta(minutes=5)  # default of outbox.stale_sending_seconds
RECORD_ATTEMPTS = 5
# Provider error codes that say the number must not be texted again, and why.
OPT_OUT_ERRORS = frozenset({"21610"})
# A send that timed out may have been taken by the provider all the same (bot/channels/twilio_sms.py).
UNCONFIRMED_ERRORS = frozenset({"timeout"})
INVALID_NUMBER_ERRORS = frozenset({"21211", "21614"})
# What a row with no resident (the SMS confirming an erasure) keeps of its address once it is done.
FORGOTTEN_ADDRESS = ""


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)  # claimed, not sent in this batch's time budget


def backoff(attempts: int, rng: random.Random | None = None, *, base: float = BACKOFF_BASE_SECONDS,
            cap: float = BACKOFF_CAP_SECONDS) -> timedelta:
    """Exponential backoff with jitter: between half and all of 2, 4, 8... seconds, capped at 15 minutes.

    The jitter spreads the retries of many rows that failed together (a provider outage) over time.
    """
    ceiling = min(cap, base * (2 ** min(max(attempts - 1, 0), 40)))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def claim_due(runtime: Runtime, *, limit: int = 50, ids: list[int] | None = None) -> list[OutboxItem]:
    now = runtime.clock()
    with runtime.db.transaction() as session:
        query = (
            select(OutboxItem)
            .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
            .order_by(OutboxItem.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if ids is not None:
            query = query.where(OutboxItem.id.in_(ids))
        # Notifications obey opt-out and the sending window (bot/outbox/pacing.py); replies go at once.
        window = SendingWindow(runtime.settings.reminders.window)
        items = [item for item in session.scalars(query) if not hold_back(session, item, window, now)]
        for item in items:
            item.status = "sending"
            item.attempts += 1
            item.next_attempt_at = now  # when it was claimed: recover_stale measures from here
        return items


def dispatch_due(runtime: Runtime, *, limit: int = 50, ids: list[int] | None = None) -> DispatchReport:
    """Send up to ``limit`` due outbox rows (or only ``ids``) and record what happened.

    Rows to different residents go out in parallel (``outbox.send_concurrency``): one slow or timing-out
    send does not hold up everybody else's replies. One resident's rows go one after the other, in order.
    A batch never runs longer than half of ``outbox.stale_sending_seconds``: rows not reached by then go
    back to 'pending' untouched, rather than be recovered as stale while this batch would still send them.
    """
    report = DispatchReport()
    claimed = claim_due(runtime, limit=limit, ids=ids)
    if not claimed:
        return report
    started = monotonic()
    threads: dict[tuple[str, str], list[OutboxItem]] = {}
    for item in claimed:
        threads.setdefault((item.channel, item.address), []).append(item)
    unsent: list[int] = []
    workers = min(runtime.settings.outbox.send_concurrency, len(threads))
    if workers <= 1:
        for items in threads.values():
            unsent += _send_in_order(runtime, items, report, started)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox-send") as pool:
            for left in pool.map(lambda items: _send_in_order(runtime, items, report, started), threads.values()):
                unsent += left
    if unsent:
        report.released = _release(runtime, unsent)
    return report


def _send_in_order(runtime: Runtime, items: list[OutboxItem], report: DispatchReport, started: float) -> list[int]:
    """Send one resident's rows in order; returns the ids left unsent when the batch's time is up."""
    budget = runtime.settings.outbox.stale_sending_seconds / 2
    unsubscribed: set[int | None] = set()  # residents the provider said opted out (21610) during this batch
    for index, item in enumerate(items):
        if monotonic() - started > budget:
            return [later.id for later in items[index:]]
        if item.kind == "notification" and item.resident_id in unsubscribed:
            _cancel_opted_out(runtime, item.id)  # claimed before the 21610 came back: it must not go
            report.skipped.append(item.id)
            continue
        sender = runtime.senders.get(item.provider)
        if sender is None:
            result = SendResult(ok=False, status="failed", transient=True, error_code="no_sender",
                                error_message=f"no sender configured for provider {item.provider!r}")
        else:
            if item.kind == "notification":
                PACER.wait(item.provider, runtime.settings.reminders.rate_per_second)
            try:
                result = sender.send(
                    OutgoingMessage(
                        outbox_id=item.id, channel=item.channel,  # type: ignore[arg-type]
                        address=item.address, text=item.body, provider=item.provider,
                        reply_markup=item.reply_markup,
                    )
                )
            except Exception as exc:  # a sender bug must not lose the message: retry it later
                log.exception("sender_crashed", outbox_id=item.id, provider=item.provider)
                result = SendResult(ok=False, status="failed", transient=True, error_code="exception",
                                    error_message=type(exc).__name__)
        _record_after_send(runtime, item.id, result, report)
        if result.error_code in OPT_OUT_ERRORS:
            unsubscribed.add(item.resident_id)
    return []


def _cancel_opted_out(runtime: Runtime, outbox_id: int) -> None:
    with runtime.db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        if item is not None:
            item.status, item.error_message = "cancelled", "opted out"


def monotonic() -> float:
    return time.monotonic()


def _release(runtime: Runtime, outbox_ids: list[int]) -> list[int]:
    """Claimed rows this process will not send after all: back to 'pending', the attempt not counted."""
    with runtime.db.transaction() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(outbox_ids), OutboxItem.status == "sending")
            .values(status="pending", attempts=OutboxItem.attempts - 1)
        )
    log.warning("outbox_batch_released", count=len(outbox_ids))
    return outbox_ids


def _record_after_send(runtime: Runtime, outbox_id: int, result: SendResult, report: DispatchReport) -> None:
    """Record a send, retrying a busy database: a row left in 'sending' would be sent again."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            record_result(runtime, outbox_id, result, report)
            return
        except DatabaseUnavailable:
            if attempt == RECORD_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def record_result(runtime: Runtime, outbox_id: int, result: SendResult, report: DispatchReport) -> None:
    now = runtime.clock()
    with runtime.db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        if item is None:
            return
        message = session.get(Message, item.message_id) if item.message_id else None
        if result.ok:
            item.status, item.sent_at = "sent", now
            item.provider_message_id = result.provider_message_id
            if message is not None:
                message.status = result.status or "sent"
                _set_provider_id(session, message, result.provider_message_id, outbox_id)
            if item.resident_id is None:  # an erasure's confirmation: the address is not kept either
                item.address = FORGOTTEN_ADDRESS
            report.sent.append(item.id)
            log.info("outbox_sent", outbox_id=item.id, provider=item.provider, attempts=item.attempts)
            return
        if item.status == "sent":  # the provider's callback already said it took this send (a late timeout)
            report.sent.append(item.id)
            return
        item.error_code, item.error_message = result.error_code, (result.error_message or "")[:500]
        settings = runtime.settings.outbox
        if result.transient and item.attempts < settings.max_attempts:
            item.status = "pending"
            wait = backoff(item.attempts, base=settings.backoff_base_seconds, cap=settings.backoff_cap_seconds)
            if result.error_code in UNCONFIRMED_ERRORS:
                # The provider may have taken it: give its status callback time to say so before sending again.
                wait = max(wait, timedelta(seconds=settings.unconfirmed_retry_seconds))
            item.next_attempt_at = now + wait
            report.retrying.append(item.id)
            log.warning("outbox_retry", outbox_id=item.id, error_code=result.error_code, attempts=item.attempts)
        else:
            item.status = "dead" if result.transient else "failed"
            report.failed.append(item.id)
            log.warning("outbox_failed", outbox_id=item.id, error_code=result.error_code, status=item.status)
            apply_permanent_failure(session, item.resident_id, result.error_code, now)
            if item.resident_id is None:
                item.address = FORGOTTEN_ADDRESS
        if message is not None:
            message.status = "retrying" if item.status == "pending" else "failed"
            message.error_code = result.error_code


def _set_provider_id(session, message: Message, provider_id: str | None, outbox_id: int) -> None:  # type: ignore[no-untyped-def]
    """Keep the provider's id on the sent message, unless another message already has it.

    ``(channel, provider_message_id)`` is unique on messages. A provider (or a mock of one) that hands
    out the same id twice must not fail the recording: the row would stay in 'sending' and go twice.
    The outbox row keeps the id either way (status callbacks find the message through it).
    """
    if not provider_id:
        return
    try:
        with session.begin_nested():
            message.provider_message_id = provider_id
            session.flush()
    except IntegrityError:
        message.provider_message_id = None
        log.warning("outbox_duplicate_provider_id", outbox_id=outbox_id, message_id=message.id,
                    provider_message_id=provider_id)


def accepted_by_provider(session, outbox_id: int, provider: str, provider_message_id: str,  # type: ignore[no-untyped-def]
                         now: datetime) -> OutboxItem | None:
    """The provider says (status callback) it accepted this row: record it as sent if we did not know.

    Covers a send that timed out after the provider took it, and a process killed between sending and
    recording: without this the row would be sent again after its backoff or :func:`recover_stale`.
    Returns the row, or None when it is unknown or already recorded as sent under another id.
    """
    item = session.get(OutboxItem, outbox_id, with_for_update=True)
    if item is None or item.provider != provider:
        return None
    if item.status == "sent":
        if item.provider_message_id != provider_message_id:
            log.warning("outbox_sent_twice", outbox_id=item.id, provider=provider)
            return None
        return item
    if item.status not in ("sending", "pending", "dead"):
        return None
    item.status, item.sent_at, item.provider_message_id = "sent", now, provider_message_id
    message = session.get(Message, item.message_id) if item.message_id else None
    if message is not None:
        message.status = "sent"
        _set_provider_id(session, message, provider_message_id, outbox_id)
    log.info("outbox_sent_confirmed_by_callback", outbox_id=item.id, provider=provider, attempts=item.attempts)
    return item


def apply_permanent_failure(session, resident_id: int | None, error_code: str | None, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """What a provider's final 'no' means for the resident: opted out, or an unusable number."""
    resident = session.get(Resident, resident_id) if resident_id is not None else None
    if resident is None or error_code is None:
        return
    if error_code in OPT_OUT_ERRORS:
        resident.opted_out, resident.opted_out_at = True, now
    elif error_code in INVALID_NUMBER_ERRORS:
        resident.invalid_address = True
        resident.flagged_reason = f"numero invalide (erreur {error_code})"


def recover_stale(runtime: Runtime, older_than: timedelta | None = None) -> int:
    """Rows left in 'sending' by a process that died go back to 'pending'. Returns how many.

    ``older_than`` defaults to ``outbox.stale_sending_seconds``: long enough for the provider's status
    callback to say it had accepted the send (:func:`accepted_by_provider`), so it is not sent twice.
    """
    if older_than is None:
        older_than = timedelta(seconds=runtime.settings.outbox.stale_sending_seconds)
    cutoff = runtime.clock() - older_than
    with runtime.db.transaction() as session:
        result = session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "sending", OutboxItem.next_attempt_at <= cutoff)
            .values(status="pending")
        )
        return int(result.rowcount or 0)
