"""What every channel adapter hands to the core, and what the outbox hands back to a channel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

ChannelName = Literal["sms", "telegram"]

# What the database keeps of an inbound message's identifiers (bot/db/models.py column sizes).
MAX_ADDRESS_CHARS = 64
MAX_PROVIDER_ID_CHARS = 80
MAX_DISPLAY_NAME_CHARS = 120
MAX_MEDIA_URL_CHARS = 2000
# Control characters: PostgreSQL refuses NUL; no phone number, id or URL holds any of them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidInbound(ValueError):
    """An inbound message whose identifiers cannot be stored as given; webhooks answer 400 with this reason."""


def check_identifier(name: str, value: str, limit: int) -> None:
    if not value or len(value) > limit or _CONTROL.search(value):
        raise InvalidInbound(f"{name} must be 1 to {limit} printable characters")


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

    def __post_init__(self) -> None:
        check_identifier("address", self.address, MAX_ADDRESS_CHARS)
        check_identifier("provider message id", self.provider_id, MAX_PROVIDER_ID_CHARS)
        for url in self.media_urls:
            check_identifier("media URL", url, MAX_MEDIA_URL_CHARS)
        if self.display_name is not None:  # a name is shown, never matched: clean it rather than refuse
            name = _CONTROL.sub("", self.display_name)[:MAX_DISPLAY_NAME_CHARS].strip()
            object.__setattr__(self, "display_name", name or None)


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
