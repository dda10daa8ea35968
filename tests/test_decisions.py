"""Stored first, decided after: the worker answers what was acknowledged, in order, once, even after a restart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from bot.channels.base import InboundMessage
from bot.db.models import AuditEntry, Message, OutboxItem
from bot.inbound.decisions import DecisionWorker
from bot.inbound.pipeline import _deciding, count_undecided, decide_next, receive, store
from tests.conftest import KeywordParser


def sms(text_: str, provider_id: str, address: str = "+33612345678") -> InboundMessage:
    return InboundMessage(channel="sms", address=address, text=text_, provider_id=provider_id,
                          received_at=datetime.now(UTC), provider="simulator")


def replies(runtime, message_id: int) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxItem.body).where(OutboxItem.in_reply_to == message_id)
                                    .order_by(OutboxItem.id)))


def test_messages_stored_before_a_crash_are_answered_by_the_next_worker_in_arrival_order(runtime):
    # The webhooks acknowledged these, then the process died before deciding them.
    stored = [store(runtime, sms(t, f"m{i}")) for i, t in enumerate(["jai oublie mon code caf", "SUITE", "SUITE"])]
    assert count_undecided(runtime) == 3 and replies(runtime, stored[0].message_id) == []

    worker = DecisionWorker(runtime, poll_seconds=0.05).start()  # the restarted process
    try:
        assert worker.wait_idle(timeout=20)
    finally:
        worker.stop()
    assert any(r.startswith("1/4 Ouvrez le site caf.fr") for r in replies(runtime, stored[0].message_id))
    assert replies(runtime, stored[1].message_id) == ['2/4 Touchez "Mot de passe oublie".']
    assert replies(runtime, stored[2].message_id)[0].startswith("3/4 La CAF envoie un lien.")
    with runtime.db.transaction() as session:
        assert set(session.scalars(select(Message.status).where(Message.direction == "in"))) == {"decided"}


def test_a_decided_message_is_never_decided_again(runtime):
    first = receive(runtime, sms("jai oublie mon code caf", "a1"))
    assert decide_next(runtime, first.resident_id, wait=False) is None  # nothing left to decide
    worker = DecisionWorker(runtime, poll_seconds=0.05).start()
    try:
        assert worker.wait_idle(timeout=20)
    finally:
        worker.stop()
    assert worker.decided == 0
    assert len(replies(runtime, first.message_id)) == len(first.outbox_ids)


def test_receive_decides_earlier_waiting_messages_of_the_resident_first(runtime):
    early = store(runtime, sms("jai oublie mon code caf", "b1"))
    late = receive(runtime, sms("SUITE", "b2"))
    assert any(r.startswith("1/4 ") for r in replies(runtime, early.message_id))
    assert replies(runtime, late.message_id) == ['2/4 Touchez "Mot de passe oublie".']


class BrokenOnPoison(KeywordParser):
    def parse(self, text_: str):
        if "poison" in text_:
            raise RuntimeError("the NLU broke on this one")
        return super().parse(text_)


def test_a_message_the_engine_breaks_on_is_kept_as_failed_and_the_next_ones_go_on(runtime):
    broken = dataclasses.replace(runtime, parser=BrokenOnPoison())
    poison = store(broken, sms("un message poison", "c1"))
    after = store(broken, sms("jai oublie mon code caf", "c2"))
    other = store(broken, sms("jai oublie mon code caf", "c3", address="+33698765432"))
    worker = DecisionWorker(broken, poll_seconds=0.05).start()
    try:
        assert worker.wait_idle(timeout=20)
    finally:
        worker.stop()
    with broken.db.transaction() as session:
        assert session.get(Message, poison.message_id).status == "failed"
        assert session.get(Message, after.message_id).status == "decided"
        assert session.get(Message, other.message_id).status == "decided"
        assert session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "decision_failed")).all() == [
            f"message {poison.message_id}"]
    assert any(r.startswith("1/4 ") for r in replies(broken, after.message_id))


def test_a_resident_someone_else_is_deciding_is_skipped_not_waited_for(runtime, database_url):
    busy = store(runtime, sms("jai oublie mon code caf", "d1"))
    free = store(runtime, sms("jai oublie mon code caf", "d2", address="+33698765432"))
    if database_url.startswith("postgresql"):
        # Another server process holds the conversation's row lock (it is deciding this resident).
        other_process = create_engine(database_url)
        connection = other_process.connect()
        transaction = connection.begin()
        connection.execute(text("SELECT id FROM conversations WHERE resident_id = :r FOR UPDATE"),
                           {"r": busy.resident_id})
        release = lambda: (transaction.rollback(), connection.close(), other_process.dispose())  # noqa: E731
    else:  # SQLite has one server process: another thread of it is deciding this resident
        assert _deciding.acquire(busy.resident_id, wait=False)
        release = lambda: _deciding.release(busy.resident_id)  # noqa: E731
    try:
        assert decide_next(runtime, busy.resident_id, wait=False) is None
        assert decide_next(runtime, free.resident_id, wait=False) is not None
        with runtime.db.transaction() as session:
            assert session.get(Message, busy.message_id).status == "received"
    finally:
        release()
    assert decide_next(runtime, busy.resident_id, wait=False) is not None


def test_a_retry_of_a_stored_message_is_not_stored_again(runtime):
    first = store(runtime, sms("bonjour", "e1"))
    again = store(runtime, sms("bonjour", "e1"))
    assert again.duplicate and not again.to_decide and again.resident_id == first.resident_id
    with Session(runtime.db.engine) as session:
        assert len(session.scalars(select(Message).where(Message.provider_message_id == "e1")).all()) == 1


def test_receive_still_returns_the_replies_when_the_worker_decided_first(runtime, monkeypatch):
    from bot.inbound import pipeline as inbound

    real = inbound.decide_through

    def worker_got_there_first(rt, stored):
        assert decide_next(rt, stored.resident_id, wait=False) is not None  # the worker, between store and decide
        return real(rt, stored)

    monkeypatch.setattr(inbound, "decide_through", worker_got_there_first)
    result = receive(runtime, sms("jai oublie mon code caf", "r1"))
    with runtime.db.transaction() as session:
        bodies = session.scalars(select(OutboxItem.body).where(OutboxItem.id.in_(result.outbox_ids))).all()
    assert any(body.startswith("1/4 Ouvrez le site caf.fr") for body in bodies)
