"""Claim, transfer, answer, note and close, as the console uses them; and who may see what."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.config import ReminderSettings
from bot.db.models import AuditEntry, Mediator, OutboxItem, Reminder, Ticket, TicketNote
from bot.tickets import service
from bot.tickets.service import Closing, TicketError
from tests.tickets.people import mediator, resident_with_ticket, structure

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def team(db):
    """Two structures; Léa and Sam in Lilas, Noor in Saint-Eloi, Ada admin of Lilas."""
    with db.transaction() as session:
        lilas, eloi = structure(session, "lilas"), structure(session, "eloi")
        people = {
            "lea": mediator(session, "lea@lilas.fr", [lilas]).id,
            "sam": mediator(session, "sam@lilas.fr", [lilas]).id,
            "noor": mediator(session, "noor@eloi.fr", [eloi]).id,
            "ada": mediator(session, "ada@lilas.fr", [lilas], role="admin").id,
        }
        tickets = {
            "lilas": resident_with_ticket(session, lilas, "+33611111111", now=NOW).id,
            "eloi": resident_with_ticket(session, eloi, "+33622222222", now=NOW).id,
        }
    return people, tickets


def who(session, people, name) -> Mediator:
    return session.get(Mediator, people[name])


def test_a_mediator_sees_only_the_tickets_of_their_structures(db, team):
    people, tickets = team
    with db.transaction() as session:
        lea = who(session, people, "lea")
        assert [t.id for t in service.queue(session, lea, "open").tickets] == [tickets["lilas"]]
        assert service.counts(session, lea)["open"] == 1
        with pytest.raises(TicketError, match="not_found"):
            service.get_ticket(session, lea, tickets["eloi"])
        with pytest.raises(TicketError, match="not_found"):
            service.claim(session, lea, tickets["eloi"], NOW)
        with pytest.raises(TicketError, match="not_found"):
            service.reply(session, lea, tickets["eloi"], "Bonjour", NOW)
    with db.transaction() as session:
        assert session.get(Ticket, tickets["eloi"]).status == "open"
        assert session.scalars(select(OutboxItem)).all() == []


def test_claiming_takes_the_ticket_and_is_audited(db, team):
    people, tickets = team
    with db.transaction() as session:
        assert service.claim(session, who(session, people, "lea"), tickets["lilas"], NOW)
        assert not service.claim(session, who(session, people, "sam"), tickets["lilas"], NOW)
    with db.transaction() as session:
        ticket = session.get(Ticket, tickets["lilas"])
        assert (ticket.status, ticket.assignee_id, ticket.claimed_at) == ("claimed", people["lea"], NOW)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket_claimed")).all()
        assert [(a.mediator_id, a.ticket_id) for a in audit] == [(people["lea"], tickets["lilas"])]


@pytest.mark.parametrize("claimers", [2, 4])
def test_of_mediators_claiming_at_the_same_moment_exactly_one_wins(db, claimers):
    with db.transaction() as session:
        lilas = structure(session, "lilas")
        ids = [mediator(session, f"m{i}@lilas.fr", [lilas]).id for i in range(claimers)]
        ticket_ids = [resident_with_ticket(session, lilas, f"+3361234{n:04d}", now=NOW).id for n in range(8)]
    for ticket_id in ticket_ids:
        ready = threading.Barrier(claimers)
        won: list[int] = []
        errors: list[BaseException] = []

        def attempt(mediator_id: int, ticket_id: int = ticket_id, ready=ready, won=won, errors=errors) -> None:
            try:
                with db.transaction() as session:
                    me = session.get(Mediator, mediator_id)
                    # Everyone has read the ticket as open before anyone writes: the race a
                    # read-then-write claim would lose.
                    assert service.get_ticket(session, me, ticket_id).status == "open"
                    ready.wait(timeout=10)
                    if service.claim(session, me, ticket_id, NOW):
                        won.append(mediator_id)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=attempt, args=(m,)) for m in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(won) == 1
        with db.transaction() as session:
            assert session.get(Ticket, ticket_id).assignee_id == won[0]
            claims = session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id,
                                                              AuditEntry.action == "ticket_claimed")).all()
            assert len(claims) == 1


def test_a_ticket_is_transferred_to_a_colleague_of_its_structure_only(db, team):
    people, tickets = team
    with db.transaction() as session:
        lea = who(session, people, "lea")
        service.claim(session, lea, tickets["lilas"], NOW)
        with pytest.raises(TicketError, match="bad_colleague"):
            service.transfer(session, lea, tickets["lilas"], people["noor"], NOW)
        service.transfer(session, lea, tickets["lilas"], people["sam"], NOW)
    with db.transaction() as session:
        assert session.get(Ticket, tickets["lilas"]).assignee_id == people["sam"]
        with pytest.raises(TicketError, match="not_yours"):  # Léa gave it away
            service.transfer(session, who(session, people, "lea"), tickets["lilas"], people["lea"], NOW)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket_transferred")).one()
        assert entry.mediator_id == people["lea"] and entry.detail == f"from {people['lea']} to {people['sam']}"


def test_a_reply_goes_through_the_residents_own_provider_and_claims_an_open_ticket(db, team):
    people, tickets = team
    with db.transaction() as session:
        ticket = session.get(Ticket, tickets["lilas"])
        lea = who(session, people, "lea")
        item = service.reply(session, lea, ticket.id, "Bonjour, je suis Léa. Vous êtes là ?", NOW)
        assert (item.provider, item.address, item.kind) == ("simulator", "+33611111111", "reply")
        assert item.body == "Bonjour, je suis Léa. Vous etes là ?"  # prepared for GSM-7 once, as sent
    with db.transaction() as session:
        ticket = session.get(Ticket, tickets["lilas"])
        assert (ticket.status, ticket.assignee_id) == ("claimed", people["lea"])
        with pytest.raises(TicketError, match="not_yours"):
            service.reply(session, who(session, people, "sam"), ticket.id, "Moi aussi", NOW)
        service.reply(session, who(session, people, "ada"), ticket.id, "L'admin peut aider", NOW)
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id)
                                  .order_by(AuditEntry.id)).all()
        assert actions == ["ticket_claimed", "ticket_answered", "ticket_answered"]


def test_empty_or_overlong_replies_are_refused(db, team):
    people, tickets = team
    with db.transaction() as session:
        lea = who(session, people, "lea")
        with pytest.raises(TicketError, match="empty"):
            service.reply(session, lea, tickets["lilas"], "   ", NOW)
        with pytest.raises(TicketError, match="too_long"):
            service.reply(session, lea, tickets["lilas"], "x" * 1001, NOW)


def test_notes_stay_internal(db, team):
    people, tickets = team
    with db.transaction() as session:
        service.add_note(session, who(session, people, "lea"), tickets["lilas"], "Rappeler jeudi", NOW)
    with db.transaction() as session:
        assert session.scalars(select(TicketNote.body)).all() == ["Rappeler jeudi"]
        assert session.scalars(select(OutboxItem)).all() == []


def test_closing_needs_a_known_outcome_and_theme_and_says_where_a_resident_was_referred(db, team):
    people, tickets = team
    with db.transaction() as session:
        lea = who(session, people, "lea")
        for closing, code in [
            (Closing("fini", "email"), "bad_outcome"),
            (Closing("resolu", "caf"), "bad_theme"),
            (Closing("resolu", "email", subtheme="logement"), "bad_subtheme"),
            (Closing("oriente", "aide_aux_demarches_administratives", "social_sante"), "referral_missing"),
        ]:
            with pytest.raises(TicketError, match=code):
                service.close(session, lea, tickets["lilas"], closing, NOW)
        service.close(session, lea, tickets["lilas"],
                      Closing("oriente", "aide_aux_demarches_administratives", "social_sante", "CCAS de Lille"),
                      NOW, reminders=ReminderSettings())
    with db.transaction() as session:
        ticket = session.get(Ticket, tickets["lilas"])
        assert (ticket.status, ticket.outcome, ticket.outcome_detail, ticket.theme, ticket.subtheme) == (
            "closed", "oriente", "CCAS de Lille", "aide_aux_demarches_administratives", "social_sante")
        assert ticket.assignee_id == people["lea"] and ticket.closed_at == NOW
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket_closed")).one()
        assert entry.mediator_id == people["lea"]
        followup = session.scalars(select(Reminder)).one()  # "Avez-vous pu finir votre demarche ?"
        assert followup.ticket_id == ticket.id and followup.payload["reason"] == "ticket_closed"
        with pytest.raises(TicketError, match="closed"):
            service.reply(session, who(session, people, "lea"), ticket.id, "encore", NOW)


def test_a_colleague_cannot_close_a_ticket_someone_else_holds(db, team):
    people, tickets = team
    with db.transaction() as session:
        service.claim(session, who(session, people, "lea"), tickets["lilas"], NOW)
        with pytest.raises(TicketError, match="not_yours"):
            service.close(session, who(session, people, "sam"), tickets["lilas"], Closing("resolu", "email"), NOW)
