"""The console side of MES DONNEES: the mediator handling a data request downloads the full copy.

A resident who confirms MES DONNEES by SMS gets a summary and a ticket opens (reason
``data_request``). From that ticket a mediator of the resident's structure downloads everything
held about them as JSON (the same as ``relais residents export``) and hands it over — printed at
the reception, or by e-mail to an address the resident gives. Each download is audited.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.console.routes import _now, _work
from bot.db.models import AuditEntry, Resident
from bot.privacy.residents import export_resident
from bot.tickets import service
from bot.tickets.service import TicketError

router = APIRouter(prefix="/console", tags=["console"])


@router.get("/tickets/{ticket_id}/donnees.json")
def resident_data(request: Request, ticket_id: int) -> Response:
    """Everything held about the ticket's resident, as a JSON file to hand over to them."""
    with _work(request) as (session, auth):
        try:
            ticket = service.get_ticket(session, auth.mediator, ticket_id)
        except TicketError:
            return Response(status_code=404)
        resident = session.get(Resident, ticket.resident_id)
        if resident is None:
            return Response(status_code=404)
        data = export_resident(session, resident)
        session.add(AuditEntry(action="data_exported", mediator_id=auth.mediator.id, ticket_id=ticket.id,
                               resident_id=resident.id, detail="console", created_at=_now(request)))
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="donnees-ticket-{ticket_id}.json"',
                 "Cache-Control": "no-store"},
    )
