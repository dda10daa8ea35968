"""Configuration: one documented ``config.yml``, every key overridable by an environment variable.

Environment variables win over the file: ``RELAIS_DATABASE_URL``, ``RELAIS_NLU__BACKEND`` (two
underscores between a section and its key), and so on. A malformed file or a bad value stops
start-up with a :class:`ConfigError` that names the file, the key and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.channels.settings import TelegramSettings, TwilioSettings
from bot.console.settings import ConsoleSettings
from bot.digest.settings import DigestSettings
from bot.inbound.flood import FloodSettings
from bot.outbox.settings import OutboxSettings
from bot.privacy.settings import NOTICE_PATH, PrivacySettings, RetentionSettings, first_contact_problem
from bot.tickets.settings import TicketSettings
from nlu.settings import NluSettings

DEFAULT_CONFIG_FILE = Path("config.yml")
ENV_PREFIX = "RELAIS_"


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and what was expected."""


class ConversationSettings(BaseModel):
    """How the conversation engine behaves with one resident."""

    resume_after_minutes: int = Field(
        default=180, ge=1, description="Idle time after which a resident coming back is reminded where they were."
    )
    session_timeout_hours: int = Field(
        default=72, ge=1, description="Idle time after which a guide in progress is forgotten."
    )
    misunderstandings_before_mediator: int = Field(
        default=2, ge=1, description="Misunderstandings in a row before the bot offers a mediator."
    )


class SendingWindowSettings(BaseModel):
    """When messages the resident did not just ask for (reminders, follow-ups) may go out."""

    timezone: str = Field(default="Europe/Paris", description="Wall-clock zone of the window.")
    days: list[int] = Field(default=[0, 1, 2, 3, 4, 5], description="Weekdays allowed, 0 = Monday.")
    start: str = Field(default="08:00", pattern=r"^\d{2}:\d{2}$", description="Window opens (HH:MM).")
    end: str = Field(default="20:00", pattern=r"^\d{2}:\d{2}$", description="Window closes (HH:MM; 24:00 = midnight).")
    skip_public_holidays: bool = Field(default=True, description="No sending on French public holidays.")


class ReminderSettings(BaseModel):
    """Workshop reminders and follow-ups (see bot/reminders/)."""

    enabled: bool = True
    # Each offset: "day_before@18:00" (the day before, at that Paris time) or "-2h" / "-30m" (before start).
    offsets: list[str] = Field(default=["day_before@18:00", "-2h"])
    after_workshop: bool = Field(default=True, description="Ask how the workshop went.")
    after_workshop_delay_hours: int = Field(default=2, ge=0)
    after_no_show: bool = Field(default=True, description="Offer the next workshop after a no-show.")
    after_guide_failed: bool = Field(default=True, description="Ask if the procedure was finished.")
    after_ticket_closed: bool = Field(default=True, description="Ask if the procedure was finished.")
    followup_delay_days: int = Field(default=3, ge=1, description="Days after a failed guide or closed ticket.")
    followup_useful_days: int = Field(default=7, ge=1, description="Past this a follow-up is skipped.")
    collapse_overdue: bool = Field(
        default=True, description="When two reminders of one enrolment are due at once, send only the later."
    )
    batch_size: int = Field(default=200, ge=1)
    window: SendingWindowSettings = Field(default_factory=SendingWindowSettings)
    rate_per_second: float = Field(default=0.0, ge=0, description="Notifications per second and sender; 0 = off.")


class StructureSettings(BaseModel):
    """The structure (centre social, France services) that runs this deployment by default."""

    name: str = Field(default="Relais", min_length=1)
    slug: str = Field(default="relais", pattern=r"^[a-z0-9-]+$")
    privacy_url: str = Field(default="", description="Where residents can read the privacy notice.")


class Settings(BaseSettings):
    """Everything Relais reads at start-up. See config.yml for each key's documentation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    database_url: str = Field(
        default="sqlite:///relais.sqlite3",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="The URL providers reach this server at (for webhooks)."
    )
    demo: bool = Field(default=False, description="Demo mode: the simulator outbox is sent before replying.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    secret_key: str = Field(
        default="change-me-in-production",
        min_length=16,
        description="Signs console session cookies. Set a long random value in production.",
    )
    structure: StructureSettings = Field(default_factory=StructureSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    flood: FloodSettings = Field(default_factory=FloodSettings)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return url

    @field_validator("privacy")
    @classmethod
    def _first_contact_fits_one_sms(cls, privacy: PrivacySettings, info: ValidationInfo) -> PrivacySettings:
        structure, retention = info.data.get("structure"), info.data.get("retention")
        if structure is None or retention is None:  # already reported
            return privacy
        problem = first_contact_problem(
            privacy.first_contact_text, structure=structure.name, months=retention.months,
            privacy_url=structure.privacy_url or str(info.data.get("public_url", "")).rstrip("/") + NOTICE_PATH,
        )
        if problem:
            raise ValueError(f"'privacy.first_contact_text' (or RELAIS_PRIVACY__FIRST_CONTACT_TEXT) must be "
                             f"one GSM-7 SMS: {problem}")
        return privacy

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment must win over them.
        return (env_settings, init_settings)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys (database_url: ..., nlu: ...), got {type(data).__name__}"
        )
    return data


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    env_name = ENV_PREFIX + "__".join(str(part) for part in error["loc"]).upper()
    if error["type"] == "extra_forbidden":
        return f"key '{key}': unknown key (check its spelling against config.yml)"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f", got {got!r}"
    return f"key '{key}' (or {env_name}): {error['msg']}{shown}"


def load_settings(path: Path | str | None = None) -> Settings:
    """Read ``path`` (default ``config.yml`` if it exists) and the environment into :class:`Settings`.

    An explicitly named file must exist; without one, defaults and the environment are enough
    (``relais demo`` works from any folder).
    """
    if path is None:
        env_path = os.environ.get("RELAIS_CONFIG")
        path = Path(env_path) if env_path else DEFAULT_CONFIG_FILE
        data = _read_yaml(path) if path.exists() or env_path else {}
    else:
        path = Path(path)
        data = _read_yaml(path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"{path}: invalid configuration:\n  {problems}") from exc
