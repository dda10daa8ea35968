"""What is written comes back the same, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db.models import Conversation, Message, OutboxItem, Resident, Structure, Ticket


def test_a_resident_and_their_messages_round_trip_with_aware_utc_times(db):
    paris_winter = timezone(timedelta(hours=1))
    sent_at = datetime(2026, 12, 3, 14, 0, tzinfo=paris_winter)
    with db.transaction() as session:
        structure = Structure(slug="lilas", name="Centre social Les Lilas")
        session.add(structure)
        session.flush()
        resident = Resident(channel="sms", address="+33612345678", structure_id=structure.id)
        session.add(resident)
        session.flush()
        session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider="twilio",
                            provider_message_id="SM1", body="jai oublié mon code CAF 🙏", created_at=sent_at))
        session.add(Conversation(resident_id=resident.id, state={"guide_id": "caf", "step_id": "open"}))
    with db.transaction() as session:
        message = session.scalars(select(Message)).one()
        assert message.body == "jai oublié mon code CAF 🙏"
        assert message.created_at == sent_at and message.created_at.tzinfo is not None
        assert message.created_at.utcoffset() == timedelta(0)
        assert session.scalars(select(Conversation)).one().state == {"guide_id": "caf", "step_id": "open"}


def test_the_same_provider_id_on_one_channel_is_stored_once(db):
    with db.transaction() as session:
        resident = Resident(channel="sms", address="+33612345678")
        session.add(resident)
        session.flush()
        session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider="twilio",
                            provider_message_id="SM42", body="bonjour"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        resident = session.scalars(select(Resident)).one()
        session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider="twilio",
                            provider_message_id="SM42", body="bonjour"))
    with db.transaction() as session:
        assert len(session.scalars(select(Message)).all()) == 1


def test_the_same_provider_id_on_another_channel_is_another_message(db):
    with db.transaction() as session:
        resident = Resident(channel="sms", address="+33612345678")
        session.add(resident)
        session.flush()
        for channel in ("sms", "telegram"):
            session.add(Message(resident_id=resident.id, direction="in", channel=channel, provider=channel,
                                provider_message_id="42", body="bonjour"))
    with db.transaction() as session:
        assert len(session.scalars(select(Message)).all()) == 2


def test_one_resident_per_channel_and_address(db):
    with db.transaction() as session:
        session.add(Resident(channel="sms", address="+33612345678"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(Resident(channel="sms", address="+33612345678"))


def test_tickets_and_outbox_rows_round_trip(db):
    now = datetime.now(UTC)
    with db.transaction() as session:
        resident = Resident(channel="telegram", address="123456789")
        session.add(resident)
        session.flush()
        session.add(Ticket(resident_id=resident.id, reason="asked", guide_id="caf_code", step_id="open",
                           confidence=0.42, opened_at=now))
        session.add(OutboxItem(resident_id=resident.id, channel="telegram", provider="telegram", address="123456789",
                               body="Bonjour", reply_markup=[["SUITE", "AIDE"]], next_attempt_at=now))
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.confidence, ticket.opened_at) == ("open", 0.42, now)
        item = session.scalars(select(OutboxItem)).one()
        assert item.reply_markup == [["SUITE", "AIDE"]] and item.status == "pending"
