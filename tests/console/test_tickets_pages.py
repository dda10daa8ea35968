"""The console's ticket pages: queue, claim, reply, notes, transfer, close — and who sees what."""

from __future__ import annotations

import html

from sqlalchemy import select

from bot.db.models import AuditEntry, Message, OutboxItem, Resident, Ticket, TicketNote
from bot.inbound.pipeline import receive
from tests.console.conftest import log_in
from tests.tickets.people import resident_with_ticket, sms


def ticket_in(db, structure_id, address="+33611111111", text="AIDE"):
    from bot.db.models import Structure

    with db.transaction() as session:
        return resident_with_ticket(session, session.get(Structure, structure_id), address, text=text).id


def test_the_queue_shows_open_tickets_longest_waiting_first_with_counts(client, team, db, runtime):
    runtime.settings.structure.slug = "lilas"  # new residents join Lilas
    first = receive(runtime, sms("AIDE", "q1", "+33610000001")).ticket_id
    second = receive(runtime, sms("AIDE", "q2", "+33610000002")).ticket_id
    log_in(client, "lea@lilas.fr")
    data = client.get("/console/api/queue?state=open").json()
    assert data["counts"]["open"] == 2 and data["newest_open"] == second
    assert data["html"].index(f'data-ticket-id="{first}"') < data["html"].index(f'data-ticket-id="{second}"')
    page = client.get("/console").text
    assert f"/console/tickets/{first}" in page and "+33610000001" in page


def test_a_mediator_never_sees_another_structures_ticket(client, team, db):
    mine = ticket_in(db, team.lilas, "+33611111111", "Mon code CAF")
    theirs = ticket_in(db, team.eloi, "+33622222222", "Secret de Saint-Eloi")
    csrf = log_in(client, "lea@lilas.fr")
    queue = client.get("/console/api/queue?state=open").json()
    assert f'data-ticket-id="{mine}"' in queue["html"] and f'data-ticket-id="{theirs}"' not in queue["html"]
    assert queue["counts"]["open"] == 1
    page = client.get(f"/console/tickets/{theirs}")
    assert page.status_code == 404 and "Secret de Saint-Eloi" not in page.text
    assert client.get(f"/console/api/tickets/{theirs}").status_code == 404
    for action, data in [("claim", {}), ("reply", {"body": "Bonjour"}), ("notes", {"body": "n"}),
                         ("close", {"outcome": "resolu", "theme": "email"})]:
        client.post(f"/console/tickets/{theirs}/{action}", data={"csrf_token": csrf, **data})
    with db.transaction() as session:
        ticket = session.get(Ticket, theirs)
        assert (ticket.status, ticket.assignee_id) == ("open", None)
        assert session.scalars(select(OutboxItem)).all() == []
        assert session.scalars(select(TicketNote)).all() == []


def test_claim_reply_and_close_from_the_console(client, team, db, runtime):
    runtime.settings.structure.slug = "lilas"
    opened = receive(runtime, sms("AIDE", "c1", "+33633333333"))
    csrf = log_in(client, "lea@lilas.fr")
    page = client.get(f"/console/tickets/{opened.ticket_id}")
    assert "Prendre en charge" in page.text and "AIDE" in page.text

    response = client.post(f"/console/tickets/{opened.ticket_id}/claim", data={"csrf_token": csrf},
                           follow_redirects=True)
    assert "Ticket pris en charge." in response.text and "suivi par vous" in response.text

    client.post(f"/console/tickets/{opened.ticket_id}/reply",
                data={"csrf_token": csrf, "body": "Bonjour, c'est Léa du centre. Quel est le souci ?"})
    with db.transaction() as session:
        reply = session.scalars(select(Message).where(Message.author_id == team.lea)).one()
        assert reply.body == "Bonjour, c'est Léa du centre. Quel est le souci ?"
        assert reply.ticket_id == opened.ticket_id and reply.provider == "simulator"
    # The resident gets it in the simulator thread, as a mediator's message.
    thread = client.get("/simulator/api/messages", params={"from": "+33633333333"}).json()
    assert thread[-1]["text"].startswith("Bonjour, c'est Léa") and thread[-1]["by_mediator"]

    client.post(f"/console/tickets/{opened.ticket_id}/notes", data={"csrf_token": csrf, "body": "Rappeler lundi"})
    response = client.post(f"/console/tickets/{opened.ticket_id}/close", follow_redirects=True, data={
        "csrf_token": csrf, "outcome": "oriente", "theme": "aide_aux_demarches_administratives",
        "subtheme": "social_sante", "detail": "CAF, accueil sur rendez-vous"})
    assert "Ticket fermé." in response.text
    with db.transaction() as session:
        ticket = session.get(Ticket, opened.ticket_id)
        assert (ticket.status, ticket.outcome, ticket.outcome_detail) == (
            "closed", "oriente", "CAF, accueil sur rendez-vous")
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id)
                                  .order_by(AuditEntry.id)).all()
        assert actions == ["ticket_opened", "ticket_claimed", "ticket_answered", "note_added", "ticket_closed"]


