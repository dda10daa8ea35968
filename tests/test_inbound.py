"""The one path every message takes: stored once, answered once, through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.db.models import Message, OutboxItem, Resident, Ticket
from bot.inbound.pipeline import MAX_INBOUND_CHARS, receive
from bot.outbox.dispatcher import dispatch_due


def sms(text: str, provider_id: str, address: str = "+33612345678") -> InboundMessage:
    return InboundMessage(channel="sms", address=address, text=text, provider_id=provider_id,
                          received_at=datetime.now(UTC), provider="simulator")


def test_a_question_is_stored_and_its_answer_queued_in_the_outbox(runtime):
    result = receive(runtime, sms("jai oublie mon code caf", "m1"))
    # The guide's intro, its first step, and the information SMS of a first contact (tests/privacy).
    assert not result.duplicate and len(result.outbox_ids) == 3
    with runtime.db.transaction() as session:
        inbound = session.get(Message, result.message_id)
        assert (inbound.direction, inbound.intent, inbound.service) == ("in", "password_reset", "caf")
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [i.status for i in items] == ["pending", "pending", "pending"]
        assert items[1].body.startswith("1/4 Ouvrez le site caf.fr")
        assert all(i.in_reply_to == inbound.id and i.encoding == "GSM-7" for i in items)


def test_a_provider_retry_is_neither_processed_nor_answered_twice(runtime):
    first = receive(runtime, sms("jai oublie mon code caf", "SM-retry"))
    again = receive(runtime, sms("jai oublie mon code caf", "SM-retry"))
    assert again.duplicate and again.outbox_ids == []
    with runtime.db.transaction() as session:
        assert len(session.scalars(select(Message).where(Message.direction == "in")).all()) == 1
        assert len(session.scalars(select(OutboxItem)).all()) == len(first.outbox_ids)


def test_the_conversation_continues_across_messages(runtime):
    receive(runtime, sms("jai oublie mon code caf", "a"))
    result = receive(runtime, sms("SUITE", "b"))
    with runtime.db.transaction() as session:
        (item,) = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(result.outbox_ids))).all()
        assert item.body == '2/4 Touchez "Mot de passe oublie".'


def test_replies_go_out_through_the_sender_and_are_marked_sent(runtime):
    result = receive(runtime, sms("jai oublie mon code caf", "c"))
    report = dispatch_due(runtime)
    assert sorted(report.sent) == sorted(result.outbox_ids)
    with runtime.db.transaction() as session:
        outbound = session.scalars(select(Message).where(Message.direction == "out")).all()
        assert {m.status for m in outbound} == {"delivered"}


def test_aide_opens_a_ticket_in_the_residents_structure(runtime):
    receive(runtime, sms("jai oublie mon code caf", "d1"))
    result = receive(runtime, sms("AIDE", "d2"))
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, result.ticket_id)
        resident = session.scalars(select(Resident)).one()
        assert (ticket.status, ticket.reason, ticket.guide_id) == ("open", "asked", "caf_code")
        assert ticket.structure_id == resident.structure_id is not None


def test_later_messages_join_the_open_ticket(runtime):
    opened = receive(runtime, sms("AIDE", "e1"))
    later = receive(runtime, sms("je suis bloque sur la page", "e2"))
    with runtime.db.transaction() as session:
        assert session.get(Message, later.message_id).ticket_id == opened.ticket_id


def test_stop_opts_the_resident_out(runtime):
    receive(runtime, sms("STOP", "f1"))
    with runtime.db.transaction() as session:
        assert session.scalars(select(Resident)).one().opted_out


def test_huge_and_binary_messages_are_stored_cleanly_and_answered(runtime):
    garbage = "\x00\x01\x02" + "é" * 20_000 + "\x7f"
    result = receive(runtime, sms(garbage, "g1"))
    assert result.outbox_ids
    with runtime.db.transaction() as session:
        body = session.get(Message, result.message_id).body
        assert len(body) == MAX_INBOUND_CHARS and "\x00" not in body


def test_two_residents_do_not_share_a_conversation(runtime):
    receive(runtime, sms("jai oublie mon code caf", "h1", address="+33611111111"))
    result = receive(runtime, sms("SUITE", "h2", address="+33622222222"))
    with runtime.db.transaction() as session:
        item = session.get(OutboxItem, result.outbox_ids[0])  # then the first-contact information SMS
        assert item.body.startswith("Vous n'avez pas de guide en cours")
