"""The workshop side of the conversation: list, enrol, cancel, answers to reminders and follow-ups.

Pure like the rest of the engine: bot/inbound/pipeline.py puts the upcoming workshops, the resident's
enrolments and the reminder awaiting an answer into the ResidentView; this module only reads
them and returns events (EnrolRequested, CancelEnrolment, ReminderAnswered, FollowupsSwitched).
Whether an enrolment gets a seat or the waiting list is decided when the event is applied, under
a lock, so the reply to it is written there (bot/workshops/apply.py).

Keywords (bot/workshops/messages.fr.yml): ATELIER lists the next workshops, ANNULER cancels,
STOP RAPPELS turns follow-ups off, RAPPELS turns them back on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine.keywords import Keyword, leading_number
from bot.engine.state import Pending
from bot.engine.workshop_events import CancelEnrolment, EnrolRequested, FollowupsSwitched, ReminderAnswered
from bot.reminders.kinds import FOLLOWUP_NO_SHOW, FOLLOWUP_PROCEDURE, FOLLOWUP_WORKSHOP, WORKSHOP_REMINDER
from bot.workshops.dates import french_short_date
from bot.workshops.texts import text, workshop_keyword

if TYPE_CHECKING:
    from bot.engine.conversation import _Conversation

WORKSHOP_INTENTS = frozenset({"workshop_info", "workshop_cancel"})
WORKSHOP_PENDING = frozenset({"workshop_pick", "workshop_cancel_pick"})


@dataclass(frozen=True)
class WorkshopView:
    id: int
    title: str
    starts_at: datetime
    place: str


@dataclass(frozen=True)
class EnrolmentView:
    id: int
    workshop_id: int
    title: str
    starts_at: datetime
    status: str  # confirmed | waiting


@dataclass(frozen=True)
class AwaitingAnswer:
    """The last reminder or follow-up sent, whose question the resident may be answering."""

    reminder_id: int
    kind: str
    sent_at: datetime
    enrolment_id: int | None = None
    offered_workshop_id: int | None = None


def workshop_turn(conv: _Conversation, keyword: Keyword | None, message: str) -> bool:
    """True when the message was about workshops, reminders or follow-ups and was answered."""
    found = workshop_keyword(message)
    if found == "followups_off":
        conv.events.append(FollowupsSwitched(False))
        conv._say(text("followups_off"))
        return True
    if found == "followups_on":
        conv.events.append(FollowupsSwitched(True))
        conv._say(text("followups_on"))
        return True
    if found == "workshops":
        list_workshops(conv)
        return True
    if found == "cancel":
        start_cancel(conv)
        return True
    if conv.state.pending is None:
        return _answer_awaiting(conv, keyword, message)
    return False


def on_intent(conv: _Conversation, intent: str) -> bool:
    """True when answered; False lets the guide library answer (no workshop planned: the guide explains)."""
    if intent == "workshop_cancel":
        start_cancel(conv)
        return True
    if not conv.turn.resident.workshops and conv.ctx.library.for_intent(intent, None) is not None:
        return False
    list_workshops(conv)
    return True


def list_workshops(conv: _Conversation) -> None:
    workshops = conv.turn.resident.workshops[:3]
    if not workshops:
        conv._say(text("list_empty"))
        return
    lines = [text("list_header")]
    for number, workshop in enumerate(workshops, start=1):
        lines.append(text("list_item", number=number, title=workshop.title, date=french_short_date(workshop.starts_at)))
    conv.state.pending = Pending(kind="workshop_pick", options=[{"workshop_id": w.id} for w in workshops])
    conv._say("\n".join(lines), tuple(str(n) for n in range(1, len(workshops) + 1)))


def start_cancel(conv: _Conversation) -> None:
    enrolments = conv.turn.resident.enrolments
    if not enrolments:
        conv._say(text("nothing_to_cancel"))
        return
    if len(enrolments) == 1:
        conv.events.append(CancelEnrolment(enrolments[0].id))
        return
    lines = [text("cancel_which")]
    for number, enrolment in enumerate(enrolments[:3], start=1):
        date = french_short_date(enrolment.starts_at)
        lines.append(text("list_item", number=number, title=enrolment.title, date=date))
    conv.state.pending = Pending(kind="workshop_cancel_pick",
                                 options=[{"enrolment_id": e.id} for e in enrolments[:3]])
    conv._say("\n".join(lines), tuple(str(n) for n in range(1, min(len(enrolments), 3) + 1)))


def choose(conv: _Conversation, pending: Pending, option: dict[str, Any]) -> None:
    if pending.kind == "workshop_pick":
        conv.events.append(EnrolRequested(int(option["workshop_id"])))
    else:
        conv.events.append(CancelEnrolment(int(option["enrolment_id"])))


def _answer_awaiting(conv: _Conversation, keyword: Keyword | None, message: str) -> bool:
    awaiting = conv.turn.resident.awaiting
    previous = conv.turn.state.last_activity
    if awaiting is None or (previous is not None and previous > awaiting.sent_at):
        return False  # the resident has talked about something else since
    number = leading_number(message)
    events = conv.events
    if awaiting.kind == WORKSHOP_REMINDER and keyword in (Keyword.YES, Keyword.NO):
        events.append(ReminderAnswered(awaiting.reminder_id, "yes" if keyword is Keyword.YES else "no"))
        if keyword is Keyword.YES:
            conv._say(text("reminder_yes"))
        elif awaiting.enrolment_id is not None:
            events.append(CancelEnrolment(awaiting.enrolment_id))
        return True
    if awaiting.kind == FOLLOWUP_WORKSHOP and number in (1, 2, 3):
        events.append(ReminderAnswered(awaiting.reminder_id, str(number)))
        conv._say(text("followup_workshop_thanks"))
        return True
    if awaiting.kind == FOLLOWUP_NO_SHOW and (number == 1 or keyword is Keyword.YES):
        events.append(ReminderAnswered(awaiting.reminder_id, "yes"))
        if awaiting.offered_workshop_id is not None:
            events.append(EnrolRequested(awaiting.offered_workshop_id))
        return True
    if awaiting.kind == FOLLOWUP_PROCEDURE and keyword in (Keyword.YES, Keyword.NO):
        events.append(ReminderAnswered(awaiting.reminder_id, "yes" if keyword is Keyword.YES else "no"))
        if keyword is Keyword.YES:
            conv._say(text("followup_procedure_yes"))
        else:  # the applier reopens the ticket (or opens one); a mediator takes over
            conv.state.mediator_notified = True
            conv._say(text("followup_procedure_no"))
        return True
    return False