def test_closing_without_a_referral_says_what_is_missing(client, team, db):
    ticket = ticket_in(db, team.lilas)
    csrf = log_in(client, "lea@lilas.fr")
    page = client.post(f"/console/tickets/{ticket}/close", follow_redirects=True,
                       data={"csrf_token": csrf, "outcome": "oriente", "theme": "email"})
    assert "Indiquez vers qui le résident est orienté." in html.unescape(page.text)
    with db.transaction() as session:
        assert session.get(Ticket, ticket).status == "open"


def test_forms_without_the_csrf_token_change_nothing(client, team, db):
    ticket = ticket_in(db, team.lilas)
    log_in(client, "lea@lilas.fr")
    for action, data in [("claim", {}), ("reply", {"body": "Bonjour"}), ("notes", {"body": "n"}),
                         ("close", {"outcome": "resolu", "theme": "email"})]:
        response = client.post(f"/console/tickets/{ticket}/{action}", data={"csrf_token": "forged", **data})
        assert response.status_code == 403
    with db.transaction() as session:
        assert session.get(Ticket, ticket).status == "open"
        assert session.scalars(select(OutboxItem)).all() == []


def test_a_colleague_who_claims_second_is_told(client, team, db):
    ticket = ticket_in(db, team.lilas)
    from fastapi.testclient import TestClient

    csrf = log_in(client, "lea@lilas.fr")
    with TestClient(client.app) as other:
        other_csrf = log_in(other, "sam@lilas.fr")
        client.post(f"/console/tickets/{ticket}/claim", data={"csrf_token": csrf})
        page = other.post(f"/console/tickets/{ticket}/claim", data={"csrf_token": other_csrf}, follow_redirects=True)
        assert "a pris ce ticket juste avant vous" in html.unescape(page.text)


def test_transfer_to_a_colleague(client, team, db):
    ticket = ticket_in(db, team.lilas)
    csrf = log_in(client, "lea@lilas.fr")
    page = client.get(f"/console/tickets/{ticket}").text
    assert "Sam" in page and "Noor" not in page  # only colleagues of the ticket's structure
    client.post(f"/console/tickets/{ticket}/claim", data={"csrf_token": csrf})
    response = client.post(f"/console/tickets/{ticket}/transfer", data={"csrf_token": csrf, "to": team.sam},
                           follow_redirects=True)
    assert "Ticket transféré." in html.unescape(response.text)
    with db.transaction() as session:
        assert session.get(Ticket, ticket).assignee_id == team.sam


def test_the_reply_preview_counts_gsm7_segments(client, team):
    csrf = log_in(client, "lea@lilas.fr")
    short = client.post("/console/api/preview", data={"body": "Bonjour, déjà là ?", "csrf_token": csrf}).json()
    assert (short["segments"], short["encoding"], short["changed"]) == (1, "GSM-7", False)
    transliterated = client.post("/console/api/preview", data={"body": "Vous êtes là ?",
                                                               "csrf_token": csrf}).json()
    assert transliterated["text"] == "Vous etes là ?" and transliterated["changed"]
    long = client.post("/console/api/preview", data={"body": "a" * 161, "csrf_token": csrf}).json()
    assert long["segments"] == 2
    euro = client.post("/console/api/preview", data={"body": "€" * 80, "csrf_token": csrf}).json()
    assert (euro["chars"], euro["segments"]) == (160, 1)  # € counts double in GSM-7
    assert client.post("/console/api/preview", data={"body": "x", "csrf_token": "no"}).status_code == 403


def test_resident_text_is_escaped_in_every_page(client, team, db):
    evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    ticket = ticket_in(db, team.lilas, text=evil)
    with db.transaction() as session:
        resident = session.scalars(select(Resident)).one()
        resident.display_name = "<b>Bob</b>"
    log_in(client, "lea@lilas.fr")
    for body in (client.get(f"/console/tickets/{ticket}").text, client.get("/console").text,
                 client.get("/console/api/queue").json()["html"],
                 client.get(f"/console/api/tickets/{ticket}").json()["html"]):
        assert "<script>window" not in body and "<img src=x" not in body and "<b>Bob" not in body
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in client.get(f"/console/tickets/{ticket}").text


def test_live_poll_of_a_ticket_brings_new_messages(client, team, db, runtime):
    runtime.settings.structure.slug = "lilas"
    opened = receive(runtime, sms("AIDE", "p1", "+33644444444"))
    log_in(client, "lea@lilas.fr")
    first = client.get(f"/console/api/tickets/{opened.ticket_id}").json()
    receive(runtime, sms("cest pour mon compte ameli", "p2", "+33644444444"))
    news = client.get(f"/console/api/tickets/{opened.ticket_id}?after={first['last_message_id']}").json()
    assert "cest pour mon compte ameli" in news["html"] and "AIDE" not in news["html"]
    assert news["status"] == "open"
