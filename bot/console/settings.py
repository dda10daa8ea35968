"""Settings of the mediators' web console (the ``console:`` section of config.yml)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ConsoleSettings(BaseModel):
    """Sessions, login throttling and live updates of the console."""

    session_hours: int = Field(default=12, ge=1, description="A console session lasts this long.")
    secure_cookies: bool | None = Field(
        default=None, description="Send cookies over HTTPS only; default: when public_url starts with https."
    )
    login_attempts: int = Field(default=5, ge=1, description="Failed logins allowed per e-mail and per address...")
    login_window_minutes: int = Field(default=15, ge=1, description="...within this many minutes.")
    poll_seconds: float = Field(default=1.0, gt=0, le=60, description="How often open pages ask for news.")
    page_size: int = Field(default=50, ge=10, le=500, description="Tickets per page of the queue.")
