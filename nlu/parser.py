"""The one entry point the rest of Relais uses: ``build_parser(settings).parse(text) -> ParseResult``."""

from __future__ import annotations

from typing import Protocol

from nlu.embedded import EmbeddedModel
from nlu.model_store import load_or_train
from nlu.rasa_backend import RasaParser
from nlu.result import ParseResult
from nlu.settings import NluSettings


class Parser(Protocol):
    def parse(self, text: str) -> ParseResult:
        """Intent, ranking and `service` entities of one message. Never raises for any ``str``."""
        ...


def build_parser(settings: NluSettings) -> Parser:
    """The configured parser. The embedded model is loaded (or trained, when the data changed) in every
    case: it is the default, and the Rasa backend falls back to it."""
    embedded: EmbeddedModel = load_or_train(settings)
    if settings.backend == "embedded":
        return embedded
    return RasaParser(
        settings.rasa_url or "",
        embedded.parse,
        token=settings.rasa_token,
        timeout_seconds=settings.rasa_timeout_seconds,
        retry_after_seconds=settings.rasa_retry_after_seconds,
    )
