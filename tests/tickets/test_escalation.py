"""Handing over through the one message path: the wait told, the ticket added to, reopened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db.models import AuditEntry, Message, OutboxItem, Ticket
from bot.inbound.pipeline import receive
from bot.tickets.service import Closing, close
from tests.tickets.people import mediator, sms

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS).astimezone(UTC)


def replies(runtime, ids):
    with runtime.db.transaction() as session:
        query = select(OutboxItem).where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id)
        return [item.body for item in session.scalars(query)]


def test_aide_opens_a_ticket_and_the_resident_is_told_the_wait(runtime):
    runtime.clock = lambda: TUESDAY_10H
    result = receive(runtime, sms("AIDE", "a1"))
    texts = replies(runtime, result.outbox_ids)
    assert texts[-1] == "Un conseiller vous répond en général sous 2 h, du lundi au vendredi 9h-18h."
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket.status == "open" and ticket.waiting_since == TUESDAY_10H
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id)).all() == [
            "ticket_opened"]


def test_at_night_the_resident_is_told_when_they_will_be_answered(runtime):
    runtime.clock = lambda: datetime(2026, 11, 24, 22, 0, tzinfo=PARIS).astimezone(UTC)
    result = receive(runtime, sms("AIDE", "n1"))
    assert "demain avant 11h" in replies(runtime, result.outbox_ids)[-1]


def test_writing_again_adds_to_the_open_ticket(runtime):
    first = receive(runtime, sms("AIDE", "b1"))
    again = receive(runtime, sms("cest pour la caf", "b2"))
    assert again.ticket_id == first.ticket_id
    with runtime.db.transaction() as session:
        assert session.get(Message, again.message_id).ticket_id == first.ticket_id
        assert len(session.scalars(select(Ticket)).all()) == 1


def _close(runtime, ticket_id, when):
    with runtime.db.transaction() as session:
        from bot.structures import default_structure

        who = mediator(session, "lea@centre.fr", [default_structure(session, runtime.settings)])
        close(session, who, ticket_id, Closing("resolu", "aide_aux_demarches_administratives"), when)


def test_a_closed_ticket_reopens_when_the_resident_writes_again_within_the_configured_days(runtime):
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    runtime.clock = lambda: start
    opened = receive(runtime, sms("AIDE", "c1"))
    _close(runtime, opened.ticket_id, start + timedelta(hours=1))
    later = start + timedelta(days=3)
    runtime.clock = lambda: later
    result = receive(runtime, sms("ca marche toujours pas", "c2"))
    assert result.ticket_id == opened.ticket_id
    assert "Un conseiller vous répond" in replies(runtime, result.outbox_ids)[0]
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, opened.ticket_id)
        assert (ticket.status, ticket.reopened_count, ticket.assignee_id, ticket.outcome) == ("open", 1, None, None)
        assert ticket.waiting_since == later
        assert session.get(Message, result.message_id).ticket_id == ticket.id
        assert "ticket_reopened" in session.scalars(select(AuditEntry.action)).all()


def test_past_the_configured_days_a_new_message_goes_to_the_bot_not_the_old_ticket(runtime):
    start = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    runtime.clock = lambda: start
    opened = receive(runtime, sms("AIDE", "d1"))
    _close(runtime, opened.ticket_id, start)
    runtime.clock = lambda: start + timedelta(days=runtime.settings.tickets.reopen_within_days, minutes=1)
    result = receive(runtime, sms("jai oublie mon code caf", "d2"))
    assert result.ticket_id is None
    assert replies(runtime, result.outbox_ids)[-1].startswith("1/4 Ouvrez le site caf.fr")
    with runtime.db.transaction() as session:
        assert session.get(Ticket, opened.ticket_id).status == "closed"


def test_stop_never_reopens_a_ticket(runtime):
    opened = receive(runtime, sms("AIDE", "e1"))
    _close(runtime, opened.ticket_id, datetime.now(UTC))
    receive(runtime, sms("STOP", "e2"))
    with runtime.db.transaction() as session:
        assert session.get(Ticket, opened.ticket_id).status == "closed"


def test_reopening_can_be_turned_off(runtime):
    runtime.settings = runtime.settings.model_copy(
        update={"tickets": runtime.settings.tickets.model_copy(update={"reopen_within_days": 0})})
    opened = receive(runtime, sms("AIDE", "f1"))
    _close(runtime, opened.ticket_id, datetime.now(UTC))
    assert receive(runtime, sms("encore moi", "f2")).ticket_id is None
