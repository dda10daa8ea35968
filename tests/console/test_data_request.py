"""MES DONNEES from the console's side: the data-request ticket lets a mediator of the resident's structure
download the full copy (audited); no one else can."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.config import Settings
from bot.db.models import AuditEntry, Ticket
from bot.inbound.pipeline import receive
from tests.console.conftest import log_in


def _data_request(runtime) -> int:
    runtime.settings = Settings(database_url=runtime.settings.database_url, structure={"name": "Lilas",
                                                                                      "slug": "lilas"})
    for n, body in enumerate(["bonjour", "MES DONNEES", "oui"]):
        receive(runtime, InboundMessage(channel="sms", address="+33612345678", text=body, provider_id=f"dr{n}",
                                        received_at=datetime.now(UTC), provider="simulator"))
    with runtime.db.transaction() as session:
        return session.scalars(select(Ticket.id).where(Ticket.reason == "data_request")).one()


def test_a_mediator_of_the_structure_downloads_the_copy_from_the_ticket(client, team, runtime, db):
    ticket_id = _data_request(runtime)
    log_in(client, "lea@lilas.fr")
    page = client.get(f"/console/tickets/{ticket_id}")
    assert "Demande ses données (MES DONNEES)" in page.text
    assert f'href="/console/tickets/{ticket_id}/donnees.json"' in page.text
    download = client.get(f"/console/tickets/{ticket_id}/donnees.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    data = json.loads(download.text)
    assert data["resident"]["address"] == "+33612345678"
    assert [m["body"] for m in data["messages"] if m["direction"] == "in"] == ["bonjour", "MES DONNEES", "oui"]
    with db.transaction() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "data_exported")).one()
        assert (audit.mediator_id, audit.ticket_id) == (team.lea, ticket_id)


def test_another_structure_or_a_visitor_gets_nothing(client, team, runtime):
    ticket_id = _data_request(runtime)
    anonymous = client.get(f"/console/tickets/{ticket_id}/donnees.json", follow_redirects=False)
    assert anonymous.status_code == 303 and "/console/login" in anonymous.headers["location"]
    log_in(client, "noor@eloi.fr")
    assert client.get(f"/console/tickets/{ticket_id}/donnees.json").status_code == 404
