"""Everything a running Relais needs, built once at start-up and handed to each part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.channels.base import Sender
from bot.config import Settings
from bot.db import Database
from bot.engine import EngineContext
from flows.library import Library
from flows.texts import Texts
from nlu.parser import Parser


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    parser: Parser
    library: Library
    texts: Texts
    senders: dict[str, Sender] = field(default_factory=dict)
    clock: Callable[[], datetime] = utc_now

    def engine_context(self) -> EngineContext:
        conversation = self.settings.conversation

        from nlu.services import extract_service

        def service_of(text: str) -> str | None:
            entity = extract_service(text)
            return entity.value if entity is not None else None

        return EngineContext(
            library=self.library,
            texts=self.texts,
            understand=self.parser.parse,
            extract_service=service_of,
            confidence_threshold=self.settings.nlu.confidence_threshold,
            resume_after=timedelta(minutes=conversation.resume_after_minutes),
            session_timeout=timedelta(hours=conversation.session_timeout_hours),
            misunderstandings_before_mediator=conversation.misunderstandings_before_mediator,
        )
