"""Console page "Envois en échec": messages the outbox gave up on, and a button to send them again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.console.routes import _now, _page, _redirect, _work
from bot.outbox import dead_letters

router = APIRouter(prefix="/console/envois", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def dead_letters_page(request: Request) -> HTMLResponse:
    with _work(request) as (session, auth):
        return _page(request, "dead_letters.html", auth, {
            "letters": dead_letters.listing(session, auth.mediator),
            "max_attempts": request.app.state.runtime.settings.outbox.max_attempts,
            "limit": dead_letters.PAGE_LIMIT,
        })


@router.post("/{outbox_id}/retry")
def retry(request: Request, outbox_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
        queued = dead_letters.retry(session, auth.mediator, outbox_id, _now(request))
    if not queued:
        return _redirect("/console/envois", error="dead_letter_gone")
    return _redirect("/console/envois", ok="dead_letter_retried")
