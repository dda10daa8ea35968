"""'Envois en échec': dead letters of the mediator's structures, masked, retried with an audited button."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from sqlalchemy import select

from bot.db.models import AuditEntry, Message, OutboxItem, Resident
from bot.outbox.dispatcher import dispatch_due
from bot.outbox.queue import enqueue
from tests.console.conftest import csrf_of, log_in


def _dead_letter(db, structure_id: int, address: str, text: str = "Votre atelier est demain a 14h.") -> int:
    now = datetime.now(UTC)
    with db.transaction() as session:
        resident = Resident(channel="sms", address=address, structure_id=structure_id)
        session.add(resident)
        session.flush()
        item = enqueue(session, resident, text, provider="simulator", now=now, kind="reply")
        item.status, item.attempts, item.error_code = "dead", 6, "timeout"
        item.error_message = "ReadTimeout"
        session.get(Message, item.message_id).status = "failed"
        return item.id


def _status(db, outbox_id: int) -> str:
    with db.transaction() as session:
        return session.get(OutboxItem, outbox_id).status


def test_the_page_lists_the_structures_dead_letters_with_numbers_masked(client, team, db):
    mine = _dead_letter(db, team.lilas, "+33612345678")
    other = _dead_letter(db, team.eloi, "+33798765432", text="Texte de Saint-Eloi")
    log_in(client, "lea@lilas.fr")

    page = html.unescape(client.get("/console/envois").text)

    assert "Envois en échec" in page
    assert f'data-outbox-id="{mine}"' in page and f'data-outbox-id="{other}"' not in page
    assert "+336******78" in page and "+33612345678" not in page
    assert "ReadTimeout" in page and "Votre atelier est demain" in page and "Saint-Eloi" not in page
    assert 'id="badge-dead-letters" aria-label="envois en échec">1<' in page  # the count in the navigation
    # Every console page shows the count, not only this one.
    assert 'id="badge-dead-letters" aria-label="envois en échec">1<' in html.unescape(client.get("/console").text)


def test_retry_puts_the_message_back_in_the_queue_and_it_is_sent(client, team, db, runtime):
    outbox_id = _dead_letter(db, team.lilas, "+33612345678")
    log_in(client, "sam@lilas.fr")
    csrf = csrf_of(client.get("/console/envois").text)

    response = client.post(f"/console/envois/{outbox_id}/retry", data={"csrf_token": csrf}, follow_redirects=True)

    page = html.unescape(response.text)
    assert "Message remis dans la file d'envoi." in page and "Aucun envoi en échec" in page
    with db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        assert (item.status, item.attempts) == ("pending", 0)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "dead_letter_retried")).one()
        assert entry.mediator_id == team.sam and entry.resident_id == item.resident_id
        assert f"n°{outbox_id}" in entry.detail
    assert dispatch_due(runtime).sent == [outbox_id]
    with db.transaction() as session:
        assert session.get(Message, session.get(OutboxItem, outbox_id).message_id).status in {"sent", "delivered"}
    # A second click (another tab, a colleague) finds nothing to retry.
    again = client.post(f"/console/envois/{outbox_id}/retry", data={"csrf_token": csrf}, follow_redirects=True)
    assert "n'est plus en échec" in html.unescape(again.text)


def test_retry_needs_the_csrf_token(client, team, db):
    outbox_id = _dead_letter(db, team.lilas, "+33612345678")
    log_in(client, "lea@lilas.fr")
    response = client.post(f"/console/envois/{outbox_id}/retry", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert _status(db, outbox_id) == "dead"


def test_a_mediator_cannot_retry_another_structures_dead_letter(client, team, db):
    outbox_id = _dead_letter(db, team.lilas, "+33612345678")
    csrf = log_in(client, "noor@eloi.fr")
    response = client.post(f"/console/envois/{outbox_id}/retry", data={"csrf_token": csrf}, follow_redirects=True)
    assert "n'est plus en échec" in html.unescape(response.text)
    assert _status(db, outbox_id) == "dead"


def test_the_page_needs_a_login(client, team):
    response = client.get("/console/envois", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
