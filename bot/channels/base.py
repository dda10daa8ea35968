"""What every channel adapter hands to the core, and what the outbox hands back to a channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

ChannelName = Literal["sms", "telegram"]


@dataclass(frozen=True)
class InboundMessage:
    """A message a resident sent, normalised by its channel adapter after verification."""

    channel: ChannelName  # the simulator is the "sms" channel: same path, same encoding
    address: str  # E.164 phone number for SMS, chat id for Telegram
    text: str
    provider_id: str  # MessageSid, Telegram update_id, simulator uuid: unique per channel
    received_at: datetime
    provider: str = "simulator"  # "twilio", "telegram", "simulator"
    media_urls: list[str] = field(default_factory=list)
    display_name: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row as a sender sees it."""

    outbox_id: int
    channel: ChannelName
    address: str
    text: str  # already prepared (GSM-7 for SMS)
    provider: str
    reply_markup: list[list[str]] | None = None  # Telegram keyboards: rows of button labels


@dataclass(frozen=True)
class SendResult:
    """What happened to one send attempt."""

    ok: bool
    provider_message_id: str | None = None
    status: str = "sent"  # sent | queued | failed
    transient: bool = False  # a failure worth retrying (HTTP 429/5xx, timeout)
    error_code: str | None = None
    error_message: str | None = None


class Sender(Protocol):
    """Delivers outbox rows for one provider. Implementations must not touch the database."""

    provider: str

    def send(self, message: OutgoingMessage) -> SendResult: ...
