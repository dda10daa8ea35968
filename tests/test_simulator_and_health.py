"""The web SMS simulator's JSON API and /healthz, through the real ASGI app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.db import connect
from bot.runtime import Runtime


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime.settings, runtime, background_jobs=False)) as client:
        yield client


def test_a_resident_texts_and_gets_the_first_step_as_it_would_go_out_by_sms(client):
    answer = client.post("/simulator/api/messages", json={"from": "06 12 34 56 78", "text": "jai oublie mon code caf"})
    assert answer.status_code == 200
    replies = answer.json()["replies"]
    assert replies[0]["text"].startswith("Code CAF oublie. 4 etapes.")
    assert replies[1] == {"text": '1/4 Ouvrez le site caf.fr et touchez "Mon Compte".', "segments": 1,
                          "encoding": "GSM-7"}


def test_the_thread_shows_both_sides_in_order(client):
    client.post("/simulator/api/messages", json={"from": "+33612345678", "text": "jai oublie mon code caf"})
    thread = client.get("/simulator/api/messages", params={"from": "+33612345678"}).json()
    assert [m["direction"] for m in thread] == ["in", "out", "out", "out"]  # intro, step 1, first-contact info
    assert thread[0]["text"] == "jai oublie mon code caf"
    newer = client.get("/simulator/api/messages", params={"from": "+33612345678", "after": thread[-1]["id"]})
    assert newer.json() == []


def test_the_same_idempotency_key_is_answered_once(client):
    body = {"from": "+33612345678", "text": "jai oublie mon code caf", "id": "k1"}
    assert client.post("/simulator/api/messages", json=body).json()["replies"]
    assert client.post("/simulator/api/messages", json=body).json()["replies"] == []


@pytest.mark.parametrize("number", ["", "abc", "12", "+33 6"])
def test_an_invalid_number_is_refused_with_a_reason(client, number):
    answer = client.post("/simulator/api/messages", json={"from": number, "text": "bonjour"})
    assert answer.status_code == 422
    assert "from" in str(answer.json()["detail"])


def test_a_missing_field_is_a_clear_422(client):
    answer = client.post("/simulator/api/messages", json={"text": "bonjour"})
    assert answer.status_code == 422 and "from" in answer.text


def test_the_page_looks_like_a_phone_thread(client):
    page = client.get("/simulator")
    assert page.status_code == 200 and "Simulateur SMS" in page.text and 'charset="utf-8"' in page.text


def test_healthz_is_ok_when_the_database_answers_and_is_migrated(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_healthz_says_503_and_why_when_the_database_is_down(runtime):
    down = Runtime(
        settings=Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere"),
        db=connect("postgresql+psycopg://postgres@127.0.0.1:9/nowhere"),
        parser=runtime.parser, library=runtime.library, texts=runtime.texts,
    )
    with TestClient(create_app(down.settings, down, background_jobs=False)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["database"].startswith("unreachable:")


def test_healthz_says_503_when_migrations_are_pending(runtime, fresh_database_url):
    empty = Runtime(settings=Settings(database_url=fresh_database_url), db=connect(fresh_database_url),
                    parser=runtime.parser, library=runtime.library, texts=runtime.texts)
    with TestClient(create_app(empty.settings, empty, background_jobs=False)) as client:
        answer = client.get("/healthz")
    empty.db.dispose()
    assert answer.status_code == 503 and "relais db upgrade" in answer.json()["database"]


def test_a_message_while_the_database_is_down_gets_503_so_it_is_retried(runtime):
    down = Runtime(
        settings=Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:9/nowhere"),
        db=connect("postgresql+psycopg://postgres@127.0.0.1:9/nowhere"),
        parser=runtime.parser, library=runtime.library, texts=runtime.texts,
    )
    with TestClient(create_app(down.settings, down, background_jobs=False)) as client:
        answer = client.post("/simulator/api/messages", json={"from": "+33612345678", "text": "bonjour"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
