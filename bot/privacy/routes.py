"""GET /confidentialite: the short privacy notice the first-contact SMS points to when the structure
has none of its own (``structure.privacy_url``). Plain French, readable on a small phone, no script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.privacy.console import router as console_router
from bot.privacy.settings import NOTICE_PATH

__all__ = ["console_router", "router"]

router = APIRouter(tags=["privacy"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))  # autoescape on for .html


@router.get(NOTICE_PATH, response_class=HTMLResponse)
def privacy_notice(request: Request) -> HTMLResponse:
    """The privacy notice for residents: who runs the service, what is kept, how long, their rights."""
    settings = request.app.state.runtime.settings
    return templates.TemplateResponse(request, "notice.html", {
        "structure": settings.structure.name, "months": settings.retention.months,
        "twilio": settings.twilio.configured,
    })
