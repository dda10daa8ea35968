"""A resident chatting with the engine alone: no database, no network, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.engine import ConversationState, EngineContext, ResidentView, Turn, respond
from bot.engine.events import Event
from flows.library import load_library
from flows.texts import default_texts
from nlu.result import Entity, IntentScore, ParseResult

LIBRARY_DIR = Path(__file__).parent / "library"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def parse_as(text: str, intent: str, confidence: float, service: str | None = None,
             ranking: list[tuple[str, float]] | None = None) -> ParseResult:
    entities = [Entity("service", service, 0, len(text))] if service else []
    scores = [IntentScore(name, conf) for name, conf in (ranking or [(intent, confidence)])]
    return ParseResult(text=text, intent=IntentScore(intent, confidence), entities=entities, intent_ranking=scores)


class Chat:
    """Send texts as a resident; read exactly what the bot answers."""

    def __init__(self, understood: dict[str, ParseResult], threshold: float = 0.5) -> None:
        self.understood = understood
        self.state = ConversationState()
        self.now = START
        self.resident = ResidentView()
        self.events: list[Event] = []
        self.nlu_calls: list[str] = []
        services = {"caf": "caf", "pole emploi": "france_travail", "france travail": "france_travail"}
        self.context = EngineContext(
            library=load_library(LIBRARY_DIR / "guides", LIBRARY_DIR / "menu.yml"),
            texts=default_texts(),
            understand=self._understand,
            extract_service=lambda text: services.get(text.strip().lower()),
            confidence_threshold=threshold,
            resume_after=timedelta(hours=3),
            session_timeout=timedelta(hours=72),
        )

    def _understand(self, text: str) -> ParseResult:
        self.nlu_calls.append(text)
        return self.understood.get(text) or parse_as(text, "out_of_scope", 0.3, ranking=[("out_of_scope", 0.3)])

    def send(self, text: str, after: timedelta = timedelta(0)) -> list[str]:
        self.now += after
        outcome = respond(Turn(self.state, text, self.now, self.resident), self.context)
        self.state = outcome.state
        self.events = outcome.events
        return outcome.replies


@pytest.fixture
def chat_factory():
    return Chat
