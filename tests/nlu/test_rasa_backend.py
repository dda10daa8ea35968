"""The `rasa` backend against a local server speaking Rasa's /model/parse, including its failures."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from nlu.api import router
from nlu.embedded import EmbeddedModel
from nlu.parser import build_parser
from nlu.rasa_backend import RasaParser
from nlu.settings import NluSettings
from tests.nlu.rasa_standin import RasaStandIn

TIMEOUT = 0.3


@pytest.fixture
def rasa() -> Iterator[RasaStandIn]:
    stand_in = RasaStandIn().start()
    yield stand_in
    stand_in.stop()


def make_parser(rasa: RasaStandIn, model: EmbeddedModel, **kwargs) -> RasaParser:
    options = {"timeout_seconds": TIMEOUT, "retry_after_seconds": 0.0, **kwargs}
    return RasaParser(rasa.url, model.parse, **options)


def test_uses_rasas_answer_when_it_is_good(rasa: RasaStandIn, model: EmbeddedModel) -> None:
    parser = make_parser(rasa, model, token="s3cret")
    result = parser.parse("ou est la caf")
    assert result.intent.name == "find_place" and result.intent.confidence == pytest.approx(0.91)
    assert [(e.value, e.extractor) for e in result.entities] == [("caf", "DIETClassifier")]
    assert rasa.requests == [
        {"path": "/model/parse", "query": {"token": ["s3cret"]}, "json": {"text": "ou est la caf"}}]
    assert parser.fallbacks == 0


def test_fills_in_the_service_rasa_missed(rasa: RasaStandIn, model: EmbeddedModel) -> None:
    result = make_parser(rasa, model).parse("mon compte ammeli")
    assert result.intent.name == "find_place"  # Rasa's intent
    assert result.service == "ameli"  # our typo-tolerant extractor


@pytest.mark.parametrize(("mode", "reason"), [
    ("slow", "timeout"),
    ("error", "HTTP 500"),
    ("malformed", "not JSON"),
    ("wrong_shape", "not a Rasa /model/parse answer"),
    ("not_an_object", "not a JSON object"),
    ("unknown_intent", "unknown intent"),
])
def test_falls_back_to_the_embedded_model_and_logs_why(
    rasa: RasaStandIn, model: EmbeddedModel, caplog: pytest.LogCaptureFixture, mode: str, reason: str
) -> None:
    rasa.mode = mode
    parser = make_parser(rasa, model)
    text = "code caf bloké"
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_backend"):
        result = parser.parse(text)
    assert result == model.parse(text)
    assert result.intent.name == "password_reset"
    assert parser.fallbacks == 1
    assert reason in caplog.text
    assert text not in caplog.text  # never a resident's words in the logs


def test_falls_back_when_rasa_is_down(model: EmbeddedModel, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    parser = RasaParser(f"http://127.0.0.1:{port}", model.parse, timeout_seconds=TIMEOUT)
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_backend"):
        result = parser.parse("slt jveu parlé a qqn")
    assert result.intent.name == "human_handoff"
    assert "connection refused" in caplog.text


def test_leaves_a_failing_rasa_alone_for_a_while(rasa: RasaStandIn, model: EmbeddedModel) -> None:
    now = [1000.0]
    parser = make_parser(rasa, model, retry_after_seconds=30.0, clock=lambda: now[0])
    rasa.mode = "error"
    parser.parse("bonjour")
    rasa.mode = "ok"
    assert parser.parse("bonjour").intent.name == "greet"  # still the embedded model...
    assert len(rasa.requests) == 1  # ...without asking Rasa again
    now[0] += 31
    assert parser.parse("bonjour").intent.name == "find_place"  # Rasa again
    assert len(rasa.requests) == 2


def test_rasa_nlu_fallback_becomes_a_low_confidence_contract_intent(rasa: RasaStandIn, model: EmbeddedModel) -> None:
    rasa.mode = "nlu_fallback"
    result = make_parser(rasa, model).parse("code")
    assert result.intent.name == "password_reset"
    assert result.intent.confidence <= 0.3
    assert [s.name for s in result.intent_ranking] == ["password_reset", "caf_declaration"]


def test_build_parser_with_the_rasa_backend(rasa: RasaStandIn, nlu_settings: NluSettings) -> None:
    settings = nlu_settings.model_copy(update={"backend": "rasa", "rasa_url": rasa.url + "/"})
    parser = build_parser(settings)
    assert isinstance(parser, RasaParser)
    assert parser.parse("ou est la caf").intent.name == "find_place"
    rasa.mode = "error"
    assert parser.parse("jarrive pa a ouvrir pronot").intent.name == "pronote"


def test_our_api_serves_rasas_answers_and_fallbacks(rasa: RasaStandIn, model: EmbeddedModel) -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.parser = make_parser(rasa, model)
    client = TestClient(app)
    assert client.post("/model/parse", json={"text": "la caf"}).json()["intent"]["name"] == "find_place"
    rasa.mode = "malformed"
    assert client.post("/model/parse", json={"text": "code caf bloké"}).json()["intent"]["name"] == "password_reset"
    status = client.get("/model/status").json()
    assert status["backend"] == "rasa" and status["fallbacks"] == 1
    assert status["embedded_model"]["data_hash"] == model.data_hash


def test_rasa_backend_needs_a_url() -> None:
    with pytest.raises(ValidationError, match="rasa_url"):
        NluSettings(backend="rasa")


def test_timeout_is_the_configured_one(rasa: RasaStandIn, model: EmbeddedModel) -> None:
    parser = make_parser(rasa, model, timeout_seconds=0.7)
    assert parser.client.timeout == httpx.Timeout(0.7)
