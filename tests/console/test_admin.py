"""Admins manage accounts and canned replies; `relais mediators` does the same from a shell."""

from __future__ import annotations

import html

from sqlalchemy import select
from typer.testing import CliRunner

from bot.db.models import AuditEntry, CannedReply, Mediator
from tests.console.conftest import log_in
from tests.tickets.people import PASSWORD, resident_with_ticket


def test_admin_pages_are_for_admins_only(client, team):
    csrf = log_in(client, "lea@lilas.fr")
    assert client.get("/console/admin/mediators").status_code == 403
    response = client.post("/console/admin/mediators", data={"csrf_token": csrf, "email": "x@y.fr",
                                                              "display_name": "X", "password": PASSWORD,
                                                              "structure": team.lilas})
    assert response.status_code == 403


def test_an_admin_adds_an_account_that_can_log_in(client, team, db):
    csrf = log_in(client, "ada@lilas.fr")
    page = client.get("/console/admin/mediators").text
    assert "lea@lilas.fr" in page and "noor@eloi.fr" not in page  # only their structures' people
    response = client.post("/console/admin/mediators", follow_redirects=True, data={
        "csrf_token": csrf, "email": "Zoe@Lilas.fr", "display_name": "Zoé", "password": "zoe-password-2026",
        "role": "mediator", "structure": [team.lilas, team.eloi]})
    assert "Compte créé." in html.unescape(response.text)
    with db.transaction() as session:
        zoe = session.scalars(select(Mediator).where(Mediator.email == "zoe@lilas.fr")).one()
        assert [s.id for s in zoe.structures] == [team.lilas]  # not a structure the admin does not run
    from fastapi.testclient import TestClient

    with TestClient(client.app) as other:
        log_in(other, "zoe@lilas.fr", "zoe-password-2026")


def test_a_short_password_is_explained(client, team):
    csrf = log_in(client, "ada@lilas.fr")
    response = client.post("/console/admin/mediators", data={
        "csrf_token": csrf, "email": "zoe@lilas.fr", "display_name": "Zoé", "password": "court",
        "structure": team.lilas})
    assert response.status_code == 422 and "password too short" in response.text


def test_disabling_an_account_ends_its_sessions(client, team, db):
    from fastapi.testclient import TestClient

    csrf = log_in(client, "ada@lilas.fr")
    with TestClient(client.app) as lea:
        log_in(lea, "lea@lilas.fr")
        client.post(f"/console/admin/mediators/{team.lea}/active", data={"csrf_token": csrf, "active": "0"})
        assert lea.get("/console", follow_redirects=False).status_code == 303
    with db.transaction() as session:
        assert not session.get(Mediator, team.lea).active
        assert "mediator_disabled" in session.scalars(select(AuditEntry.action)).all()


def test_canned_replies_are_edited_by_admins_and_offered_in_the_reply_box(client, team, db):
    csrf = log_in(client, "ada@lilas.fr")
    client.post("/console/admin/canned", data={"csrf_token": csrf, "title": "Horaires",
                                               "body": "Le centre est ouvert du lundi au vendredi.",
                                               "structure_id": team.lilas})
    with db.transaction() as session:
        canned = session.scalars(select(CannedReply)).one()
    client.post("/console/admin/canned", data={"csrf_token": csrf, "canned_id": canned.id, "title": "Horaires",
                                               "body": "Ouvert du lundi au vendredi, 9h-18h.",
                                               "structure_id": team.lilas})
    with db.transaction() as session:
        from bot.db.models import Structure

        ticket = resident_with_ticket(session, session.get(Structure, team.lilas)).id
    page = client.get(f"/console/tickets/{ticket}").text
    assert "Ouvert du lundi au vendredi, 9h-18h." in page
    client.post("/console/admin/canned", data={"csrf_token": csrf, "canned_id": canned.id, "title": "x",
                                               "body": "x", "delete": "1"})
    with db.transaction() as session:
        assert session.scalars(select(CannedReply)).all() == []


def test_the_audit_log_page_lists_who_did_what(client, team, db):
    with db.transaction() as session:
        from bot.db.models import Structure

        ticket = resident_with_ticket(session, session.get(Structure, team.lilas)).id
    csrf = log_in(client, "ada@lilas.fr")
    client.post(f"/console/tickets/{ticket}/claim", data={"csrf_token": csrf})
    page = client.get("/console/admin/audit").text
    assert "ticket_claimed" in page and f"n°{ticket}" in page and "Ada" in page


def test_relais_mediators_add_list_disable(database_url, db, monkeypatch):
    from bot.cli import app

    monkeypatch.setenv("RELAIS_DATABASE_URL", database_url)
    monkeypatch.setenv("RELAIS_NEW_PASSWORD", "a-long-password")
    runner = CliRunner()
    added = runner.invoke(app, ["mediators", "add", "Kim@Centre.fr", "--name", "Kim", "--admin"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["mediators", "list"])
    assert "kim@centre.fr" in listed.output and "admin" in listed.output and "active" in listed.output
    again = runner.invoke(app, ["mediators", "add", "kim@centre.fr", "--name", "Kim"])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = runner.invoke(app, ["mediators", "add", "lou@centre.fr", "--name", "Lou", "-s", "nowhere"])
    assert unknown.exit_code == 2 and "Unknown structure nowhere" in unknown.output
    disabled = runner.invoke(app, ["mediators", "disable", "kim@centre.fr"])
    assert disabled.exit_code == 0
    with db.transaction() as session:
        assert not session.scalars(select(Mediator)).one().active
