"""Enrolment, waiting list, cancellation and promotion, as a mediator and a resident see them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.db.models import Enrolment, OutboxItem, Reminder
from bot.workshops.service import cancel, enrol, mark_attendance, workshops_with_attendance
from tests.workshops.helpers import add_resident, add_workshop, paris

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def test_seats_then_waiting_list_in_order(runtime):
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, paris(2026, 12, 1, 14), capacity=2)
        residents = [add_resident(session, n) for n in range(4)]
        results = [enrol(session, resident, workshop.id, NOW) for resident in residents]
        assert [r.status for r in results] == ["confirmed", "confirmed", "waiting", "waiting"]
        assert [r.position for r in results[2:]] == [1, 2]
        assert enrol(session, residents[0], workshop.id, NOW).status == "already"
        assert enrol(session, residents[3], workshop.id, NOW).position == 2


def test_cancelling_frees_the_seat_for_the_first_waiting_who_is_told(runtime):
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, paris(2026, 12, 1, 14), capacity=1)
        first = enrol(session, add_resident(session, 1), workshop.id, NOW).enrolment
        second = enrol(session, add_resident(session, 2), workshop.id, NOW).enrolment
        third = enrol(session, add_resident(session, 3), workshop.id, NOW).enrolment
        promoted = cancel(session, first, NOW, provider="simulator")
        assert promoted is not None and promoted.id == second.id
        assert (first.status, second.status, third.status) == ("cancelled", "confirmed", "waiting")
        told = session.scalars(select(OutboxItem).where(OutboxItem.resident_id == second.resident_id)).all()
        assert len(told) == 1 and told[0].kind == "notification"
        assert told[0].body == ("Une place s'est liberee : vous etes inscrit a l'atelier Envoyer un mail le mardi 1 "
                                "décembre à 14 h, Maison de quartier Saint-Éloi.")
        # the cancelled resident's reminders are cancelled, the promoted one's are scheduled
        states = {r.enrolment_id: r.state for r in session.scalars(select(Reminder))}
        assert states[first.id] == "cancelled" and states[second.id] == "pending"
        assert third.id not in states


def test_a_waiting_resident_who_cancels_promotes_no_one(runtime):
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, paris(2026, 12, 1, 14), capacity=1)
        enrol(session, add_resident(session, 1), workshop.id, NOW)
        waiting = enrol(session, add_resident(session, 2), workshop.id, NOW).enrolment
        assert cancel(session, waiting, NOW, provider="simulator") is None
        assert session.scalars(select(OutboxItem)).all() == []


def test_two_reminders_per_confirmed_enrolment_at_paris_wall_clock(runtime):
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, paris(2026, 12, 1, 14))
        enrolment = enrol(session, add_resident(session, 1), workshop.id, NOW).enrolment
        dues = sorted(r.due_at for r in session.scalars(
            select(Reminder).where(Reminder.enrolment_id == enrolment.id)))
        assert dues == [paris(2026, 11, 30, 18), paris(2026, 12, 1, 12)]


def test_attendance_counts_and_follow_ups(runtime):
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, paris(2026, 12, 1, 14), capacity=2)
        came = enrol(session, add_resident(session, 1), workshop.id, NOW).enrolment
        missed = enrol(session, add_resident(session, 2), workshop.id, NOW).enrolment
        enrol(session, add_resident(session, 3), workshop.id, NOW)
        after = paris(2026, 12, 1, 17)
        mark_attendance(session, came.id, True, after)
        mark_attendance(session, missed.id, False, after)
        row = workshops_with_attendance(session)[0]
        assert (row.confirmed, row.waiting, row.attended, row.no_show) == (0, 1, 1, 1)
        kinds = {r.enrolment_id: r.kind for r in session.scalars(
            select(Reminder).where(Reminder.kind.like("followup%")))}
        assert kinds == {came.id: "followup_workshop", missed.id: "followup_no_show"}
        assert session.scalars(select(Enrolment).where(Enrolment.status == "attended")).one().id == came.id
