"""End to end: a mediator closes a ticket in the console; days later the resident is asked whether the
procedure was finished; NON puts the ticket back in the queue, as a ticket waiting from now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db.models import AuditEntry, OutboxItem, Reminder, Ticket
from bot.inbound.pipeline import receive
from bot.outbox.dispatcher import dispatch_due
from bot.reminders.dispatch import dispatch_due_reminders
from bot.workshops.dates import PARIS
from tests.console.conftest import log_in
from tests.tickets.people import sms

RESIDENT = "+33644444444"
# Monday 30 November 2026, 10:00 in Paris.
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=PARIS).astimezone(UTC)


def _close_in_console(client, runtime, team) -> int:
    runtime.settings.structure.slug = "lilas"
    runtime.clock = lambda: MONDAY
    ticket_id = receive(runtime, sms("AIDE", "f1", RESIDENT, at=MONDAY)).ticket_id
    assert ticket_id is not None
    with runtime.db.transaction() as session:
        session.get(Ticket, ticket_id).service = "caf"
    csrf = log_in(client, "lea@lilas.fr")
    client.post(f"/console/tickets/{ticket_id}/claim", data={"csrf_token": csrf})
    closed = client.post(f"/console/tickets/{ticket_id}/close", follow_redirects=True, data={
        "csrf_token": csrf, "outcome": "resolu", "theme": "aide_aux_demarches_administratives",
        "subtheme": "social_sante"})
    assert "Ticket fermé." in closed.text
    dispatch_due(runtime)  # the replies of the conversation so far
    return ticket_id


def _asked_three_days_later(runtime) -> str:
    runtime.clock = lambda: MONDAY + timedelta(days=3)
    assert len(dispatch_due_reminders(runtime).sent) == 1
    assert len(dispatch_due(runtime).sent) == 1
    with runtime.db.transaction() as session:
        return session.scalars(select(OutboxItem.body).where(OutboxItem.kind == "notification")).one()


def test_closing_in_the_console_schedules_the_procedure_follow_up(client, team, runtime):
    ticket_id = _close_in_console(client, runtime, team)
    with runtime.db.transaction() as session:
        followup = session.scalars(select(Reminder)).one()
        assert (followup.kind, followup.ticket_id, followup.payload) == (
            "followup_procedure", ticket_id, {"service": "caf", "reason": "ticket_closed"})
        assert followup.due_at == MONDAY + timedelta(days=runtime.settings.reminders.followup_delay_days)
    assert _asked_three_days_later(runtime) == "Avez-vous pu finir votre demarche CAF ? Repondez OUI ou NON."


def test_non_reopens_the_ticket_in_the_queue_waiting_from_now_unassigned(client, team, runtime):
    ticket_id = _close_in_console(client, runtime, team)
    _asked_three_days_later(runtime)
    answered_at = MONDAY + timedelta(days=3, hours=1)
    runtime.clock = lambda: answered_at
    receive(runtime, sms("non", "f2", RESIDENT, at=answered_at))
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.status, ticket.reopened_count, ticket.assignee_id, ticket.outcome, ticket.closed_at) == (
            "open", 1, None, None, None)
        assert ticket.waiting_since == answered_at  # not "waiting for 3 days" at the top of the queue
        assert "ticket_reopened" in session.scalars(
            select(AuditEntry.action).where(AuditEntry.ticket_id == ticket_id)).all()
    log_in(client, "sam@lilas.fr")  # another day, another mediator
    queue = client.get("/console/api/queue?state=open").json()
    assert f'data-ticket-id="{ticket_id}"' in queue["html"] and queue["counts"]["open"] == 1


def test_oui_leaves_the_ticket_closed(client, team, runtime):
    ticket_id = _close_in_console(client, runtime, team)
    _asked_three_days_later(runtime)
    runtime.clock = lambda: MONDAY + timedelta(days=3, hours=1)
    receive(runtime, sms("oui", "f3", RESIDENT, at=runtime.clock()))
    with runtime.db.transaction() as session:
        assert session.get(Ticket, ticket_id).status == "closed"
