"""A console app on the test database, with two structures and their people."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from tests.tickets.people import PASSWORD, mediator, structure


@dataclass
class Team:
    lilas: int
    eloi: int
    lea: int  # mediator, Lilas
    sam: int  # mediator, Lilas
    noor: int  # mediator, Saint-Eloi
    ada: int  # admin, Lilas


@pytest.fixture
def team(db) -> Team:
    with db.transaction() as session:
        lilas, eloi = structure(session, "lilas"), structure(session, "eloi")
        return Team(
            lilas=lilas.id, eloi=eloi.id,
            lea=mediator(session, "lea@lilas.fr", [lilas]).id,
            sam=mediator(session, "sam@lilas.fr", [lilas]).id,
            noor=mediator(session, "noor@eloi.fr", [eloi]).id,
            ada=mediator(session, "ada@lilas.fr", [lilas], role="admin").id,
        )


@pytest.fixture
def app(runtime):
    return create_app(runtime.settings, runtime, background_jobs=False)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    form = client.get("/console/login")
    response = client.post("/console/login", data={"email": email, "password": password,
                                                   "csrf_token": csrf_of(form.text), "next": "/console"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/console").text)
