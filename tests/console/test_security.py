"""The console under attack: XSS, CSRF, session fixation, reaching another structure's tickets by id.

Each test here was checked to fail with its protection removed (autoescape off, CSRF check always true,
a login adopting the session cookie it is sent, tickets visible whatever their structure).
Tests in test_auth.py and test_tickets_pages.py cover the straightforward cases; these go further.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from bot.console.auth import PRELOGIN_COOKIE, SESSION_COOKIE
from bot.db.models import AuditEntry, Mediator, OutboxItem, Ticket, TicketNote
from tests.console.conftest import csrf_of, log_in
from tests.console.test_tickets_pages import ticket_in
from tests.tickets.people import PASSWORD

# Payloads for each place resident text lands: element content, quoted and unquoted attributes, URLs.
XSS = [
    '<script>window.pwned=1</script>',
    '"><svg onload="window.pwned=2">',
    "' autofocus onfocus='window.pwned=3",
    '<a href="javascript:window.pwned=4">x</a>',
    '</textarea><img src=x onerror=window.pwned=5>',
]


# -- XSS ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS)
def test_resident_text_and_name_never_become_markup_in_queue_or_ticket(client, team, db, payload):
    from bot.db.models import Resident

    ticket = ticket_in(db, team.lilas, text=payload)
    with db.transaction() as session:
        session.scalars(select(Resident)).one().display_name = payload[:120]
    log_in(client, "lea@lilas.fr")
    pages = {
        "queue": client.get("/console").text,
        "queue poll": client.get("/console/api/queue").json()["html"],
        "ticket": client.get(f"/console/tickets/{ticket}").text,
        "ticket poll": client.get(f"/console/api/tickets/{ticket}").json()["html"],
    }
    for name, body in pages.items():
        for dangerous in ("<script>window", "<svg onload", "<img src=x", 'href="javascript:', "' autofocus"):
            assert dangerous not in body, f"{name} page renders resident text as markup"
    assert str(escape(payload)) in pages["ticket"]  # shown, as text


def test_a_mediators_own_note_is_escaped_too(client, team, db):
    ticket = ticket_in(db, team.lilas)
    csrf = log_in(client, "lea@lilas.fr")
    client.post(f"/console/tickets/{ticket}/notes", data={"csrf_token": csrf, "body": '<img src=x onerror=alert(1)>'})
    page = client.get(f"/console/tickets/{ticket}").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# -- CSRF -----------------------------------------------------------------------------------------------------------


def _state(db, ticket: int) -> tuple:  # type: ignore[type-arg]
    """Everything the forms below could change: the ticket, replies, notes, who is on duty."""
    with db.transaction() as session:
        row = session.get(Ticket, ticket)
        return (row.status, row.assignee_id, session.scalar(select(func.count()).select_from(OutboxItem)),
                session.scalar(select(func.count()).select_from(TicketNote)),
                sorted(session.scalars(select(Mediator.email).where(Mediator.on_duty.is_(True)))))


def _forms(ticket: int, colleague: int) -> list[tuple[str, dict[str, str]]]:
    return [(f"/console/tickets/{ticket}/claim", {}), (f"/console/tickets/{ticket}/reply", {"body": "Bonjour"}),
            (f"/console/tickets/{ticket}/notes", {"body": "note"}),
            (f"/console/tickets/{ticket}/transfer", {"to": str(colleague)}),
            (f"/console/tickets/{ticket}/close", {"outcome": "resolu", "theme": "email"}),
            ("/console/duty", {"on_duty": "1"})]


def test_a_form_posted_without_any_csrf_token_changes_nothing(client, team, db):
    ticket = ticket_in(db, team.lilas)
    log_in(client, "lea@lilas.fr")
    before = _state(db, ticket)
    for path, data in _forms(ticket, team.sam):
        assert client.post(path, data=data, follow_redirects=False).status_code == 403, path
    assert _state(db, ticket) == before
    assert client.post("/console/api/preview", data={"body": "x"}).status_code == 403
    assert client.post("/console/logout", data={}, follow_redirects=False).status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 200  # still logged in


def test_another_sessions_valid_token_is_refused(client, team, db):
    """A token is bound to its session: one lifted from a colleague's page (or an attacker's own) is worthless."""
    ticket = ticket_in(db, team.lilas)
    log_in(client, "lea@lilas.fr")
    with TestClient(client.app) as attacker:
        stolen = log_in(attacker, "sam@lilas.fr")
    before = _state(db, ticket)
    for path, data in _forms(ticket, team.sam):
        assert client.post(path, data={"csrf_token": stolen, **data}, follow_redirects=False).status_code == 403
    assert _state(db, ticket) == before


def test_the_login_form_without_its_prelogin_cookie_is_refused(client, team):
    token = csrf_of(client.get("/console/login").text)
    client.cookies.delete(PRELOGIN_COOKIE, path="/console")
    response = client.post("/console/login", data={"email": "lea@lilas.fr", "password": PASSWORD,
                                                   "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 403 and SESSION_COOKIE not in client.cookies


# -- session fixation -----------------------------------------------------------------------------------------------


def test_a_session_cookie_planted_before_login_is_not_adopted(client, team, db):
    """An attacker gets a valid session of their own, plants its cookie in a shared browser, waits for a
    mediator to log in there, then comes back with the cookie: it must still be theirs, not the mediator's."""
    with TestClient(client.app) as attacker:
        log_in(attacker, "noor@eloi.fr")  # the attacker's own account, another structure
        planted = attacker.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local", path="/console")
    log_in(client, "lea@lilas.fr")  # the victim logs in on the shared browser
    assert client.cookies.get(SESSION_COOKIE) != planted
    mine = ticket_in(db, team.lilas, "+33611110000", "Dossier de Lea")
    with TestClient(client.app) as attacker:
        attacker.cookies.set(SESSION_COOKIE, planted, domain="testserver.local", path="/console")
        page = attacker.get(f"/console/tickets/{mine}")
        assert page.status_code == 404 and "Dossier de Lea" not in page.text
        assert "Noor" in attacker.get("/console").text  # still only the attacker's own session


