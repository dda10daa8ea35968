"""Notifications are paced to the configured rate per provider, without bursts beyond a few slots."""

from __future__ import annotations

from bot.outbox.pacing import CATCH_UP_SLOTS, Pacer


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


def test_rate_zero_means_no_pacing_and_providers_are_independent():
    clock = FakeClock()
    pacer = Pacer(clock.monotonic, clock.sleep)
    for _ in range(50):
        pacer.wait("twilio", rate=0)
        pacer.wait("telegram", rate=0)
    assert clock.now == 100.0
