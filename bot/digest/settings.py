"""Settings of the mediators' daily digest (the ``digest:`` section of config.yml)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DigestSettings(BaseModel):
    """When the digest is built, and where it is sent."""

    enabled: bool = Field(default=True, description="Build the digest every working day.")
    time: str = Field(default="08:30", pattern=r"^\d{2}:\d{2}$", description="From this wall-clock time (HH:MM).")
    timezone: str = Field(default="Europe/Paris", description="Zone of ``time`` and of the days.")
    days: list[int] = Field(default=[0, 1, 2, 3, 4], description="Weekdays it is built, 0 = Monday.")
    skip_public_holidays: bool = Field(default=True, description="Not on French public holidays.")
    telegram_chat_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Team chat per structure slug; a structure not listed uses tickets.notify_telegram_chat_id.",
    )
