"""Settings of the mediators' queue (the ``tickets:`` section of config.yml)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TicketSettings(BaseModel):
    """How escalated conversations are handled."""

    reopen_within_days: int = Field(
        default=7, ge=0, description="A closed ticket reopens when the resident writes again within this many days."
    )
    timezone: str = Field(default="Europe/Paris", description="Zone of the structures' opening hours.")
    closed_on_public_holidays: bool = Field(default=True, description="French public holidays count as closed.")
    notify_telegram_chat_id: str | None = Field(
        default=None, description="Telegram chat told about each new ticket (needs telegram.bot_token)."
    )
