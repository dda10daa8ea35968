"""Logging in and out of the console: passwords, cookies, CSRF, throttling, session fixation."""

from __future__ import annotations

import html

from sqlalchemy import select

from bot.console.auth import SESSION_COOKIE
from bot.db.models import AuditEntry, ConsoleSession, Mediator
from tests.console.conftest import csrf_of, log_in
from tests.tickets.people import PASSWORD


def test_pages_need_a_login(client, team):
    response = client.get("/console", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
    assert client.get("/console/api/queue").status_code == 401


def test_a_mediator_logs_in_and_sees_the_queue_in_french(client, team):
    log_in(client, "lea@lilas.fr")
    page = client.get("/console")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text and "Demandes des résidents" in page.text and "Lea" in page.text


def test_the_session_cookie_is_http_only_and_signed(client, team):
    form = client.get("/console/login")
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                   "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    # A tampered cookie is no session.
    value = client.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/console")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_secure_cookies_behind_https(runtime, team):
    from fastapi.testclient import TestClient

    from bot.app import create_app

    runtime.settings = runtime.settings.model_copy(update={"public_url": "https://relais.example.org"})
    with TestClient(create_app(runtime.settings, runtime, background_jobs=False), base_url="https://testserver") as c:
        form = c.get("/console/login")
        response = c.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                  "csrf_token": csrf_of(form.text)}, follow_redirects=False)
        assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_is_refused_and_recorded(client, team, db):
    form = client.get("/console/login")
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": "wrong-password!",
                                                   "csrf_token": csrf_of(form.text)})
    assert response.status_code == 401 and "E-mail ou mot de passe incorrect" in response.text
    assert SESSION_COOKIE not in client.cookies
    with db.transaction() as session:
        assert session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "login_failed")).all() == [
            "lea@lilas.fr"]


def test_login_is_rate_limited_per_account(client, team, runtime):
    limit = runtime.settings.console.login_attempts
    for _ in range(limit):
        form = client.get("/console/login")
        client.post("/console/login", data={"email": "lea@lilas.fr", "password": "nope-nope-nope",
                                            "csrf_token": csrf_of(form.text)})
    form = client.get("/console/login")
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                   "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert response.status_code == 429 and "Trop d'essais" in html.unescape(response.text)
    assert SESSION_COOKIE not in client.cookies


def test_the_login_form_itself_needs_its_csrf_token(client, team):
    client.get("/console/login")
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                   "csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403 and SESSION_COOKIE not in client.cookies


def test_every_login_gets_a_new_session_and_an_old_cookie_is_worth_nothing(client, team, db):
    """Session fixation: a session id known before login (or from an earlier login) never works after."""
    log_in(client, "lea@lilas.fr")
    first = client.cookies.get(SESSION_COOKIE)
    log_in(client, "lea@lilas.fr")
    second = client.cookies.get(SESSION_COOKIE)
    assert first != second
    # An attacker who planted a cookie before the victim logged in gains nothing: the victim's
    # login replaced it with a new one, and a cookie of no session is refused.
    with db.transaction() as session:
        assert len(session.scalars(select(ConsoleSession)).all()) == 2
    csrf = csrf_of(client.get("/console").text)
    client.post("/console/logout", data={"csrf_token": csrf})
    client.cookies.set(SESSION_COOKIE, second, path="/console")
    assert client.get("/console", follow_redirects=False).status_code == 303  # logged out means gone


def test_logout_needs_the_csrf_token_and_ends_the_session(client, team):
    csrf = log_in(client, "lea@lilas.fr")
    assert client.post("/console/logout", data={"csrf_token": "nope"}).status_code == 403
    assert client.get("/console").status_code == 200
    response = client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_a_disabled_account_cannot_log_in(client, team, db):
    with db.transaction() as session:
        session.get(Mediator, team.lea).active = False
    form = client.get("/console/login")
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                   "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert response.status_code == 401


def test_next_never_leads_off_the_console(client, team):
    form = client.get("/console/login?next=https://evil.example/")
    assert 'value="/console"' in form.text
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                   "csrf_token": csrf_of(form.text), "next": "//evil.example/"},
                           follow_redirects=False)
    assert response.headers["location"] == "/console"
