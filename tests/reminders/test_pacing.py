"""Notifications are paced to the configured rate per provider, without bursts beyond a few slots."""

from __future__ import annotations

from bot.outbox.pacing import CATCH_UP_SLOTS, Pacer, catch_up_slots


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_sends_are_spaced_at_the_rate():
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, clock.sleep)
    for _ in range(101):
        pacer.wait("twilio", rate=10)
    assert abs(clock.now - 110.0) < 1e-6  # 100 intervals of 0.1 s after the first


def test_after_a_stall_only_a_few_slots_are_caught_up():
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, clock.sleep)
    pacer.wait("twilio", rate=10)
    clock.now += 60  # the sender was stuck for a minute
    start = clock.now
    for _ in range(CATCH_UP_SLOTS + 10):
        pacer.wait("twilio", rate=10)
    assert abs(clock.now - (start + 10 * 0.1)) < 0.11


def test_at_a_high_rate_a_short_stall_is_caught_up_in_full():
    """150/s and the sender held up 0.3 s (45 slots): two seconds still carry 300 sends."""
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, clock.sleep)
    start, sent = clock.now, 0
    while True:
        if sent == 50:
            clock.now += 0.3
        pacer.wait("twilio", rate=150)
        if clock.now > start + 2.0:
            break
        sent += 1
    assert catch_up_slots(150) == 75
    assert 299 <= sent <= 301


def test_bursts_never_exceed_half_a_second_of_slots():
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, clock.sleep)
    pacer.wait("twilio", rate=150)
    clock.now += 60  # stuck for a minute: at most 0.5 s of it is made up
    start, at_once = clock.now, 0
    while True:
        pacer.wait("twilio", rate=150)
        if clock.now > start:
            break
        at_once += 1
    assert 74 <= at_once <= 76


def test_rate_zero_means_no_pacing_and_providers_are_independent():
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, clock.sleep)
    for _ in range(50):
        pacer.wait("twilio", rate=0)
        pacer.wait("telegram", rate=0)
    assert clock.now == 100.0
