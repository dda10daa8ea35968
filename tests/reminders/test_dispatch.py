"""Due reminders become outbox rows exactly once, inside the window, never after they stop being useful."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.db import connect
from bot.db.models import OutboxItem, Reminder, Resident
from bot.reminders.dispatch import dispatch_due_reminders
from bot.reminders.schedule import due_time
from bot.runtime import Runtime
from bot.workshops.service import enrol
from tests.workshops.helpers import add_resident, add_workshop, paris

BOOKED = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def at(runtime: Runtime, moment: datetime) -> Runtime:
    runtime.clock = lambda: moment
    return runtime


def _book(runtime: Runtime, starts_at: datetime, residents: int = 1, capacity: int = 6) -> list[int]:
    with runtime.db.transaction() as session:
        workshop = add_workshop(session, runtime, starts_at, capacity=capacity)
        return [enrol(session, add_resident(session, n), workshop.id, BOOKED).enrolment.id
                for n in range(residents)]


def _reminders(runtime: Runtime) -> list[Reminder]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.due_at)))


def _outbox(runtime: Runtime) -> list[OutboxItem]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_dst_autumn_reminders_at_paris_wall_clock():
    # Clocks go back on Sunday 25 October 2026 at 03:00 CEST.
    monday = paris(2026, 10, 26, 14)
    assert due_time("day_before@18:00", monday) == datetime(2026, 10, 25, 17, 0, tzinfo=UTC)  # CET
    on_the_sunday = paris(2026, 10, 25, 14)
    assert due_time("day_before@18:00", on_the_sunday) == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)  # CEST
    assert due_time("-2h", on_the_sunday) == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)  # 12:00 CET


def test_dst_spring_reminders_at_paris_wall_clock():
    # Clocks go forward on Sunday 28 March 2027 at 02:00 CET.
    monday = paris(2027, 3, 29, 14)
    assert due_time("day_before@18:00", monday) == datetime(2027, 3, 28, 16, 0, tzinfo=UTC)  # CEST
    assert due_time("-2h", monday) == datetime(2027, 3, 29, 10, 0, tzinfo=UTC)
    saturday = paris(2027, 3, 27, 10)
    assert due_time("day_before@18:00", saturday) == datetime(2027, 3, 26, 17, 0, tzinfo=UTC)  # CET


def test_a_due_reminder_goes_to_the_outbox_once(runtime):
    _book(runtime, paris(2026, 12, 1, 14))  # a Tuesday
    at(runtime, paris(2026, 11, 30, 18, 0, ))
    report = dispatch_due_reminders(runtime)
    assert len(report.sent) == 1
    assert dispatch_due_reminders(runtime).handled == 0
    [item] = _outbox(runtime)
    assert item.kind == "notification"
    assert item.body == ("Rappel : atelier Envoyer un mail demain à 14 h, Maison de quartier Saint-Éloi. "
                         "Repondez OUI si vous venez, NON si vous ne pouvez pas.")
    first = _reminders(runtime)[0]
    assert (first.state, first.outbox_id) == ("sent", item.id)


def test_a_reminder_due_on_sunday_waits_for_monday_and_says_today(runtime):
    _book(runtime, paris(2026, 10, 26, 14))  # Monday after the autumn change: day-before is a Sunday
    at(runtime, paris(2026, 10, 25, 18))
    report = dispatch_due_reminders(runtime)
    assert len(report.deferred) == 1 and _outbox(runtime) == []
    assert _reminders(runtime)[0].due_at == paris(2026, 10, 26, 8)
    at(runtime, paris(2026, 10, 26, 8))
    assert len(dispatch_due_reminders(runtime).sent) == 1
    assert _outbox(runtime)[0].body.startswith("Rappel : atelier Envoyer un mail aujourd'hui à 14 h,")


def test_a_reminder_only_sendable_after_the_start_is_skipped(runtime):
    # Workshop on Monday at 08:00: the day-before one (Sunday 18:00) and the "-2h" one (06:00) could
    # only go out when the window opens, at 08:00, when it starts: both skipped, never sent.
    _book(runtime, paris(2026, 11, 30, 8))
    at(runtime, paris(2026, 11, 29, 18))
    assert len(dispatch_due_reminders(runtime).skipped) == 1
    at(runtime, paris(2026, 11, 30, 6))
    assert len(dispatch_due_reminders(runtime).skipped) == 1
    assert _outbox(runtime) == [] and {r.state for r in _reminders(runtime)} == {"skipped"}
    assert _reminders(runtime)[0].note == "window closed until after it stopped being useful"


def test_a_reminder_deferred_by_the_night_still_goes_before_the_start(runtime):
    _book(runtime, paris(2026, 11, 30, 9))  # Monday 9:00: "-2h" is 7:00, window opens at 8:00
    at(runtime, paris(2026, 11, 30, 7))
    report = dispatch_due_reminders(runtime)
    assert len(report.deferred) == 1 and len(report.skipped) == 1  # one reminder, not two at once
    at(runtime, paris(2026, 11, 30, 8))
    assert len(dispatch_due_reminders(runtime).sent) == 1
    assert _outbox(runtime)[0].body.startswith("Rappel : atelier Envoyer un mail aujourd'hui à 9 h,")


def test_after_downtime_a_useful_reminder_goes_late_once_and_a_stale_one_is_skipped(runtime):
    _book(runtime, paris(2026, 12, 1, 14))
    at(runtime, paris(2026, 12, 1, 11))  # server was down since before Monday 18:00
    report = dispatch_due_reminders(runtime)
    assert len(report.sent) == 1 and not report.skipped  # the day-before one, late but useful
    assert _reminders(runtime)[0].note == "sent late after downtime"
    assert _outbox(runtime)[0].body.startswith("Rappel : atelier Envoyer un mail aujourd'hui à 14 h,")
    at(runtime, paris(2026, 12, 1, 14, 30))  # down again past the start: "-2h" is no longer useful
    report = dispatch_due_reminders(runtime)
    assert len(report.skipped) == 1 and len(_outbox(runtime)) == 1


def test_cancelled_enrolment_or_opted_out_resident_gets_nothing(runtime):
    _book(runtime, paris(2026, 12, 1, 14), residents=2)
    with runtime.db.transaction() as session:
        session.scalars(select(Resident)).first().opted_out = True
    at(runtime, paris(2026, 11, 30, 18))
    report = dispatch_due_reminders(runtime)
    assert len(report.cancelled) == 1 and len(report.sent) == 1


def test_pending_reminders_survive_a_restart(runtime, database_url):
    _book(runtime, paris(2026, 12, 1, 14), residents=3)
    runtime.db.dispose()
    fresh = connect(database_url)  # a new process would do exactly this
    try:
        restarted = Runtime(settings=runtime.settings, db=fresh, parser=runtime.parser, library=runtime.library,
                            texts=runtime.texts, clock=lambda: paris(2026, 11, 30, 18))
        assert len(dispatch_due_reminders(restarted).sent) == 3
    finally:
        fresh.dispose()


def _race(runtime: Runtime, database_url: str, moment: datetime) -> list[int]:
    """Two dispatchers, each with its own connection pool, started together on the same due rows."""
    databases = [connect(database_url) for _ in range(2)]
    runtimes = [Runtime(settings=runtime.settings, db=db, parser=runtime.parser, library=runtime.library,
                        texts=runtime.texts, clock=lambda: moment) for db in databases]
    sent: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def work(index: int) -> None:
        start.wait()
        while True:
            report = dispatch_due_reminders(runtimes[index], limit=10)
            sent[index] += report.sent
            if report.handled == 0:
                break

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for db in databases:
        db.dispose()
    return sent[0] + sent[1]


def test_two_concurrent_dispatchers_send_each_reminder_exactly_once(runtime, database_url):
    _book(runtime, paris(2026, 12, 1, 14), residents=120, capacity=200)
    first = _race(runtime, database_url, paris(2026, 11, 30, 18))
    second = _race(runtime, database_url, paris(2026, 12, 1, 12))
    assert len(first) == len(second) == 120
    assert len(set(first + second)) == 240
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 240
        assert session.scalar(select(func.count(func.distinct(Reminder.outbox_id)))) == 240
        assert session.scalar(select(func.count()).select_from(Reminder).where(Reminder.state != "sent")) == 0


def test_outbox_holds_notifications_outside_the_window_but_not_replies(runtime):
    from bot.outbox.dispatcher import dispatch_due
    from bot.outbox.queue import enqueue

    with runtime.db.transaction() as session:
        resident = add_resident(session, 1)
        quiet = add_resident(session, 2)
        quiet.opted_out = True
        enqueue(session, resident, "reponse", provider="simulator", kind="reply", now=paris(2026, 12, 25, 22))
        enqueue(session, resident, "rappel", provider="simulator", kind="notification", now=paris(2026, 12, 25, 22))
        enqueue(session, quiet, "rappel", provider="simulator", kind="notification", now=paris(2026, 12, 25, 22))
    at(runtime, paris(2026, 12, 25, 22))  # Christmas night
    report = dispatch_due(runtime)
    assert len(report.sent) == 1
    items = {(i.body, i.resident_id): i for i in _outbox(runtime)}
    reply, held, cancelled = sorted(items.values(), key=lambda i: i.id)
    assert (reply.status, held.status, cancelled.status) == ("sent", "pending", "cancelled")
    assert held.next_attempt_at == paris(2026, 12, 26, 8)
    at(runtime, paris(2026, 12, 26, 8) + timedelta(seconds=1))
    assert dispatch_due(runtime).sent == [held.id]


def test_draining_goes_by_short_batches_and_rests_between_them_on_sqlite(runtime):
    """On SQLite each batch holds the write lock the outbox needs: batches of SQLITE_BATCH at most, and a
    rest at least as long as the batch took; every due reminder is still handled, once, with its provider."""
    from bot.db.models import Message
    from bot.reminders.dispatch import PAUSE_BETWEEN_BATCHES, SQLITE_BATCH, drain_due_reminders

    _book(runtime, paris(2026, 10, 7, 14), residents=18, capacity=18)
    with runtime.db.transaction() as session:  # one resident wrote through Twilio: the reminder goes back that way
        resident = session.scalars(select(Resident).order_by(Resident.id)).first()
        session.add(Message(resident_id=resident.id, direction="in", channel="sms", provider="twilio",
                            provider_message_id="SMin1", body="1", created_at=BOOKED))
    at(runtime, paris(2026, 10, 7, 13))  # both reminders of the 18 residents due: the later one goes
    rests: list[float] = []
    handled = drain_due_reminders(runtime, sleep=rests.append)
    assert handled == 36
    outbox = _outbox(runtime)
    assert len(outbox) == 18 and sorted(r.state for r in _reminders(runtime)) == ["sent"] * 18 + ["skipped"] * 18
    assert [o.provider for o in outbox].count("twilio") == 1
    if runtime.db.is_postgresql:
        assert rests == []  # one batch of batch_size (200)
    else:
        assert len(rests) == 36 // SQLITE_BATCH and all(r >= PAUSE_BETWEEN_BATCHES for r in rests)


def test_with_a_pace_the_outbox_holds_about_ten_seconds_of_notifications_the_rest_wait_as_rows(runtime):
    from sqlalchemy import update

    from bot.reminders.dispatch import drain_due_reminders

    reminders = runtime.settings.reminders.model_copy(update={"rate_per_second": 1.0, "batch_size": 4})
    runtime.settings = runtime.settings.model_copy(update={"reminders": reminders})
    _book(runtime, paris(2026, 10, 7, 14), residents=18, capacity=18)
    at(runtime, paris(2026, 10, 6, 18, 30))  # the day-before reminders are due, not the 2-hours ones
    assert drain_due_reminders(runtime, sleep=lambda _s: None) == 12  # 3 batches of 4: 12 >= 10 s at 1/s
    assert len(_outbox(runtime)) == 12
    with runtime.db.transaction() as session:  # the outbox sends them
        session.execute(update(OutboxItem).values(status="sent"))
    assert drain_due_reminders(runtime, sleep=lambda _s: None) == 6
    assert [r.state for r in _reminders(runtime)].count("sent") == 18
