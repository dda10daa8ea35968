"""Workshops by SMS through the one path (bot.inbound.receive): what residents actually receive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.db.models import Enrolment, OutboxItem, Reminder, Resident, Ticket
from bot.inbound.pipeline import receive
from bot.privacy.apply import first_contact_text
from bot.reminders.dispatch import dispatch_due_reminders
from bot.reminders.schedule import schedule_procedure_followup
from tests.workshops.helpers import add_workshop, paris

_ids = count()
ANA, BEN = "+33611111111", "+33622222222"


def say(runtime, address: str, text: str) -> list[str]:
    result = receive(runtime, InboundMessage(channel="sms", address=address, text=text,
                                             provider_id=f"m{next(_ids)}", received_at=runtime.clock()))
    with runtime.db.transaction() as session:
        bodies = [session.get(OutboxItem, i).body for i in result.outbox_ids]
    # The information SMS of a first contact is tested in tests/privacy; these tests are about workshops.
    return [body for body in bodies if body != first_contact_text(runtime.settings)]


def notifications(runtime, address: str) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(
            select(OutboxItem.body).join(Resident, Resident.id == OutboxItem.resident_id)
            .where(Resident.address == address, OutboxItem.kind == "notification").order_by(OutboxItem.id)))


def at(runtime, moment: datetime) -> None:
    runtime.clock = lambda: moment


def test_enrol_wait_cancel_and_promotion_by_sms(runtime):
    at(runtime, paris(2026, 11, 23, 10))
    with runtime.db.transaction() as session:
        add_workshop(session, runtime, paris(2026, 12, 1, 14), capacity=1)
    listing = say(runtime, ANA, "ATELIER")
    assert listing == ["Repondez le numero pour vous inscrire :\n1 Envoyer un mail, mardi 1/12 à 14 h"]
    assert say(runtime, ANA, "1") == ["C'est note ! Atelier Envoyer un mail le mardi 1 décembre à 14 h, "
                                      "Maison de quartier Saint-Éloi. Nous vous rappellerons avant."]
    say(runtime, BEN, "atelier")
    assert say(runtime, BEN, "1") == ["L'atelier Envoyer un mail du mardi 1 décembre à 14 h est complet. "
                                      "Vous etes sur la liste d'attente (numero 1)."]
    assert say(runtime, ANA, "ANNULER") == ["C'est annule pour l'atelier Envoyer un mail du mardi 1 décembre "
                                            "à 14 h. Merci de nous avoir prevenus."]
    assert notifications(runtime, BEN)[0].startswith("Une place s'est liberee : vous etes inscrit")
    with runtime.db.transaction() as session:
        statuses = {r.address: e.status for e, r in session.execute(
            select(Enrolment, Resident).join(Resident, Resident.id == Enrolment.resident_id))}
    assert statuses == {ANA: "cancelled", BEN: "confirmed"}


def test_answering_no_to_a_reminder_frees_the_seat(runtime):
    at(runtime, paris(2026, 11, 23, 10))
    with runtime.db.transaction() as session:
        add_workshop(session, runtime, paris(2026, 12, 1, 14), capacity=1)
    say(runtime, ANA, "atelier"), say(runtime, ANA, "1")
    say(runtime, BEN, "atelier"), say(runtime, BEN, "1")
    at(runtime, paris(2026, 11, 30, 18))
    assert len(dispatch_due_reminders(runtime).sent) == 1
    assert notifications(runtime, ANA)[0].startswith("Rappel : atelier Envoyer un mail demain à 14 h")
    at(runtime, paris(2026, 11, 30, 18, 5))
    assert say(runtime, ANA, "non")[0].startswith("C'est annule pour l'atelier Envoyer un mail")
    assert notifications(runtime, BEN)[0].startswith("Une place s'est liberee")


def test_answering_yes_to_a_reminder_keeps_the_seat(runtime):
    at(runtime, paris(2026, 11, 23, 10))
    with runtime.db.transaction() as session:
        add_workshop(session, runtime, paris(2026, 12, 1, 14))
    say(runtime, ANA, "atelier"), say(runtime, ANA, "1")
    at(runtime, paris(2026, 11, 30, 18))
    dispatch_due_reminders(runtime)
    at(runtime, paris(2026, 11, 30, 19))
    assert say(runtime, ANA, "OUI") == ["Merci ! A bientot a l'atelier."]
    with runtime.db.transaction() as session:
        assert session.scalars(select(Enrolment)).one().status == "confirmed"
        answered = session.scalars(select(Reminder).where(Reminder.state == "sent")).one()
        assert answered.payload["answer"] == "yes"


def test_procedure_follow_up_no_reopens_the_ticket(runtime):
    at(runtime, paris(2026, 11, 23, 10))
    say(runtime, ANA, "bonjour")
    with runtime.db.transaction() as session:
        resident = session.scalars(select(Resident)).one()
        ticket = Ticket(resident_id=resident.id, status="closed", reason="asked", opened_at=runtime.clock(),
                        closed_at=runtime.clock())
        session.add(ticket)
        session.flush()
        schedule_procedure_followup(session, resident.id, runtime.clock(), service="caf", reason="ticket_closed",
                                    ticket_id=ticket.id)
    at(runtime, paris(2026, 11, 26, 10))
    assert len(dispatch_due_reminders(runtime).sent) == 1
    assert notifications(runtime, ANA) == ["Avez-vous pu finir votre demarche CAF ? Repondez OUI ou NON."]
    at(runtime, paris(2026, 11, 26, 12))
    assert say(runtime, ANA, "non") == ["C'est note. Un conseiller va vous repondre ici, par message."]
    with runtime.db.transaction() as session:
        reopened = session.scalars(select(Ticket)).one()
        assert (reopened.status, reopened.reopened_count) == ("open", 1)


def test_stop_rappels_cancels_pending_follow_ups_but_not_workshop_reminders(runtime):
    at(runtime, paris(2026, 11, 23, 10))
    with runtime.db.transaction() as session:
        add_workshop(session, runtime, paris(2026, 12, 1, 14))
    say(runtime, ANA, "atelier"), say(runtime, ANA, "1")
    with runtime.db.transaction() as session:
        resident = session.scalars(select(Resident)).one()
        schedule_procedure_followup(session, resident.id, runtime.clock(), service=None, reason="guide_failed")
    say(runtime, ANA, "STOP RAPPELS")
    with runtime.db.transaction() as session:
        assert not session.scalars(select(Resident)).one().followups_enabled
        states = {(r.kind, r.state) for r in session.scalars(select(Reminder))}
    assert states == {("followup_procedure", "cancelled"), ("workshop_reminder", "pending")}


def test_a_follow_up_is_scheduled_when_a_guide_ends_with_no(runtime):
    at(runtime, datetime(2026, 11, 23, 10, tzinfo=UTC))
    say(runtime, ANA, "jai oublie mon code caf")
    for _ in range(6):
        if say(runtime, ANA, "suite")[-1].startswith("C'est fini"):
            break
    say(runtime, ANA, "non")
    with runtime.db.transaction() as session:
        followup = session.scalars(select(Reminder)).one()
    assert followup.kind == "followup_procedure"
    assert followup.due_at == runtime.clock() + timedelta(days=3)
