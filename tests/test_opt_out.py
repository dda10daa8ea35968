"""Opt-out: STOP stops everything that is not a direct reply, at once and for good, until START.

The property test plays random schedules: residents who write, enrol in workshops, get promoted from
waiting lists, are told of moved or cancelled workshops, are owed reminders and follow-ups, say STOP,
START, or are reported unsubscribed by Twilio (error 21610, at send time or in a status callback),
while the clock runs and the dispatcher and reminders jobs run. Whatever the schedule, nothing but a
direct reply is ever handed to a sender for a resident who is opted out at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.channels.base import InboundMessage, OutgoingMessage, SendResult
from bot.db.models import Base, Enrolment, OutboxItem, Resident, Workshop
from bot.inbound.pipeline import receive
from bot.outbox.dispatcher import apply_permanent_failure, dispatch_due
from bot.reminders.dispatch import dispatch_due_reminders
from bot.reminders.schedule import schedule_procedure_followup
from bot.sms.gsm7 import prepare
from bot.workshops import service as workshops
from tests.workshops.helpers import add_workshop

START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # a Monday morning
STOP_WORDS = ["STOP", "stop", " Stop ", "ARRET", "arret", "ARRÊT", "Arrêt", "  arrêt  ", "STOP SMS", "stop sms",
              "DESABONNER", "désabonner", "Désabonner ", "DÉSABONNER"]
RESIDENT_WORDS = ["bonjour", "jai oublie mon code caf", "suite", "AIDE", "MENU", "1", "OUI", "NON", "merci",
                  "MES DONNEES"]


class RecordingSender:
    """A simulator sender that remembers every send, checks opt-out at that moment, and can answer 21610."""

    provider = "simulator"

    def __init__(self, runtime) -> None:  # type: ignore[no-untyped-def]
        self.runtime = runtime
        self.sent: list[tuple[OutgoingMessage, str, bool]] = []  # message, outbox kind, opted out when sent
        self.unsubscribed: set[str] = set()  # addresses Twilio would refuse with 21610

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.runtime.db.transaction() as session:
            item = session.get(OutboxItem, message.outbox_id)
            resident = session.get(Resident, item.resident_id)
            self.sent.append((message, item.kind, bool(resident.opted_out)))
        if message.address in self.unsubscribed:
            self.unsubscribed.discard(message.address)
            return SendResult(ok=False, status="failed", error_code="21610", error_message="unsubscribed recipient")
        return SendResult(ok=True, provider_message_id=f"rec-{message.outbox_id}", status="delivered")


@dataclass
class World:
    runtime: object
    sender: RecordingSender
    now: datetime = START
    residents: list[int] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    workshops: list[int] = field(default_factory=list)
    counter: int = 0

    def sms(self, who: int, text: str):  # type: ignore[no-untyped-def]
        self.counter += 1
        return receive(self.runtime, InboundMessage(channel="sms", address=self.addresses[who], text=text,
                                                    provider_id=f"opt-{self.counter}", received_at=self.now,
                                                    provider="simulator"))


def _empty(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def _world(runtime, residents: int, workshops_: list[tuple[int, int]]) -> World:  # type: ignore[no-untyped-def]
    _empty(runtime.db)
    world = World(runtime=runtime, sender=RecordingSender(runtime))
    runtime.clock = lambda: world.now
    runtime.senders["simulator"] = world.sender
    for n in range(residents):
        world.addresses.append(f"+3361100{n:04d}")
        world.residents.append(world.sms(n, "bonjour").resident_id)
    with runtime.db.transaction() as session:
        for days, capacity in workshops_:
            starts = (START + timedelta(days=days)).replace(hour=13)
            world.workshops.append(add_workshop(session, runtime, starts, capacity=capacity).id)
    return world


def _opted_out(world: World, who: int) -> bool:
    with world.runtime.db.transaction() as session:
        return bool(session.get(Resident, world.residents[who]).opted_out)


def _do(world: World, action: tuple) -> None:  # type: ignore[type-arg]
    runtime, reminders = world.runtime, world.runtime.settings.reminders
    kind, who = action[0], action[1]
    if kind == "stop":
        result = world.sms(who, action[2])
        assert len(result.outbox_ids) == 1, f"{action[2]!r}: one confirmation, got {len(result.outbox_ids)}"
        assert _opted_out(world, who)
        with runtime.db.transaction() as session:  # at once: nothing unasked-for is left waiting
            waiting = session.scalars(select(OutboxItem).where(OutboxItem.resident_id == world.residents[who],
                                                               OutboxItem.kind != "reply",
                                                               OutboxItem.status == "pending")).all()
            assert waiting == []
    elif kind == "start":
        world.sms(who, "START")
        assert not _opted_out(world, who)
    elif kind == "write":
        world.sms(who, action[2])
    elif kind == "unsubscribed_at_send":
        world.sender.unsubscribed.add(world.addresses[who])
    elif kind == "unsubscribed_in_callback":
        with runtime.db.transaction() as session:
            apply_permanent_failure(session, world.residents[who], "21610", world.now)
        assert _opted_out(world, who)
    elif kind == "advance":
        world.now += timedelta(minutes=action[2])
        if action[2] == 0:  # to the evening, when the sending window is closed and notifications wait
            evening = world.now.replace(hour=21, minute=0)
            world.now = evening if evening > world.now else evening + timedelta(days=1)
        dispatch_due_reminders(runtime)
        dispatch_due(runtime, limit=500)
        return
    else:
        with runtime.db.transaction() as session:
            resident = session.get(Resident, world.residents[who])
            workshop_id = world.workshops[(action[2] if len(action) > 2 else 0) % len(world.workshops)]
            enrolment = session.scalars(select(Enrolment).where(Enrolment.resident_id == resident.id,
                                                                Enrolment.workshop_id == workshop_id)).first()
            if kind == "enrol":
                workshops.enrol(session, resident, workshop_id, world.now, settings=reminders)
            elif kind == "cancel_enrolment" and enrolment is not None and enrolment.status in ("confirmed", "waiting"):
                workshops.cancel(session, enrolment, world.now, provider="simulator", settings=reminders)
            elif kind == "attendance" and enrolment is not None and enrolment.status in ("confirmed", "attended",
                                                                                        "no_show"):
                workshops.mark_attendance(session, enrolment.id, action[3], world.now, settings=reminders)
            elif kind == "move_workshop":
                workshop = session.get(Workshop, workshop_id)
                if workshop.status == "scheduled":
                    shift = timedelta(hours=action[3])
                    workshops.update_workshop(session, workshop_id, world.now, settings=reminders,
                                              starts_at=workshop.starts_at + shift,
                                              ends_at=workshop.ends_at + shift)
            elif kind == "cancel_workshop":
                workshops.cancel_workshop(session, workshop_id, world.now)
            elif kind == "followup":
                schedule_procedure_followup(session, resident.id, world.now, service="caf", reason="guide_failed",
                                            settings=reminders)
    # Replies to what a resident just wrote go out at once, as the webhook path does.
    dispatch_due(runtime, limit=500)


def _check(world: World, since: int) -> None:
    for message, kind, opted_out in world.sender.sent[since:]:
        assert not (opted_out and kind != "reply"), f"a {kind} reached {message.address} while opted out"


resident_index = st.integers(min_value=0, max_value=3)
actions = st.one_of(
    st.tuples(st.just("stop"), resident_index, st.sampled_from(STOP_WORDS)),
    st.tuples(st.just("start"), resident_index),
    st.tuples(st.just("write"), resident_index, st.sampled_from(RESIDENT_WORDS)),
    st.tuples(st.just("unsubscribed_at_send"), resident_index),
    st.tuples(st.just("unsubscribed_in_callback"), resident_index),
    st.tuples(st.just("unsubscribed_in_callback"), resident_index),
    st.tuples(st.just("advance"), resident_index, st.integers(min_value=0, max_value=3 * 24 * 60)),
    st.tuples(st.just("advance"), resident_index, st.just(0) | st.integers(min_value=1, max_value=12 * 60)),
    st.tuples(st.just("enrol"), resident_index, st.integers(0, 2)),
    st.tuples(st.just("enrol"), resident_index, st.integers(0, 2)),
    st.tuples(st.just("cancel_enrolment"), resident_index, st.integers(0, 2)),
    st.tuples(st.just("attendance"), resident_index, st.integers(0, 2), st.booleans()),
    st.tuples(st.just("move_workshop"), resident_index, st.integers(0, 2), st.integers(-30, 30)),
    st.tuples(st.just("cancel_workshop"), resident_index, st.integers(0, 2)),
    st.tuples(st.just("followup"), resident_index),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(schedule=st.lists(actions, min_size=5, max_size=40),
       workshops_=st.lists(st.tuples(st.integers(0, 8), st.integers(1, 3)), min_size=1, max_size=3))
def test_no_unasked_message_ever_reaches_an_opted_out_resident(runtime, schedule, workshops_):
    world = _world(runtime, 4, workshops_)
    for action in schedule:
        since = len(world.sender.sent)
        _do(world, action)
        _check(world, since)
    # Run the clock on for three weeks: whatever was owed is sent, held back or cancelled by now.
    for _ in range(21):
        since = len(world.sender.sent)
        _do(world, ("advance", 0, 24 * 60))
        _check(world, since)


def test_the_schedule_reaches_residents_who_did_not_opt_out(runtime):
    """The property above is not vacuous: the same machinery does deliver reminders and follow-ups."""
    world = _world(runtime, 2, [(2, 5)])
    for action in [("enrol", 0, 0), ("enrol", 1, 0), ("followup", 0), ("stop", 1, "STOP")]:
        _do(world, action)
    for _ in range(10):
        _do(world, ("advance", 0, 24 * 60))
    notified = {message.address for message, kind, _ in world.sender.sent if kind == "notification"}
    assert notified == {world.addresses[0]}
    _check(world, 0)


@pytest.mark.parametrize("word", STOP_WORDS)
def test_each_stop_word_through_the_simulator_gets_one_confirmation(runtime, word):
    from fastapi.testclient import TestClient

    from bot.app import create_app

    with TestClient(create_app(runtime.settings, runtime, background_jobs=False)) as client:
        client.post("/simulator/api/messages", json={"from": "+33611000001", "text": "bonjour"})
        replies = client.post("/simulator/api/messages", json={"from": "+33611000001", "text": word}).json()
        assert [r["text"] for r in replies["replies"]] == [runtime.texts("opt_out")]
        assert prepare(runtime.texts("opt_out")).segments == 1
        # A first message that is STOP gets the confirmation only (no welcome, no information SMS).
        first = client.post("/simulator/api/messages", json={"from": "+33611000002", "text": word}).json()
        assert [r["text"] for r in first["replies"]] == [runtime.texts("opt_out")]
        back = client.post("/simulator/api/messages", json={"from": "+33611000001", "text": "START"}).json()
        assert [r["text"] for r in back["replies"]] == [runtime.texts("opt_in")]
    with runtime.db.transaction() as session:
        assert [r.opted_out for r in session.scalars(select(Resident).order_by(Resident.id))] == [False, True]


def test_stop_cancels_a_queued_reminder_at_once_and_start_does_not_bring_it_back(runtime):
    world = _world(runtime, 1, [(1, 5)])
    _do(world, ("enrol", 0, 0))
    with runtime.db.transaction() as session:  # a workshop change was queued for tonight (window closed)
        resident = session.get(Resident, world.residents[0])
        from bot.outbox.queue import enqueue

        queued = enqueue(session, resident, "Atelier deplace.", provider="simulator", kind="notification",
                         now=world.now).id
    world.sms(0, "STOP")
    world.sms(0, "START")
    for _ in range(3):
        _do(world, ("advance", 0, 24 * 60))
    with runtime.db.transaction() as session:
        assert session.get(OutboxItem, queued).status == "cancelled"
    assert queued not in {message.outbox_id for message, _, _ in world.sender.sent}


def _queue_notifications(world: World, who: int, count: int) -> list[int]:
    from bot.outbox.queue import enqueue

    with world.runtime.db.transaction() as session:
        resident = session.get(Resident, world.residents[who])
        return [enqueue(session, resident, f"Atelier deplace ({n}).", provider="simulator", kind="notification",
                        now=world.now).id for n in range(count)]


def test_a_21610_in_a_status_callback_stops_notifications_already_queued(runtime):
    world = _world(runtime, 1, [(1, 5)])
    world.now = START.replace(hour=22)  # window closed: the notifications wait for the morning
    queued = _queue_notifications(world, 0, 2)
    dispatch_due(runtime)
    _do(world, ("unsubscribed_in_callback", 0))
    _do(world, ("advance", 0, 12 * 60))
    assert not {m.outbox_id for m, _, _ in world.sender.sent} & set(queued)
    _check(world, 0)


def test_a_21610_at_send_time_stops_the_other_notifications_of_the_same_batch(runtime):
    world = _world(runtime, 1, [(1, 5)])
    dispatch_due(runtime)  # the answer to their "bonjour"
    queued = _queue_notifications(world, 0, 3)
    world.sender.unsubscribed.add(world.addresses[0])
    dispatch_due(runtime)
    assert [m.outbox_id for m, _, _ in world.sender.sent if m.outbox_id in queued] == queued[:1]
    with runtime.db.transaction() as session:
        assert [session.get(OutboxItem, i).status for i in queued] == ["failed", "cancelled", "cancelled"]
    _check(world, 0)


def test_stop_works_even_from_a_number_being_throttled_for_flooding(runtime):
    world = _world(runtime, 1, [(1, 5)])
    for _ in range(runtime.settings.flood.max_messages + 3):
        world.sms(0, "bonjour")
    dispatch_due(runtime, limit=500)
    _do(world, ("stop", 0, "STOP"))
    assert _opted_out(world, 0)
