"""SIGKILL under load: the server is killed at random points while residents text it, restarted, and the
provider retries every webhook that did not get a 2xx. Then every message the provider saw acknowledged
has its replies sent, each exactly once, and no message was processed twice.

The server is a real `relais serve` subprocess on the test database's kind (SQLite or PostgreSQL);
replies go through the official twilio client to a local stand-in of Twilio's Messages API.
"""

from __future__ import annotations

import random
import threading
import time

from tests.faults.harness import Provider, ProviderSink, RelaisServer

RESIDENTS = 16
MESSAGES_EACH = 6  # a person's pace: more than 12 a minute is a flood (bot/inbound/flood.py)
KILLS = 3


def _resident(provider: Provider, number: int, rng: random.Random, stop: threading.Event) -> None:
    address = f"+336{number:08d}"
    for index in range(MESSAGES_EACH):
        if stop.is_set():
            return
        # MENU (the menu, plus the first-contact notice the first time), then a topic from it: one reply each.
        provider.deliver(address, "MENU" if index % 2 == 0 else str(1 + (index // 2) % 8))
        time.sleep(rng.uniform(0.2, 1.2))


def test_every_acknowledged_message_gets_its_replies_exactly_once_across_sigkills(fresh_database_url, tmp_path):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    sink = ProviderSink(seed=seed)
    server = RelaisServer(fresh_database_url, sink.start(), tmp_path)
    server.start()
    provider = Provider(server.url)
    stop = threading.Event()
    residents = [threading.Thread(target=_resident, args=(provider, n, random.Random(seed + n), stop))
                 for n in range(RESIDENTS)]
    kills: list[float] = []
    try:
        started = time.monotonic()
        for thread in residents:
            thread.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.5, 2.5))
            if not any(thread.is_alive() for thread in residents):
                break
            server.kill()
            kills.append(round(time.monotonic() - started, 2))
            server.start()
        for thread in residents:
            thread.join(timeout=90)
        verdict = check_after_load(fresh_database_url, provider, sink)
    finally:
        stop.set()
        server.stop()
        sink.stop()

    context = (f"seed={seed} kills at {kills} s; webhook answers {dict(provider.statuses)}; {verdict.summary()}; "
               f"server log {server.log_path}")
    # The kills happened while residents were texting: some webhooks found no server and were retried.
    assert len(kills) >= 2 and sum(n for status, n in provider.statuses.items() if status != "200") > 0, context
    assert verdict.acked == RESIDENTS * MESSAGES_EACH and verdict.unacked == 0, context
    assert verdict.stored == verdict.acked, context
    assert verdict.lost == [] and verdict.unanswered == [], context
    assert verdict.sent_twice == {} and verdict.processed_twice == [], context
    # Every resident sent the same sequence: the n-th message of each got the same number of replies
    # (a message answered twice, or half-processed, would stand out).
    by_position: dict[int, set[int]] = {}
    seen: dict[str, int] = {}
    for delivery in provider.deliveries:
        position = seen[delivery.address] = seen.get(delivery.address, -1) + 1
        by_position.setdefault(position, set()).add(verdict.replies_by_sid[delivery.sid])
    assert all(len(counts) == 1 for counts in by_position.values()), (by_position, context)


def check_after_load(database_url: str, provider: Provider, sink: ProviderSink):  # noqa: ANN201
    from tests.faults.harness import check

    return check(database_url, provider, sink, settle_timeout=45)
