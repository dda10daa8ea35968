"""What the engine remembers about one resident between two messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

PendingKind = Literal[
    "choice", "service", "clarify", "closing", "menu", "offer_mediator", "workshop_pick", "workshop_cancel_pick",
    "confirm_my_data", "confirm_forget",
]


@dataclass
class Pending:
    """A question the bot asked and is waiting for an answer to."""

    kind: PendingKind
    # What each numbered answer means, in order: a step target, a service, an intent...
    options: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None  # for "service": the intent waiting for its service


@dataclass
class ConversationState:
    guide_id: str | None = None
    step_id: str | None = None
    pending: Pending | None = None
    misunderstandings: int = 0
    last_activity: datetime | None = None
    language: str = "fr"
    # The guide left for another topic, offered back by MENU and "reprendre".
    paused_guide_id: str | None = None
    paused_step_id: str | None = None
    last_intent: str | None = None
    last_confidence: float | None = None
    last_service: str | None = None
    # Whether the resident was told their messages now go to a mediator.
    mediator_notified: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_activity"] = self.last_activity.isoformat() if self.last_activity else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ConversationState:
        if not data:
            return cls()
        data = dict(data)
        pending = data.pop("pending", None)
        last_activity = data.pop("last_activity", None)
        known = {name for name in cls.__dataclass_fields__}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.pending = Pending(**pending) if pending else None
        state.last_activity = datetime.fromisoformat(last_activity) if last_activity else None
        return state
