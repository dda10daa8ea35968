"""What the engine decides, as small typed events applied by the caller in one transaction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendReply:
    """An SMS (or Telegram message) answering what the resident just sent."""

    text: str
    keyboard: tuple[str, ...] | None = None  # buttons a Telegram user can tap


@dataclass(frozen=True)
class OpenTicket:
    """Hand the conversation to a mediator, with what the bot knew."""

    reason: str  # asked | guide_failed | misunderstood | choice | handoff_intent
    theme: str | None = None
    subtheme: str | None = None
    guide_id: str | None = None
    step_id: str | None = None
    intent: str | None = None
    confidence: float | None = None
    service: str | None = None


@dataclass(frozen=True)
class MessageUnderstood:
    """What the NLU made of the message, kept on the message row for mediators and reports."""

    intent: str
    confidence: float
    service: str | None


@dataclass(frozen=True)
class GuideStarted:
    guide_id: str


@dataclass(frozen=True)
class GuideEnded:
    guide_id: str
    outcome: str  # resolved | failed
    step_id: str | None = None


@dataclass(frozen=True)
class OptedOut:
    pass


@dataclass(frozen=True)
class OptedIn:
    pass


@dataclass(frozen=True)
class DataSummaryRequested:
    """MES DONNEES, confirmed: tell the resident what is held and ask a mediator to send the full copy."""


@dataclass(frozen=True)
class ErasureConfirmed:
    """OUBLIER, confirmed: erase everything about the resident, then say so to the address they wrote from."""


from bot.engine.workshop_events import (  # noqa: E402  (workshop events live in their own module)
    CancelEnrolment,
    EnrolRequested,
    FollowupsSwitched,
    ReminderAnswered,
)

Event = (
    SendReply | OpenTicket | MessageUnderstood | GuideStarted | GuideEnded | OptedOut | OptedIn
    | DataSummaryRequested | ErasureConfirmed
    | EnrolRequested | CancelEnrolment | ReminderAnswered | FollowupsSwitched
)
