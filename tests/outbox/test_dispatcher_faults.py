"""Provider faults at send time: retries with jittered backoff, dead letters after N attempts, and a
provider that hands out the same message id twice."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.channels.base import OutgoingMessage, SendResult
from bot.config import Settings
from bot.db.models import Message, OutboxItem, Resident
from bot.outbox.dispatcher import backoff, dispatch_due
from bot.outbox.queue import enqueue
from bot.outbox.settings import OutboxSettings

PROVIDER = "fake"


class ScriptedSender:
    """Answers each send with the next scripted result (the last one repeats)."""

    provider = PROVIDER

    def __init__(self, *results: SendResult) -> None:
        self.results = list(results)
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]


def _queue(db, runtime, address: str = "+33612345678", text: str = "Bonjour") -> int:
    with db.transaction() as session:
        resident = session.scalars(select(Resident).where(Resident.address == address)).first()
        if resident is None:
            resident = Resident(channel="sms", address=address)
            session.add(resident)
            session.flush()
        return enqueue(session, resident, text, provider=PROVIDER, now=runtime.clock()).id


def _row(db, outbox_id: int) -> tuple[OutboxItem, Message]:
    with db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        message = session.get(Message, item.message_id)
        session.expunge_all()
        return item, message


def _run_until_settled(runtime, clock: list[datetime], rounds: int = 20) -> None:
    for _ in range(rounds):
        dispatch_due(runtime)
        clock[0] += timedelta(hours=1)  # past any backoff


@pytest.fixture
def clock(runtime) -> list[datetime]:
    now = [datetime(2026, 3, 10, 10, 0, tzinfo=UTC)]
    runtime.clock = lambda: now[0]
    return now


def test_the_same_provider_id_twice_is_recorded_and_never_leaves_a_row_sending(db, runtime, clock):
    # Prism (the Twilio mock) answers every send with the same SID; a real provider could too.
    sender = ScriptedSender(SendResult(ok=True, provider_message_id="SM-same", status="queued"))
    runtime.senders[PROVIDER] = sender
    first, second = _queue(db, runtime, text="Un"), _queue(db, runtime, text="Deux")

    report = dispatch_due(runtime)

    assert sorted(report.sent) == [first, second]
    assert len(sender.sent) == 2
    for outbox_id in (first, second):
        item, message = _row(db, outbox_id)
        assert item.status == "sent" and item.provider_message_id == "SM-same"
        assert message.status == "queued"
    ids = [_row(db, i)[1].provider_message_id for i in (first, second)]
    assert ids.count("SM-same") == 1 and ids.count(None) == 1  # the unique id is kept once
    # Nothing is left to send again.
    clock[0] += timedelta(hours=1)
    assert dispatch_due(runtime).sent == [] and len(sender.sent) == 2


def test_an_inbound_message_with_that_id_does_not_block_recording_the_send(db, runtime, clock):
    with db.transaction() as session:
        resident = Resident(channel="sms", address="+33700000001")
        session.add(resident)
        session.flush()
        session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider=PROVIDER,
                            provider_message_id="SM-clash", body="Bonjour"))
    runtime.senders[PROVIDER] = ScriptedSender(SendResult(ok=True, provider_message_id="SM-clash"))
    outbox_id = _queue(db, runtime, address="+33700000001")

    assert dispatch_due(runtime).sent == [outbox_id]
    item, message = _row(db, outbox_id)
    assert (item.status, item.provider_message_id, message.status) == ("sent", "SM-clash", "sent")


def test_transient_failures_are_retried_then_become_a_dead_letter_after_the_configured_attempts(db, runtime, clock):
    runtime.settings = Settings(database_url=runtime.settings.database_url,
                                outbox=OutboxSettings(max_attempts=3))
    sender = ScriptedSender(SendResult(ok=False, status="failed", transient=True, error_code="503",
                                       error_message="Service Unavailable"))
    runtime.senders[PROVIDER] = sender
    outbox_id = _queue(db, runtime)

    first = dispatch_due(runtime)
    assert first.retrying == [outbox_id]
    item, message = _row(db, outbox_id)
    assert item.status == "pending" and message.status == "retrying"
    assert timedelta(seconds=1) <= item.next_attempt_at - clock[0] <= timedelta(seconds=2)
    assert dispatch_due(runtime).sent == []  # not before its backoff

    _run_until_settled(runtime, clock)

    item, message = _row(db, outbox_id)
    assert len(sender.sent) == 3
    assert (item.status, item.attempts, item.error_code) == ("dead", 3, "503")
    assert message.status == "failed"


def test_a_permanent_failure_is_not_retried_and_is_not_a_dead_letter(db, runtime, clock):
    sender = ScriptedSender(SendResult(ok=False, status="failed", transient=False, error_code="21211"))
    runtime.senders[PROVIDER] = sender
    outbox_id = _queue(db, runtime)
    _run_until_settled(runtime, clock)
    item, _ = _row(db, outbox_id)
    assert (item.status, len(sender.sent)) == ("failed", 1)


def test_backoff_doubles_is_capped_and_is_jittered():
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (6, 64), (30, 900)]:
        waits = {backoff(attempts, rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 40  # spread out: rows that failed together do not retry together
    assert backoff(5, rng, base=1, cap=3).total_seconds() <= 3


def test_outbox_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RELAIS_OUTBOX__MAX_ATTEMPTS", "9")
    assert Settings().outbox.max_attempts == 9
    with pytest.raises(ValueError):
        OutboxSettings(max_attempts=0)


def test_a_slow_batch_hands_back_the_rows_it_did_not_reach_instead_of_sending_them_late(db, runtime, clock,
                                                                                        monkeypatch):
    # stale_sending_seconds=10: past 5 s a batch stops, so a stale-row recovery never races this loop.
    runtime.settings = Settings(database_url=runtime.settings.database_url,
                                outbox=OutboxSettings(stale_sending_seconds=10))
    elapsed = [0.0]
    monkeypatch.setattr("bot.outbox.dispatcher.monotonic", lambda: elapsed[0])

    class SlowSender(ScriptedSender):
        def send(self, message):  # noqa: ANN001 - each send takes 2 s of the batch's time
            elapsed[0] += 2
            return super().send(message)

    sender = SlowSender(SendResult(ok=True, provider_message_id=None))
    runtime.senders[PROVIDER] = sender
    ids = [_queue(db, runtime, text=f"Message {n}") for n in range(5)]

    report = dispatch_due(runtime)

    assert report.sent == ids[:3] and report.released == ids[3:]
    for outbox_id in ids[3:]:
        item, _ = _row(db, outbox_id)
        assert (item.status, item.attempts) == ("pending", 0)
    assert dispatch_due(runtime).sent == ids[3:]
    assert [m.outbox_id for m in sender.sent] == ids  # each once


def test_one_slow_send_does_not_hold_up_other_residents_and_each_residents_order_is_kept(db, runtime, clock):
    import threading

    first_in_flight, others_done = threading.Event(), threading.Event()
    order: list[str] = []

    class OneSlowResident(ScriptedSender):
        def send(self, message):  # noqa: ANN001
            order.append(message.text)
            if message.address == "+33600000000" and message.text == "A1":
                first_in_flight.set()
                # Released only once every other resident's message went: fails (times out) if sequential.
                assert others_done.wait(timeout=10), "the other residents waited behind a slow send"
            elif message.address != "+33600000000" and all(f"B{n}" in order for n in range(1, 4)) \
                    and all(f"C{n}" in order for n in range(1, 4)):
                others_done.set()
            return super().send(message)

    runtime.senders[PROVIDER] = OneSlowResident(SendResult(ok=True, provider_message_id=None))
    for n in range(1, 4):
        _queue(db, runtime, address="+33600000000", text=f"A{n}")
        _queue(db, runtime, address="+33600000001", text=f"B{n}")
        _queue(db, runtime, address="+33600000002", text=f"C{n}")

    report = dispatch_due(runtime)

    assert len(report.sent) == 9 and first_in_flight.is_set() and others_done.is_set()
    for letter in "ABC":
        assert [text for text in order if text[0] == letter] == [f"{letter}1", f"{letter}2", f"{letter}3"]
    assert order.index("A2") > order.index("B3") and order.index("A2") > order.index("C3")


def test_with_a_concurrency_of_one_each_residents_rows_go_together_in_order(db, runtime, clock):
    runtime.settings = Settings(database_url=runtime.settings.database_url,
                                outbox=OutboxSettings(send_concurrency=1))
    sender = ScriptedSender(SendResult(ok=True, provider_message_id=None))
    runtime.senders[PROVIDER] = sender
    ids = [_queue(db, runtime, address=f"+3360000000{n % 3}", text=f"M{n}") for n in range(6)]
    dispatch_due(runtime)
    assert [m.text for m in sender.sent] == ["M0", "M3", "M1", "M4", "M2", "M5"]
    assert sorted(m.outbox_id for m in sender.sent) == ids


def test_after_a_timeout_the_retry_waits_for_the_providers_callback(db, runtime, clock):
    # A timeout is not a "no": the provider may have taken the SMS. Sending again at once could double it.
    runtime.senders[PROVIDER] = ScriptedSender(SendResult(ok=False, status="failed", transient=True,
                                                          error_code="timeout", error_message="ReadTimeout"))
    outbox_id = _queue(db, runtime)
    dispatch_due(runtime)
    item, _ = _row(db, outbox_id)
    assert item.status == "pending"
    assert item.next_attempt_at - clock[0] >= timedelta(seconds=runtime.settings.outbox.unconfirmed_retry_seconds)
