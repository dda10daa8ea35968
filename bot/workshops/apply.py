"""The SMS side of workshops, around the pure engine: what it is shown and how its events are applied.

``resident_view_parts`` loads what bot/engine/workshops.py reads; ``apply_workshop_event`` applies
one workshop event in the inbound transaction and queues the reply it calls for.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AuditEntry, Enrolment, Message, Reminder, Resident, Ticket, Workshop
from bot.engine.workshop_events import CancelEnrolment, EnrolRequested, FollowupsSwitched, ReminderAnswered
from bot.engine.workshops import AwaitingAnswer, EnrolmentView, WorkshopView
from bot.outbox.queue import enqueue
from bot.reminders.kinds import ANSWERABLE, FOLLOWUP_PROCEDURE, FOLLOWUPS
from bot.reminders.schedule import cancel_followups
from bot.runtime import Runtime
from bot.workshops.dates import french_date
from bot.workshops.service import active_enrolments, cancel, enrol, upcoming_workshops
from bot.workshops.texts import text

# A reminder's question can be answered for this long after it went out.
ANSWER_WINDOW = timedelta(days=2)

WorkshopEvent = EnrolRequested | CancelEnrolment | ReminderAnswered | FollowupsSwitched


def resident_view_parts(session: Session, resident: Resident, now: datetime) -> dict[str, Any]:
    workshops = tuple(
        WorkshopView(w.id, w.title, w.starts_at, w.place_name)
        for w in upcoming_workshops(session, now, limit=3)
    )
    enrolments = tuple(
        EnrolmentView(e.id, w.id, w.title, w.starts_at, e.status)
        for e, w in active_enrolments(session, resident.id, now)
    )
    last = session.scalars(
        select(Reminder).where(Reminder.resident_id == resident.id, Reminder.state == "sent",
                               Reminder.updated_at >= now - ANSWER_WINDOW)
        .order_by(Reminder.updated_at.desc(), Reminder.id.desc()).limit(1)
    ).first()
    awaiting = None
    if last is not None and last.kind in ANSWERABLE and "answer" not in last.payload:
        awaiting = AwaitingAnswer(last.id, last.kind, last.updated_at, last.enrolment_id,
                                  last.payload.get("offered_workshop_id"))
    return {"workshops": workshops, "enrolments": enrolments, "awaiting": awaiting}


def apply_workshop_event(session: Session, runtime: Runtime, resident: Resident, inbound: Message,
                         event: WorkshopEvent, now: datetime) -> list[int]:
    """Apply ``event``; returns the outbox ids of the replies it queued."""
    settings = runtime.settings.reminders

    def reply(body: str) -> list[int]:
        item = enqueue(session, resident, body, provider=inbound.provider, kind="reply", in_reply_to=inbound.id,
                       now=now)
        return [item.id]

    match event:
        case EnrolRequested(workshop_id=workshop_id):
            workshop = session.get(Workshop, workshop_id)
            if workshop is None or workshop.status != "scheduled" or workshop.starts_at <= now:
                return reply(text("list_empty"))
            result = enrol(session, resident, workshop_id, now, settings)
            values = {"title": workshop.title, "date": french_date(workshop.starts_at), "place": workshop.place_name}
            if result.status == "confirmed":
                return reply(text("enrolled", **values))
            if result.status == "waiting":
                return reply(text("waiting", position=result.position, **values))
            return reply(text("already_enrolled", **values))
        case CancelEnrolment(enrolment_id=enrolment_id):
            enrolment = session.get(Enrolment, enrolment_id)
            if enrolment is None or enrolment.resident_id != resident.id or enrolment.status not in (
                "confirmed", "waiting"
            ):
                return reply(text("nothing_to_cancel"))
            workshop = session.get(Workshop, enrolment.workshop_id)
            assert workshop is not None
            cancel(session, enrolment, now, provider=inbound.provider, settings=settings)
            return reply(text("cancelled", title=workshop.title, date=french_date(workshop.starts_at)))
        case ReminderAnswered(reminder_id=reminder_id, answer=answer):
            reminder = session.get(Reminder, reminder_id)
            if reminder is None:
                return []
            reminder.payload = {**reminder.payload, "answer": answer, "answered_at": now.isoformat()}
            if reminder.kind == FOLLOWUP_PROCEDURE and answer == "no":
                _reopen_or_open_ticket(session, runtime, resident, reminder, inbound, now)
            return []
        case FollowupsSwitched(enabled=enabled):
            resident.followups_enabled = enabled
            if not enabled:
                cancel_followups(session, resident.id, now, FOLLOWUPS)
            return []
    return []


def _reopen_or_open_ticket(session: Session, runtime: Runtime, resident: Resident, reminder: Reminder,
                           inbound: Message, now: datetime) -> None:
    """NON to "Avez-vous pu finir votre demarche ?": the ticket it followed goes back to the queue
    (as a ticket waiting from now), or a new one opens; the team is told as for any ticket."""
    from bot.db.models import Structure
    from bot.tickets.notify import TicketNotice, notify_after_commit
    from bot.tickets.service import reopen

    ticket = session.get(Ticket, reminder.ticket_id) if reminder.ticket_id else None
    if ticket is not None and ticket.status != "closed":  # already back in the queue
        inbound.ticket_id = ticket.id
        return
    if ticket is not None:
        reopen(session, ticket, now, why="followup_no")
        reopened = True
    else:
        ticket = Ticket(resident_id=resident.id, structure_id=resident.structure_id, status="open",
                        reason="followup", service=reminder.payload.get("service"), opened_at=now,
                        waiting_since=now, updated_at=now)
        session.add(ticket)
        session.flush()
        session.add(AuditEntry(action="ticket_opened", ticket_id=ticket.id, resident_id=resident.id,
                               detail="followup_no", created_at=now))
        reopened = False
    inbound.ticket_id = ticket.id
    structure = session.get(Structure, ticket.structure_id) if ticket.structure_id else None
    notify_after_commit(session, runtime.settings,
                        TicketNotice(ticket.id, structure.name if structure else "-", ticket.theme, reopened=reopened))