def test_an_invented_session_cookie_is_neither_accepted_nor_kept(client, team):
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value", domain="testserver.local", path="/console")
    assert client.get("/console", follow_redirects=False).status_code == 303
    log_in(client, "lea@lilas.fr")
    assert client.cookies.get(SESSION_COOKIE) != "attacker-chosen-value"


# -- across structures ----------------------------------------------------------------------------------------------


def test_guessing_ids_tells_nothing_about_another_structures_tickets(client, team, db):
    theirs = ticket_in(db, team.eloi, "+33622222222", "Secret de Saint-Eloi")
    log_in(client, "lea@lilas.fr")
    missing = theirs + 1000
    for path in ("/console/tickets/{}", "/console/api/tickets/{}"):
        existing, absent = client.get(path.format(theirs)), client.get(path.format(missing))
        assert existing.status_code == absent.status_code == 404
        assert existing.text == absent.text
        assert "Secret de Saint-Eloi" not in existing.text


def test_an_admin_of_one_structure_cannot_reach_another_structures_ticket(client, team, db):
    theirs = ticket_in(db, team.eloi, "+33622222222", "Secret de Saint-Eloi")
    csrf = log_in(client, "ada@lilas.fr")
    assert client.get(f"/console/tickets/{theirs}").status_code == 404
    for path, data in _forms(theirs, team.noor)[:5]:
        client.post(path, data={"csrf_token": csrf, **data})
    with db.transaction() as session:
        ticket = session.get(Ticket, theirs)
        assert (ticket.status, ticket.assignee_id) == ("open", None)
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.ticket_id == theirs)) == 0


def test_a_ticket_cannot_be_transferred_to_a_mediator_of_another_structure(client, team, db):
    mine = ticket_in(db, team.lilas)
    csrf = log_in(client, "lea@lilas.fr")
    client.post(f"/console/tickets/{mine}/claim", data={"csrf_token": csrf})
    client.post(f"/console/tickets/{mine}/transfer", data={"csrf_token": csrf, "to": team.noor})
    with db.transaction() as session:
        assert session.get(Ticket, mine).assignee_id == team.lea
    with TestClient(client.app) as noor:
        log_in(noor, "noor@eloi.fr")
        assert noor.get(f"/console/tickets/{mine}").status_code == 404


# -- hostile values in any console route --------------------------------------------------------------------------

HUGE = "9" * 25  # past every integer column
FIELDS = ("email", "password", "body", "title", "name", "display_name", "detail", "outcome", "theme", "subtheme",
          "role", "text", "description", "place_name", "place_address", "day", "start", "end", "level", "note")


def _routes(app) -> list[tuple[str, set[str]]]:  # type: ignore[no-untyped-def]
    """Every (path, methods) the app serves, through included routers (FastAPI keeps them wrapped)."""
    found = []
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            found += [(context.path, set(context.methods or ())) for context in route.effective_route_contexts()]
        elif hasattr(route, "path"):
            found.append((route.path, set(getattr(route, "methods", None) or ())))
    return found


def test_huge_ids_and_nul_characters_anywhere_in_the_console_are_refused_not_a_crash(app, team, db):
    """Every route, path parameters as a 25-digit number, every known form field holding NUL characters."""
    ticket_in(db, team.lilas)
    with TestClient(app, raise_server_exceptions=False) as client:
        # Public, before any login: the login form itself.
        token = csrf_of(client.get("/console/login").text)
        response = client.post("/console/login", data={"email": "lea@lilas.fr\x00", "password": "x\x00",
                                                       "csrf_token": token})
        assert 400 <= response.status_code < 500
        csrf = log_in(client, "ada@lilas.fr")
        crashes, routes = [], [(path, methods) for path, methods in _routes(app)
                               if path.startswith(("/console", "/simulator")) and path != "/console/logout"]
        assert len(routes) > 20  # the walk does reach the console's routes
        for path, methods in routes:
            for value in (HUGE, "-" + HUGE, "%00"):
                concrete = path.replace("{", "\x01").split("\x01")
                concrete = concrete[0] + "".join(value + part.split("}", 1)[1] for part in concrete[1:])
                if "GET" in methods:
                    answer = client.get(concrete, params={"after": HUGE, "page": HUGE, "from": "+33612345678"})
                    if answer.status_code >= 500:
                        crashes.append(f"GET {concrete}")
                if "POST" in methods:
                    form = {name: "x\x00y" for name in FIELDS} | {"csrf_token": csrf, "to": HUGE,
                                                                  "capacity": HUGE, "structure_id": HUGE}
                    answer = client.post(concrete, data=form, follow_redirects=False)
                    if answer.status_code >= 500:
                        crashes.append(f"POST {concrete}")
        assert crashes == []
        assert client.get("/console", follow_redirects=False).status_code == 200  # and still logged in
