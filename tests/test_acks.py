"""Storing for the webhooks: a burst in one transaction, each message as if stored alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.db.models import Message, OutboxItem, Resident
from bot.inbound import pipeline as inbound
from bot.inbound.acks import InboundWriter
from bot.inbound.pipeline import Stored, store_many
from bot.privacy.secrets import redaction_texts
from tests.privacy.values import nir, nir_spaced

NIR = nir("2690675123456")


def sms(text: str, provider_id: str, address: str = "+33612345678") -> InboundMessage:
    return InboundMessage(channel="sms", address=address, text=text, provider_id=provider_id,
                          received_at=datetime.now(UTC), provider="twilio")


def test_a_burst_is_stored_as_if_each_message_came_alone(runtime):
    results = store_many(runtime, [
        (sms("bonjour", "SM1"), ()),
        (sms(f"mon numero de secu {nir_spaced(NIR)}", "SM2"), ()),
        (sms("bonjour", "SM1"), ()),  # the provider's retry, in the same burst
        (sms(f"et ma secu {NIR}", "SM3"), ()),  # a second secret: no second warning
        (sms("jai oublie mon code caf", "SM4", address="+33698765432"), ("une notice",)),  # a new resident
    ])
    assert [type(r) for r in results] == [Stored] * 5
    first, secret, retry, second_secret, other = results
    assert retry.duplicate and not first.duplicate and first.resident_id == retry.resident_id
    assert other.resident_id != first.resident_id and len(other.outbox_ids) == 1
    assert len(secret.outbox_ids) == 1 and second_secret.outbox_ids == []
    with runtime.db.transaction() as session:
        assert len(session.scalars(select(Message).where(Message.direction == "in")).all()) == 4
        assert session.scalars(select(OutboxItem.body)).all().count(redaction_texts().resident_warning) == 1
        assert NIR not in "".join(session.scalars(select(Message.body)))
        assert len(session.scalars(select(Resident)).all()) == 2


def test_a_message_that_breaks_the_storing_fails_alone(runtime, monkeypatch):
    real = inbound.redact

    def breaks_on_poison(text: str):
        if "poison" in text:
            raise ValueError("cannot read this one")
        return real(text)

    monkeypatch.setattr(inbound, "redact", breaks_on_poison)
    results = store_many(runtime, [(sms("bonjour", "SM1"), ()), (sms("poison", "SM2"), ()),
                                   (sms("SUITE", "SM3"), ())])
    assert isinstance(results[1], ValueError)
    assert isinstance(results[0], Stored) and isinstance(results[2], Stored)
    with runtime.db.transaction() as session:
        assert sorted(session.scalars(select(Message.provider_message_id))) == ["SM1", "SM3"]


def test_the_writer_answers_each_webhook_with_its_own_message(runtime):
    writer = InboundWriter(runtime).start()

    async def burst() -> list[Stored]:
        return await asyncio.gather(*(writer.store(sms(f"message {i}", f"SM{i}", address=f"+3361234{i % 7:04d}"))
                                      for i in range(60)))

    try:
        results = asyncio.run(burst())
    finally:
        writer.stop()
    assert writer.stored == 60 and 1 <= writer.batches <= 60
    with runtime.db.transaction() as session:
        bodies = {m.id: m.body for m in session.scalars(select(Message))}
    assert [bodies[r.message_id] for r in results] == [f"message {i}" for i in range(60)]


def test_a_flood_inside_one_burst_is_throttled_from_the_message_past_the_limit(runtime):
    import dataclasses

    from bot.inbound.flood import FloodSettings

    strict = dataclasses.replace(runtime, settings=runtime.settings.model_copy(
        update={"flood": FloodSettings(max_messages=3, window_seconds=60)}))
    store_many(strict, [(sms("avant", "SM0"), ())])
    results = store_many(strict, [(sms(f"message {i}", f"SM{i + 1}"), ()) for i in range(5)])
    assert [r.throttled for r in results] == [False, False, True, True, True]
    assert [len(r.outbox_ids) for r in results] == [0, 0, 1, 0, 0]  # told once to wait
