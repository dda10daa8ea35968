"""The console's workshop pages: create and edit with clear errors, cancel (residents told by SMS),
attendance feeding the follow-ups, the iCalendar link — and only for the mediator's structures."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.db.models import AuditEntry, Enrolment, OutboxItem, Reminder, Resident, Structure, Workshop
from bot.outbox.dispatcher import dispatch_due
from bot.sms.gsm7 import count_segments
from bot.workshops.dates import PARIS
from bot.workshops.service import create_workshop, enrol
from tests.console.conftest import log_in

# Wednesday 2 December 2026, 10:00 in Paris: a working day, the sending window open.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS).astimezone(UTC)


@pytest.fixture(autouse=True)
def _fixed_clock(runtime):
    runtime.clock = lambda: NOW


def form(csrf: str, **changes: str) -> dict[str, str]:
    values = {"csrf_token": csrf, "title": "Envoyer un mail", "description": "Pour débuter",
              "place_name": "Maison de quartier Saint-Éloi", "place_address": "3 rue des Lilas", "day": "2026-12-08",
              "start": "14:00", "end": "16:00", "capacity": "6", "level": "debutant", "theme": ""}
    values.update(changes)
    return values


def workshop_in(db, structure_id: int, *, capacity: int = 2, starts_in: timedelta = timedelta(days=6)) -> int:
    with db.transaction() as session:
        return create_workshop(session, structure_id=structure_id, title="La CAF en ligne", place_name="Centre",
                               starts_at=NOW + starts_in, ends_at=NOW + starts_in + timedelta(hours=2),
                               capacity=capacity).id


def enrol_residents(db, workshop_id: int, count: int, *, enrolled_at: datetime = NOW) -> list[int]:
    with db.transaction() as session:
        ids = []
        for n in range(count):
            resident = Resident(channel="sms", address=f"+3361000{n:04d}")
            session.add(resident)
            session.flush()
            ids.append(enrol(session, resident, workshop_id, enrolled_at).enrolment.id)
        return ids


def sent_texts(db) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxItem.body).order_by(OutboxItem.id)))


def test_a_mediator_creates_a_workshop_in_paris_time_and_sees_it_listed(client, team, db):
    csrf = log_in(client, "lea@lilas.fr")
    page = client.get("/console/workshops/new")
    assert page.status_code == 200 and "Nouvel atelier" in page.text
    response = client.post("/console/workshops", data=form(csrf, structure_id=str(team.lilas), theme="email"),
                           follow_redirects=False)
    assert response.status_code == 303
    with db.transaction() as session:
        workshop = session.scalars(select(Workshop)).one()
        # 14:00 in Paris in December is 13:00 UTC.
        assert workshop.starts_at == datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
        assert (workshop.structure_id, workshop.capacity, workshop.theme) == (team.lilas, 6, "email")
        assert workshop.place_address == "3 rue des Lilas"
        assert session.scalars(select(AuditEntry.action)).all()[-1] == "workshop_created"
    assert response.headers["location"].startswith(f"/console/workshops/{workshop.id}?")
    detail = client.get(response.headers["location"]).text
    assert "Atelier créé" in detail and "08/12/2026 14:00" in detail
    listing = client.get("/console/workshops").text
    assert f'data-workshop-id="{workshop.id}"' in listing and "0 / 6" in listing


@pytest.mark.parametrize(("changes", "expected"), [
    ({"title": "  "}, "Indiquez un titre."),
    ({"place_name": ""}, "Indiquez le lieu."),
    ({"end": "13:00"}, "La fin doit être après le début."),
    ({"day": "2026-11-30"}, "Cette date est passée."),
    ({"day": "demain"}, "Indiquez une date"),
    ({"capacity": "0"}, "Nombre de places : entre 1 et 30."),
    ({"level": "expert"}, "Choisissez le niveau."),
    ({"title": "Faire toutes ses demarches administratives en ligne sans stress, pas a pas"},
     "Titre et lieu trop longs pour tenir dans un SMS"),
])
def test_a_wrong_form_says_what_to_fix_and_keeps_what_was_typed(client, team, db, changes, expected):
    csrf = log_in(client, "lea@lilas.fr")
    response = client.post("/console/workshops", data=form(csrf, structure_id=str(team.lilas), **changes))
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert expected in page and "Le formulaire contient des erreurs" in page
    assert 'value="3 rue des Lilas"' in page  # the rest of the form is kept
    with db.transaction() as session:
        assert session.scalars(select(Workshop)).all() == []


def test_the_sms_length_check_is_the_one_residents_get(client, team, db):
    """A title accepted by the form gives one-segment SMS; the one refused above would not."""
    from bot.workshops.texts import overflowing_texts

    start = datetime(2026, 12, 8, 14, tzinfo=PARIS)
    assert overflowing_texts("Envoyer un mail", "Maison de quartier Saint-Éloi", start) == []
    long_title = "Faire toutes ses demarches administratives en ligne sans stress, pas a pas"
    assert "enrolled" in overflowing_texts(long_title, "Maison de quartier Saint-Éloi", start)


def test_workshops_of_another_structure_are_out_of_reach(client, team, db):
    theirs = workshop_in(db, team.eloi)
    csrf = log_in(client, "lea@lilas.fr")
    assert f'data-workshop-id="{theirs}"' not in client.get("/console/workshops").text
    assert client.get(f"/console/workshops/{theirs}").status_code == 404
    assert client.post(f"/console/workshops/{theirs}/cancel", data={"csrf_token": csrf, "confirm": "1"}).status_code \
        == 404
    assert client.post(f"/console/workshops/{theirs}", data=form(csrf, title="Pris")).status_code == 404
    assert client.get(f"/console/workshops/ateliers.ics?structure={team.eloi}").status_code == 404
    refused = client.post("/console/workshops", data=form(csrf, structure_id=str(team.eloi)))
    assert refused.status_code == 422 and "Choisissez une de vos structures." in html.unescape(refused.text)
    with db.transaction() as session:
        workshop = session.get(Workshop, theirs)
        assert (workshop.status, workshop.title) == ("scheduled", "La CAF en ligne")
        assert session.scalar(select(Workshop.id).where(Workshop.structure_id == team.lilas)) is None


def test_forms_without_the_csrf_token_are_refused(client, team, db):
    mine = workshop_in(db, team.lilas)
    log_in(client, "lea@lilas.fr")
    assert client.post("/console/workshops", data=form("wrong", structure_id=str(team.lilas))).status_code == 403
    assert client.post(f"/console/workshops/{mine}/cancel", data={"confirm": "1"}).status_code == 403
    with db.transaction() as session:
        assert session.get(Workshop, mine).status == "scheduled"
        assert len(session.scalars(select(Workshop)).all()) == 1


def test_cancelling_tells_seated_and_waiting_residents_by_sms_within_the_sending_rules(client, team, db, runtime):
    mine = workshop_in(db, team.lilas, capacity=2)
    _seated_a, seated_b, _waiting = enrol_residents(db, mine, 3)
    with db.transaction() as session:
        session.get(Resident, session.get(Enrolment, seated_b).resident_id).opted_out = True
    csrf = log_in(client, "lea@lilas.fr")
    unconfirmed = client.post(f"/console/workshops/{mine}/cancel", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Cochez la case" in html.unescape(unconfirmed.text)
    assert sent_texts(db) == []
    # 21:00: outside the sending window. The SMS waits for 08:00 the next morning, it is not dropped.
    evening = datetime(2026, 12, 2, 21, 0, tzinfo=PARIS).astimezone(UTC)
    runtime.clock = lambda: evening
    done = client.post(f"/console/workshops/{mine}/cancel", data={"csrf_token": csrf, "confirm": "1"},
                       follow_redirects=True)
    assert "Atelier annulé" in html.unescape(done.text)
    texts = sent_texts(db)
    assert len(texts) == 2  # the opted-out resident is not texted
    assert all("l'atelier La CAF en ligne du mardi 8 décembre à 10 h est annule" in t for t in texts), texts
    assert all(count_segments(t).segments == 1 for t in texts)
    with db.transaction() as session:
        assert session.get(Workshop, mine).status == "cancelled"
        assert {e.status for e in session.scalars(select(Enrolment))} == {"cancelled"}
        assert {r.state for r in session.scalars(select(Reminder))} == {"cancelled"}
        assert {o.kind for o in session.scalars(select(OutboxItem))} == {"notification"}
        assert "workshop_cancelled" in session.scalars(select(AuditEntry.action)).all()
    assert dispatch_due(runtime).sent == []
    with db.transaction() as session:
        morning = datetime(2026, 12, 3, 8, 0, tzinfo=PARIS).astimezone(UTC)
        assert {(o.status, o.next_attempt_at) for o in session.scalars(select(OutboxItem))} == {("pending", morning)}


def test_moving_a_workshop_tells_residents_and_moves_their_reminders(client, team, db, runtime):
    mine = workshop_in(db, team.lilas, capacity=1)
    _seated, waiting = enrol_residents(db, mine, 2)
    csrf = log_in(client, "lea@lilas.fr")
    with db.transaction() as session:
        before = sorted(r.due_at for r in session.scalars(select(Reminder).where(Reminder.state == "pending")))
    response = client.post(f"/console/workshops/{mine}",
                           data=form(csrf, title="La CAF en ligne", place_name="Centre", day="2026-12-09",
                                     start="15:00", end="17:00", capacity="2"), follow_redirects=True)
    assert "Les inscrits sont prévenus par SMS" in html.unescape(response.text)
    with db.transaction() as session:
        workshop = session.get(Workshop, mine)
        assert workshop.starts_at == datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
        assert session.get(Enrolment, waiting).status == "confirmed"  # the added seat went to the waiting list
        due = sorted(r.due_at for r in session.scalars(select(Reminder).where(Reminder.state == "pending")))
    # Day before at 18:00 Paris and 2 hours before the NEW start, for both residents now seated.
    assert due == sorted([datetime(2026, 12, 8, 17, 0, tzinfo=UTC), datetime(2026, 12, 9, 12, 0, tzinfo=UTC)] * 2)
    assert due != before
    texts = sent_texts(db)
    assert sum("Changement : atelier La CAF en ligne le mercredi 9 décembre à 15 h, Centre" in t for t in texts) == 2
    assert any("Une place s'est liberee" in t for t in texts)
    assert all(count_segments(t).segments == 1 for t in texts)


def test_capacity_cannot_drop_below_the_seats_taken(client, team, db):
    mine = workshop_in(db, team.lilas, capacity=3)
    enrol_residents(db, mine, 3)
    csrf = log_in(client, "lea@lilas.fr")
    response = client.post(f"/console/workshops/{mine}", data=form(csrf, title="La CAF en ligne", capacity="2"))
    assert response.status_code == 422
    assert "3 personnes sont déjà inscrites" in html.unescape(response.text)
    with db.transaction() as session:
        assert (session.get(Workshop, mine).capacity, session.get(Workshop, mine).title) == (3, "La CAF en ligne")


def test_attendance_after_the_start_schedules_the_follow_ups(client, team, db, runtime):
    mine = workshop_in(db, team.lilas, capacity=2, starts_in=timedelta(hours=1))
    came, missed = enrol_residents(db, mine, 2, enrolled_at=NOW - timedelta(days=3))
    csrf = log_in(client, "lea@lilas.fr")
    early = client.post(f"/console/workshops/{mine}/attendance",
                        data={"csrf_token": csrf, f"e{came}": "present"}, follow_redirects=True)
    assert "une fois l'atelier commencé" in html.unescape(early.text)
    runtime.clock = lambda: NOW + timedelta(hours=2)
    page = client.get(f"/console/workshops/{mine}").text
    assert f'name="e{came}" value="present"' in page and "Enregistrer les présences" in page
    saved = client.post(f"/console/workshops/{mine}/attendance",
                        data={"csrf_token": csrf, f"e{came}": "present", f"e{missed}": "absent"},
                        follow_redirects=True)
    assert "Présences enregistrées" in html.unescape(saved.text)
    with db.transaction() as session:
        assert [session.get(Enrolment, i).status for i in (came, missed)] == ["attended", "no_show"]
        followups = {(r.enrolment_id, r.kind, r.state) for r in session.scalars(
            select(Reminder).where(Reminder.kind.like("followup%")))}
    assert followups == {(came, "followup_workshop", "pending"), (missed, "followup_no_show", "pending")}
    # A mistake corrected: the absent resident did come. The no-show offer is not sent.
    client.post(f"/console/workshops/{mine}/attendance", data={"csrf_token": csrf, f"e{missed}": "present"})
    with db.transaction() as session:
        followups = {(r.kind, r.state) for r in session.scalars(
            select(Reminder).where(Reminder.enrolment_id == missed, Reminder.kind.like("followup%")))}
    assert followups == {("followup_no_show", "cancelled"), ("followup_workshop", "pending")}
    runtime.clock = lambda: NOW + timedelta(hours=4)  # it has ended: listed with the past ones
    listing = client.get("/console/workshops").text
    assert "2 présents, 0 absent" in listing


def test_the_icalendar_link_exports_the_structures_workshops(client, team, db):
    workshop_in(db, team.lilas)
    workshop_in(db, team.eloi)
    log_in(client, "lea@lilas.fr")
    assert f"/console/workshops/ateliers.ics?structure={team.lilas}" in client.get("/console/workshops").text
    response = client.get(f"/console/workshops/ateliers.ics?structure={team.lilas}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["La CAF en ligne"]
    with db.transaction() as session:
        assert session.get(Structure, team.lilas).name in response.text
