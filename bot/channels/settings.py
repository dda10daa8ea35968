"""Channel credentials and options, read from config.yml or the providers' conventional variables."""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, Field, model_validator

_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
_AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_BOT_TOKEN = re.compile(r"^[0-9]{5,}:[A-Za-z0-9_-]{30,}$")


class TwilioSettings(BaseModel):
    """Twilio SMS. Missing values are taken from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN."""

    account_sid: str | None = None
    auth_token: str | None = None
    from_number: str | None = Field(default=None, description="Sender number or short code (E.164 or digits).")
    api_base_url: str | None = Field(
        default=None, description="Replace https://*.twilio.com (tests, staging). Env RELAIS_TWILIO_API_BASE_URL."
    )
    messages_per_second: float = Field(default=1.0, gt=0, description="Sending rate per sender number.")
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _conventional_environment(self) -> TwilioSettings:
        self.account_sid = self.account_sid or os.environ.get("TWILIO_ACCOUNT_SID") or None
        self.auth_token = self.auth_token or os.environ.get("TWILIO_AUTH_TOKEN") or None
        self.api_base_url = self.api_base_url or os.environ.get("RELAIS_TWILIO_API_BASE_URL") or None
        return self

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.from_number)

    def problems(self) -> list[str]:
        """Why the credentials are not well formed (empty when they are)."""
        found = []
        if not self.account_sid:
            found.append("account_sid missing (TWILIO_ACCOUNT_SID)")
        elif not _ACCOUNT_SID.match(self.account_sid):
            found.append("account_sid should be AC followed by 32 hexadecimal characters")
        if not self.auth_token:
            found.append("auth_token missing (TWILIO_AUTH_TOKEN)")
        elif not _AUTH_TOKEN.match(self.auth_token):
            found.append("auth_token should be 32 hexadecimal characters")
        if not self.from_number:
            found.append("from_number missing (the short code or number residents text)")
        return found


class TelegramSettings(BaseModel):
    """Telegram bot. A missing token is taken from TELEGRAM_BOT_TOKEN."""

    bot_token: str | None = None
    webhook_secret: str | None = Field(default=None, description="Checked against X-Telegram-Bot-Api-Secret-Token.")
    api_base_url: str | None = Field(default=None, description="Bot API server, e.g. a local stand-in in tests.")

    @model_validator(mode="after")
    def _conventional_environment(self) -> TelegramSettings:
        self.bot_token = self.bot_token or os.environ.get("TELEGRAM_BOT_TOKEN") or None
        return self

    @property
    def configured(self) -> bool:
        return bool(self.bot_token)

    def problems(self) -> list[str]:
        found = []
        if not self.bot_token:
            found.append("bot_token missing (TELEGRAM_BOT_TOKEN)")
        elif not _BOT_TOKEN.match(self.bot_token):
            found.append("bot_token should look like 123456789:AA... (digits, colon, 30+ characters)")
        if self.bot_token and not self.webhook_secret:
            found.append("webhook_secret missing: required for webhook mode (polling works without)")
        return found
