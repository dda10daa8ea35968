"""The mediators' daily digest, with a fake clock: what it counts, when it is built (once, working days,
after the configured time, leader only), where it goes (console home, the team's Telegram chat)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Digest, Enrolment, OutboxItem, Resident, Structure, Ticket, Workshop
from bot.digest.build import build_digest, digest_lines
from bot.digest.job import run_daily_digest
from bot.scheduler.jobs import _daily_digest
from bot.workshops.dates import PARIS
from tests.console.conftest import Team, app, client, log_in, team  # noqa: F401 - fixtures
from tests.tickets.test_notify import TOKEN, bot_api  # noqa: F401 - fixture

WEDNESDAY = datetime(2026, 12, 2, tzinfo=PARIS)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute).astimezone(UTC)


def yesterday(hour: int) -> datetime:
    return at(WEDNESDAY - timedelta(days=1), hour)


def _resident(session, structure_id: int, n: int) -> Resident:
    resident = Resident(channel="sms", address=f"+336200000{n:02d}", structure_id=structure_id)
    session.add(resident)
    session.flush()
    return resident


def _ticket(session, structure_id: int, n: int, opened: datetime, *, service=None, closed=None, theme=None):
    resident = _resident(session, structure_id, n)
    session.add(Ticket(resident_id=resident.id, structure_id=structure_id, reason="asked", service=service,
                       status="closed" if closed else "open", opened_at=opened, waiting_since=opened,
                       closed_at=closed, theme=theme))
    return resident


def _workshop(session, structure_id: int, starts: datetime, capacity: int, confirmed: int, waiting: int = 0,
              status: str = "scheduled", title: str = "Envoyer un mail") -> None:
    workshop = Workshop(structure_id=structure_id, title=title, place_name="Centre", starts_at=starts,
                        ends_at=starts + timedelta(hours=2), capacity=capacity, status=status)
    session.add(workshop)
    session.flush()
    for n in range(confirmed + waiting):
        resident = _resident(session, structure_id, 50 + workshop.id * 10 + n)
        session.add(Enrolment(workshop_id=workshop.id, resident_id=resident.id,
                              status="confirmed" if n < confirmed else "waiting"))


def _outbox(session, resident: Resident, status: str, created: datetime) -> None:
    session.add(OutboxItem(resident_id=resident.id, channel="sms", provider="twilio", address=resident.address,
                           body="Rappel", kind="notification", status=status, created_at=created))


@pytest.fixture
def week(db, team: Team):  # noqa: F811
    """Lilas's tickets, workshops and failed sends around Wednesday 2 December 2026; one ticket at Eloi."""
    with db.transaction() as session:
        _ticket(session, team.lilas, 1, yesterday(9), service="caf")  # still waiting since yesterday 09:00
        _ticket(session, team.lilas, 2, at(WEDNESDAY, 7), service="ameli")  # today: not in "yesterday"
        r3 = _ticket(session, team.lilas, 3, yesterday(10), service="caf", closed=yesterday(15),
                     theme="navigation_sur_internet")
        _ticket(session, team.lilas, 4, yesterday(11) - timedelta(days=1), closed=yesterday(12),
                theme="diagnostic_numerique")  # opened Monday, closed yesterday
        _ticket(session, team.eloi, 5, yesterday(9), service="caf")  # another structure
        _workshop(session, team.lilas, at(WEDNESDAY, 14), capacity=4, confirmed=2)
        _workshop(session, team.lilas, at(WEDNESDAY + timedelta(days=1), 10, 30), capacity=1, confirmed=1,
                  waiting=1, title="La CAF en ligne")
        _workshop(session, team.lilas, at(WEDNESDAY + timedelta(days=3), 10), capacity=4, confirmed=1)
        _workshop(session, team.lilas, at(WEDNESDAY, 16), capacity=4, confirmed=0, status="cancelled")
        _outbox(session, r3, "dead", yesterday(16) - timedelta(days=5))
        _outbox(session, r3, "failed", yesterday(17))
        _outbox(session, r3, "failed", yesterday(17) - timedelta(days=1))  # before the period
        _outbox(session, r3, "sent", yesterday(17))
    return team


def test_the_digest_counts_what_waits_what_happened_yesterday_and_the_workshops(db, week, runtime):
    settings = runtime.settings.digest
    with db.transaction() as session:
        digest = build_digest(session, session.get(Structure, week.lilas), WEDNESDAY.date(), settings,
                              runtime.texts.service_label)
    assert (digest.waiting, digest.oldest_waiting_since) == (2, yesterday(9).isoformat())
    assert (digest.opened, [(c.label, c.count) for c in digest.opened_by_service]) == (2, [("CAF", 2)])
    assert digest.closed == 2
    assert {(c.label, c.count) for c in digest.closed_by_theme} == {("Navigation sur internet", 1),
                                                                    ("Diagnostic numérique", 1)}
    assert [(w.title, w.today, w.seats, w.capacity, w.waiting) for w in digest.workshops] == [
        ("Envoyer un mail", True, 2, 4, 0), ("La CAF en ligne", False, 1, 1, 1)]
    assert (digest.dead_letters, digest.failed_sends) == (1, 1)

    title, lines = digest_lines(digest, at(WEDNESDAY, 8, 30), settings)
    assert title == "Résumé du mercredi 2 décembre – Centre lilas"
    assert lines == [
        "En attente : 2 ticket(s), le plus ancien depuis 23 h 30.",
        "Ouverts hier : 2 (CAF 2)",
        "Fermés hier : 2 (Diagnostic numérique 1, Navigation sur internet 1)",
        "Ateliers :",
        "- aujourd'hui 14 h Envoyer un mail : 2/4 places",
        "- demain 10 h 30 La CAF en ligne : 1/1 places, 1 en attente",
        "Envois en échec : 1 à revoir dans la console, 1 refusé(s) par l'opérateur hier.",
    ]


