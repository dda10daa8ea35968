"""What the NLU says about one message, in the shape of Rasa's ``/model/parse`` response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class Entity:
    entity: str  # "service"
    value: str  # canonical value, e.g. "france_travail"
    start: int
    end: int
    extractor: str = "RelaisServiceExtractor"
    confidence: float | None = None


@dataclass(frozen=True)
class ParseResult:
    text: str
    intent: IntentScore
    entities: list[Entity] = field(default_factory=list)
    intent_ranking: list[IntentScore] = field(default_factory=list)

    @property
    def service(self) -> str | None:
        """The first `service` entity's canonical value, if any."""
        for entity in self.entities:
            if entity.entity == "service":
                return entity.value
        return None

    def to_rasa(self) -> dict[str, Any]:
        """Rasa 3.x ``/model/parse`` JSON."""

        def entity_json(e: Entity) -> dict[str, Any]:
            data: dict[str, Any] = {
                "entity": e.entity, "value": e.value, "start": e.start, "end": e.end, "extractor": e.extractor,
            }
            if e.confidence is not None:
                data["confidence"] = e.confidence
            return data

        return {
            "text": self.text,
            "intent": {"name": self.intent.name, "confidence": self.intent.confidence},
            "entities": [entity_json(e) for e in self.entities],
            "intent_ranking": [{"name": s.name, "confidence": s.confidence} for s in self.intent_ranking],
        }

    @classmethod
    def from_rasa(cls, data: dict[str, Any]) -> ParseResult:
        """Read a Rasa ``/model/parse`` answer; raises ValueError when it does not have that shape."""
        try:
            intent = data["intent"]
            result = cls(
                text=str(data.get("text", "")),
                intent=IntentScore(str(intent["name"]), float(intent["confidence"])),
                entities=[
                    Entity(
                        entity=str(e["entity"]), value=str(e["value"]), start=int(e["start"]), end=int(e["end"]),
                        extractor=str(e.get("extractor", "")),
                        confidence=float(e["confidence"]) if e.get("confidence") is not None else None,
                    )
                    for e in data.get("entities") or []
                ],
                intent_ranking=[
                    IntentScore(str(r["name"]), float(r["confidence"])) for r in data.get("intent_ranking") or []
                ],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a Rasa /model/parse answer: {exc!r}") from exc
        if not 0.0 <= result.intent.confidence <= 1.0:
            raise ValueError(f"confidence out of [0, 1]: {result.intent.confidence}")
        return result
