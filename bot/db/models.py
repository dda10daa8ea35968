"""The tables, as SQLAlchemy 2.x ORM models. Every change here comes with an Alembic migration.

Times are stored as timezone-aware UTC. Resident-facing times are converted to Europe/Paris
only when a text is written for them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database (SQLite forgets the zone, PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Structure(Base):
    """A centre social, France services or association running the help desk."""

    __tablename__ = "structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="centre_social")
    address: Mapped[str | None] = mapped_column(String(300))
    # {"mon": ["09:00-12:00", "14:00-18:00"], ...}; days missing are closed.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    typical_response_hours: Mapped[int] = mapped_column(Integer, default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mediator(Base):
    """A conseiller numérique, écrivain public or médiateur with a console account."""

    __tablename__ = "mediators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="mediator")  # mediator | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    structures: Mapped[list[Structure]] = relationship(secondary="mediator_structures", lazy="selectin")


class MediatorStructure(Base):
    __tablename__ = "mediator_structures"

    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id", ondelete="CASCADE"), primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"), primary_key=True)


class Resident(Base):
    """Someone who texts the help desk, known by channel and address only."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_residents_channel_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # sms | telegram
    address: Mapped[str] = mapped_column(String(64))  # E.164 or Telegram chat id
    display_name: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    followups_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    invalid_address: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged_reason: Mapped[str | None] = mapped_column(String(200))
    first_contact_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow)
    informed_at: Mapped[datetime | None]  # when the first-contact information SMS went out
    secret_warning_at: Mapped[datetime | None]  # when they were told never to send codes
    erased_at: Mapped[datetime | None]


class Conversation(Base):
    """The conversation engine's state for one resident (guide, step, pending question...)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), unique=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    """Every message in or out, as the resident and the mediators see it (secrets redacted)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id", name="uq_messages_channel_provider_id"),
        Index("ix_messages_resident_created", "resident_id", "created_at"),
        # Only the inbound messages waiting for a decision (bot/inbound/pipeline.py): small whatever the history.
        Index("ix_messages_undecided", "resident_id", "id",
              sqlite_where=text("direction = 'in' AND status = 'received'"),
              postgresql_where=text("direction = 'in' AND status = 'received'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    # in: received (waiting for a decision) | decided | throttled | failed; out: pending | sent | delivered ...
    status: Mapped[str] = mapped_column(String(20), default="received")
    error_code: Mapped[str | None] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id"))  # a mediator's reply
    # Indexed like every column referring to another table: deleting the parent row (an erasure) checks it.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    intent: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    service: Mapped[str | None] = mapped_column(String(40))
    redacted_kinds: Mapped[str | None] = mapped_column(String(120))
    media_urls: Mapped[list[str] | None] = mapped_column(JSON)
    segments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Ticket(Base):
    """A conversation handed over to the mediators' queue."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_opened", "status", "opened_at"),
        # The console's queue: one structure's tickets in a state, longest waiting first.
        Index("ix_tickets_structure_status_waiting", "structure_id", "status", "waiting_since"),
        Index("ix_tickets_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | claimed | closed
    reason: Mapped[str] = mapped_column(String(40))  # asked | guide_failed | misunderstood | choice
    theme: Mapped[str | None] = mapped_column(String(60))
    subtheme: Mapped[str | None] = mapped_column(String(60))
    guide_id: Mapped[str | None] = mapped_column(String(80))
    step_id: Mapped[str | None] = mapped_column(String(80))
    intent: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None] = mapped_column(Float)
    service: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id"))
    outcome: Mapped[str | None] = mapped_column(String(40))  # resolu | oriente | a_revoir
    outcome_detail: Mapped[str | None] = mapped_column(String(300))
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Since when the resident waits for a person: opening, or reopening after a close.
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship(lazy="joined")


class ConsoleSession(Base):
    """A mediator logged in to the console; the cookie carries only its signed random id."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the random token
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class TicketNote(Base):
    """An internal note on a ticket: mediators only, never sent."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Who opened, answered, claimed, transferred or closed what, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id"))
    action: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AnonymousTicket(Base):
    """What remains of a ticket once its resident is erased (on request or after the retention period):
    what the structure's reports count, nothing about the person — no link, no text, no exact time."""

    __tablename__ = "anonymous_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    opened_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(40))
    theme: Mapped[str | None] = mapped_column(String(60))
    subtheme: Mapped[str | None] = mapped_column(String(60))
    service: Mapped[str | None] = mapped_column(String(40))
    intent: Mapped[str | None] = mapped_column(String(40))
    guide_id: Mapped[str | None] = mapped_column(String(80))
    step_id: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # what it was when erased: open | claimed | closed
    outcome: Mapped[str | None] = mapped_column(String(40))
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    minutes_to_claim: Mapped[int | None] = mapped_column(Integer)
    minutes_to_close: Mapped[int | None] = mapped_column(Integer)
    anonymised_at: Mapped[datetime] = mapped_column(default=utcnow)


class Workshop(Base):
    """An atelier numérique of 4 to 6 people."""

    __tablename__ = "workshops"
    __table_args__ = (Index("ix_workshops_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    place_name: Mapped[str] = mapped_column(String(200))
    place_address: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer, default=6)
    level: Mapped[str] = mapped_column(String(20), default="debutant")
    theme: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("workshop_id", "resident_id", name="uq_enrolments_workshop_resident"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    # None once the resident was erased: the past seat still counts in the workshop's attendance.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    # confirmed | waiting | cancelled | attended | no_show
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Reminder(Base):
    """A message due at a time: workshop reminder or follow-up. A row, so it survives restarts."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    not_after: Mapped[datetime | None]  # past this it is no longer useful: skipped, never sent late
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | skipped | cancelled
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxItem(Base):
    """One message to send, written in the same transaction as the decision to send it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for the SMS confirming an erasure: it goes to the address after the resident is gone.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[list[list[str]] | None] = mapped_column(JSON)
    # reply: answers what the resident just sent, may go at any time.
    # notification: the resident did not just ask (reminder, follow-up): window, opt-out apply.
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    # pending | sending | sent | failed (permanent) | dead (retries exhausted) | cancelled
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    provider_message_id: Mapped[str | None] = mapped_column(String(80))
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Digest(Base):
    """The mediators' daily digest of one structure (bot/digest/): built once a day, shown in the console,
    sent to the team's Telegram chat. One row per structure and day, so it is built and sent once."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("structure_id", "day", name="uq_digests_structure_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # none (no chat configured) | sending | sent | failed
    telegram_status: Mapped[str] = mapped_column(String(20), default="none")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