def test_built_once_per_structure_on_working_days_from_the_configured_time(db, week, runtime):
    runtime.clock = lambda: at(WEDNESDAY, 8, 29)
    assert run_daily_digest(runtime) == []
    runtime.clock = lambda: at(WEDNESDAY, 8, 30)
    built = run_daily_digest(runtime)
    assert sorted(b.structure_slug for b in built) == ["eloi", "lilas"]
    runtime.clock = lambda: at(WEDNESDAY, 15)  # later the same day, or after a restart: not again
    assert run_daily_digest(runtime) == []
    for day in (datetime(2026, 12, 5, tzinfo=PARIS), datetime(2026, 12, 25, tzinfo=PARIS)):  # Saturday, Christmas
        runtime.clock = lambda day=day: at(day, 9)
        assert run_daily_digest(runtime) == []
    with db.transaction() as session:
        rows = session.scalars(select(Digest)).all()
        assert [(r.day.isoformat(), r.telegram_status) for r in rows] == [("2026-12-02", "none")] * 2


def test_a_monday_digest_covers_the_weekend(db, week, runtime):
    monday = datetime(2026, 12, 7, tzinfo=PARIS)
    with db.transaction() as session:
        _ticket(session, week.lilas, 30, at(datetime(2026, 12, 5, tzinfo=PARIS), 11), service="caf")  # Saturday
    runtime.clock = lambda: at(monday, 9)
    built = {b.structure_slug: b.digest for b in run_daily_digest(runtime)}
    _title, lines = digest_lines(built["lilas"], at(monday, 9), runtime.settings.digest)
    assert "Ouverts depuis vendredi : 1 (CAF 1)" in lines


def test_the_configured_time_and_days_apply(db, week, runtime):
    runtime.settings = runtime.settings.model_copy(update={"digest": runtime.settings.digest.model_copy(
        update={"time": "07:00", "days": [0, 1, 2, 3, 4, 5]})})
    runtime.clock = lambda: at(datetime(2026, 12, 5, tzinfo=PARIS), 7, 5)  # a Saturday, now a digest day
    assert len(run_daily_digest(runtime)) == 2


def test_only_the_leading_process_builds_it(db, week, runtime):
    class Follower:
        def try_lead(self) -> bool:
            return False

    runtime.clock = lambda: at(WEDNESDAY, 9)
    _daily_digest(runtime, Follower())
    with db.transaction() as session:
        assert session.scalars(select(Digest)).all() == []


def _with_telegram(runtime, base_url: str, chats: dict[str, str], team_chat: str | None) -> None:
    settings = runtime.settings
    runtime.settings = settings.model_copy(update={
        "telegram": settings.telegram.model_copy(update={"bot_token": TOKEN, "api_base_url": base_url}),
        "tickets": settings.tickets.model_copy(update={"notify_telegram_chat_id": team_chat}),
        "digest": settings.digest.model_copy(update={"telegram_chat_ids": chats}),
        "public_url": "https://relais.example.org",
    })


def test_sent_to_each_structures_team_chat_without_residents_details(db, week, runtime, bot_api):  # noqa: F811
    base_url, sent = bot_api
    _with_telegram(runtime, base_url, {"lilas": "-100111"}, team_chat="-100999")
    runtime.clock = lambda: at(WEDNESDAY, 8, 31)
    run_daily_digest(runtime)
    by_chat = {str(m["chat_id"]): m["text"] for m in sent}
    assert set(by_chat) == {"-100111", "-100999"}  # Lilas to its chat, Eloi to the team chat
    lilas = by_chat["-100111"]
    assert lilas.startswith("Résumé du mercredi 2 décembre – Centre lilas\n")
    assert "- demain 10 h 30 La CAF en ligne : 1/1 places, 1 en attente" in lilas
    assert lilas.endswith("https://relais.example.org/console")
    assert "+336" not in lilas and "Rappel" not in lilas
    assert "En attente : 1 ticket(s)" in by_chat["-100999"]
    run_daily_digest(runtime)
    assert len(sent) == 2  # once
    with db.transaction() as session:
        assert {r.telegram_status for r in session.scalars(select(Digest))} == {"sent"}


def test_a_telegram_failure_is_recorded_and_the_digest_kept_for_the_console(db, week, runtime):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    _with_telegram(runtime, closed, {}, team_chat="-100999")
    runtime.clock = lambda: at(WEDNESDAY, 8, 31)
    assert len(run_daily_digest(runtime)) == 2
    with db.transaction() as session:
        assert {r.telegram_status for r in session.scalars(select(Digest))} == {"failed"}


def test_the_console_home_shows_the_structures_digest(db, week, runtime, client):  # noqa: F811
    runtime.clock = lambda: at(WEDNESDAY, 8, 31)
    run_daily_digest(runtime)
    log_in(client, "lea@lilas.fr")
    page = client.get("/console").text
    assert "Résumé du mercredi 2 décembre – Centre lilas" in page
    assert "Centre eloi" not in page
    assert "Ouverts hier : 2 (CAF 2)" in page
    assert "Résumé" not in client.get("/console?state=closed").text
