"""Asking a Rasa 3.x server (``POST /model/parse``) with a timeout and a logged fall back to the embedded model.

Rasa answers are checked before use: the HTTP status, the JSON, the shape (``ParseResult.from_rasa``) and
the intent name (it must be one of nlu/intents.yml; Rasa's ``nlu_fallback`` is replaced by the best real
intent it ranked, keeping its low confidence so the engine asks a clarification). Anything else, a
timeout or a refused connection, and the embedded model answers instead. After a failure Rasa is left
alone for ``rasa_retry_after_seconds`` so a dead server does not add its timeout to every message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx

from nlu.contract import intent_names, service_values
from nlu.result import IntentScore, ParseResult
from nlu.services import extract_services

log = logging.getLogger(__name__)

RASA_FALLBACK_INTENT = "nlu_fallback"


class RasaAnswerError(ValueError):
    """Rasa answered something we cannot use."""


class RasaParser:
    def __init__(
        self,
        url: str,
        fallback: Callable[[str], ParseResult],
        *,
        token: str | None = None,
        timeout_seconds: float = 1.5,
        retry_after_seconds: float = 30.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.token = token
        self.retry_after_seconds = retry_after_seconds
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout_seconds))
        self.clock = clock
        self._known_intents = set(intent_names())
        self._known_services = set(service_values())
        self._skip_until = 0.0
        self._lock = threading.Lock()
        self.fallbacks = 0  # how many messages the embedded model answered instead of Rasa

    def parse(self, text: str) -> ParseResult:
        if self.clock() < self._skip_until:
            return self._fall_back(text, reason="rasa recently failed", log_it=False)
        try:
            result = self._ask_rasa(text)
        except (httpx.HTTPError, RasaAnswerError) as exc:
            with self._lock:
                self._skip_until = self.clock() + self.retry_after_seconds
            return self._fall_back(text, reason=_describe(exc))
        except Exception as exc:  # noqa: BLE001 - whatever happens, the resident gets an answer
            with self._lock:
                self._skip_until = self.clock() + self.retry_after_seconds
            return self._fall_back(text, reason=f"unexpected {type(exc).__name__}")
        return result

    def _fall_back(self, text: str, *, reason: str, log_it: bool = True) -> ParseResult:
        with self._lock:
            self.fallbacks += 1
        if log_it:
            # Never the message text in logs: it may hold personal data.
            log.warning(
                "Rasa NLU unusable (%s); the embedded model answers for %.0f s", reason, self.retry_after_seconds
            )
        return self.fallback(text)

    def _ask_rasa(self, text: str) -> ParseResult:
        params = {"token": self.token} if self.token else None
        response = self.client.post(self.endpoint, json={"text": text}, params=params)
        if response.status_code != 200:
            raise RasaAnswerError(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise RasaAnswerError("answer is not JSON") from exc
        if not isinstance(data, dict):
            raise RasaAnswerError("answer is not a JSON object")
        try:
            result = ParseResult.from_rasa(data)
        except ValueError as exc:
            raise RasaAnswerError(str(exc)) from exc
        return self._to_contract(text, result)

    def _to_contract(self, text: str, result: ParseResult) -> ParseResult:
        ranking = [s for s in result.intent_ranking if s.name in self._known_intents]
        intent = result.intent
        if intent.name == RASA_FALLBACK_INTENT:
            if not ranking:
                raise RasaAnswerError("nlu_fallback without a ranked intent")
            # Keep Rasa's low confidence: the engine will ask which of the ranked intents it is.
            intent = IntentScore(ranking[0].name, min(intent.confidence, ranking[0].confidence))
        elif intent.name not in self._known_intents:
            raise RasaAnswerError(f"unknown intent {intent.name!r}")
        if not ranking:
            ranking = [intent]
        entities = [
            e for e in result.entities
            if e.entity == "service" and e.value in self._known_services and 0 <= e.start <= e.end <= len(text)
        ]
        if not entities:
            # DIET misses misspelt names the fuzzy extractor catches; the service matters more than who found it.
            entities = extract_services(text)
        return ParseResult(text=text, intent=intent, entities=entities, intent_ranking=ranking)

    def close(self) -> None:
        self.client.close()


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"[:200]


