"""The privacy side of an inbound message, applied in its transaction (called from bot/inbound/pipeline.py).

- the first message of a resident: one short information SMS (who runs the service, where the
  notice is), alongside the reply, once (``Resident.informed_at``);
- MES DONNEES confirmed: a summary of what is held, and a ticket so a mediator sends the full copy;
- OUBLIER confirmed: the resident is erased, then told so by an SMS that belongs to no one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import AuditEntry, Message, Resident, Structure, Ticket
from bot.engine.events import DataSummaryRequested, ErasureConfirmed
from bot.outbox.queue import enqueue, enqueue_detached
from bot.privacy.residents import erase_resident, summarise
from bot.privacy.settings import NOTICE_PATH, fill_first_contact_text
from bot.privacy.texts import text
from bot.tickets.notify import TicketNotice, notify_after_commit
from bot.workshops.dates import paris

log = structlog.get_logger(__name__)

PrivacyEvent = DataSummaryRequested | ErasureConfirmed
DATA_REQUEST = "data_request"  # the reason of the ticket asking a mediator for the full copy


@dataclass
class PrivacyApplied:
    outbox_ids: list[int] = field(default_factory=list)
    erased: bool = False


def notice_url(settings: Settings) -> str:
    """Where residents read the privacy notice: the structure's own, or the short one Relais serves."""
    return settings.structure.privacy_url or settings.public_url.rstrip("/") + NOTICE_PATH


def first_contact_text(settings: Settings, structure_name: str | None = None) -> str:
    return fill_first_contact_text(settings.privacy.first_contact_text,
                                   structure=structure_name or settings.structure.name,
                                   privacy_url=notice_url(settings), months=settings.retention.months)


def inform_if_first_contact(session: Session, settings: Settings, resident: Resident, inbound: Message,
                            now: datetime) -> list[int]:
    """The information SMS, once per resident, after the reply; not to someone who just said STOP."""
    if resident.informed_at is not None or resident.opted_out:
        return []
    structure = session.get(Structure, resident.structure_id) if resident.structure_id else None
    item = enqueue(session, resident, first_contact_text(settings, structure.name if structure else None),
                   provider=inbound.provider, kind="reply", in_reply_to=inbound.id, now=now)
    resident.informed_at = now
    return [item.id]


def apply_privacy_event(session: Session, settings: Settings, resident: Resident, inbound: Message,
                        event: PrivacyEvent, now: datetime) -> PrivacyApplied:
    match event:
        case DataSummaryRequested():
            summary = summarise(session, resident)
            body = text("summary", messages=summary.messages, tickets=summary.tickets, workshops=summary.workshops,
                        since=paris(summary.since).strftime("%d/%m/%Y"))
            item = enqueue(session, resident, body, provider=inbound.provider, kind="reply",
                           in_reply_to=inbound.id, now=now)
            ticket = Ticket(resident_id=resident.id, structure_id=resident.structure_id, status="open",
                            reason=DATA_REQUEST, opened_at=now, waiting_since=now)
            session.add(ticket)
            session.flush()
            inbound.ticket_id = ticket.id
            session.add(AuditEntry(action="data_requested", ticket_id=ticket.id, resident_id=resident.id,
                                   detail="sms", created_at=now))
            structure = session.get(Structure, resident.structure_id) if resident.structure_id else None
            notify_after_commit(session, settings, TicketNotice(ticket.id, structure.name if structure else "-", None))
            return PrivacyApplied(outbox_ids=[item.id])
        case ErasureConfirmed():
            channel, address, provider = resident.channel, resident.address, inbound.provider
            erasure = erase_resident(session, resident, now, reason="sms")
            item = enqueue_detached(session, channel=channel, address=address, provider=provider,
                                    text=text("erased"), now=now)
            log.info("resident_erased", reason="sms", messages=erasure.messages, tickets=erasure.tickets)
            return PrivacyApplied(outbox_ids=[item.id], erased=True)
    return PrivacyApplied()
