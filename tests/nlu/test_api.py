"""POST /model/parse on our server answers in Rasa's shape, and bad requests get a clear 4xx."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu.api import router
from nlu.embedded import EmbeddedModel


@pytest.fixture
def client(model: EmbeddedModel) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.state.parser = model
    return TestClient(app, raise_server_exceptions=False)


def test_parse_answers_in_rasas_shape(client: TestClient) -> None:
    response = client.post("/model/parse", json={"text": "code caf bloké", "message_id": "abc-123"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"text", "intent", "entities", "intent_ranking"}
    assert body["text"] == "code caf bloké"
    assert body["intent"]["name"] == "password_reset" and 0 <= body["intent"]["confidence"] <= 1
    assert body["entities"] == [
        {"entity": "service", "value": "caf", "start": 5, "end": 8, "extractor": "RelaisServiceExtractor"}]
    assert body["intent_ranking"][0] == body["intent"]
    assert len(body["intent_ranking"]) == 10


def test_extra_fields_are_ignored_like_rasa(client: TestClient) -> None:
    response = client.post("/model/parse?emulation_mode=rasa", json={"text": "bonjour", "lang": "fr"})
    assert response.status_code == 200 and response.json()["intent"]["name"] == "greet"


@pytest.mark.parametrize(("content", "expected"), [
    (b"{not json", "JSON decode error"),
    (b'{"txt": "bonjour"}', "text"),
    (b'{"text": null}', "text"),
    (b'{"text": 42}', "text"),
    (b'["bonjour"]', "dict"),
    (b"", "Field required"),
    (b'{"text": "' + b"a" * 20_001 + b'"}', "at most 20000"),
])
def test_bad_requests_get_a_clear_4xx(client: TestClient, content: bytes, expected: str) -> None:
    response = client.post("/model/parse", content=content, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert expected in response.text


def test_hostile_text_still_gets_an_answer(client: TestClient) -> None:
    for text in ["", "\u0000\ufffd", "🙂" * 2000, "٣٤٥"]:
        response = client.post("/model/parse", json={"text": text})
        assert response.status_code == 200
        assert response.json()["intent"]["name"] == "out_of_scope"


def test_503_until_the_model_is_loaded() -> None:
    app = FastAPI()
    app.include_router(router)
    response = TestClient(app).post("/model/parse", json={"text": "bonjour"})
    assert response.status_code == 503 and "not loaded" in response.text


def test_status_names_the_model(client: TestClient, model: EmbeddedModel) -> None:
    status = client.get("/model/status").json()
    assert status["backend"] == "embedded"
    assert status["embedded_model"]["data_hash"] == model.data_hash
    assert len(status["embedded_model"]["intents"]) == 22


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | st.dictionaries(st.just("text"), st.text(max_size=200)))
def test_any_json_body_gets_an_answer_or_a_4xx(client: TestClient, body: object) -> None:
    response = client.post("/model/parse", json=body)
    assert response.status_code in {200, 422}
    if response.status_code == 200:
        assert response.json()["text"] == body["text"]
