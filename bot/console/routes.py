"""The mediators' console at /console: server-rendered pages, forms, and small JSON polls.

Every handler runs in one database transaction that first loads the session from its cookie
(and, for a form, checks its CSRF token); ticket access then goes through bot/tickets/service.py,
which only ever sees the mediator's own structures.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.auth import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    Authenticated,
    LoginThrottle,
    Signer,
    authenticate,
    end_session,
    load_session,
    new_token,
    start_session,
    tokens_match,
)
from bot.console.texts import error_text, ok_text
from bot.console.views import filters, waited
from bot.db.models import AuditEntry, CannedReply, Mediator, Message, Resident, Structure, Ticket, TicketNote
from bot.runtime import Runtime
from bot.sms.gsm7 import non_gsm7_characters, prepare
from bot.tickets import service
from bot.tickets.service import Closing, TicketError
from bot.tickets.themes import ADMIN_PROCEDURES, outcomes, subthemes, themes

HERE = Path(__file__).parent
STATIC_FILES = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on for .html
templates.env.filters.update(filters())


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, JSON polls answer 401."""

    def __init__(self, json: bool = False) -> None:
        self.json = json


class CsrfRejected(Exception):
    pass


class AdminOnly(Exception):
    pass


@dataclass
class Console:
    """What the console keeps for the life of the app."""

    signer: Signer
    throttle: LoginThrottle


def console_state(request: Request) -> Console:
    state = getattr(request.app.state, "console", None)
    if state is None:
        settings = _runtime(request).settings
        state = Console(Signer(settings.secret_key), LoginThrottle(settings.console))
        request.app.state.console = state
    return state


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _now(request: Request) -> datetime:
    return _runtime(request).clock()


def _secure(request: Request) -> bool:
    settings = _runtime(request).settings
    explicit = settings.console.secure_cookies
    return settings.public_url.startswith("https") if explicit is None else explicit


@contextmanager
def _work(request: Request, *, csrf: str | None = None, check_csrf: bool = False, admin: bool = False,
          json: bool = False) -> Iterator[tuple[Session, Authenticated]]:
    runtime = _runtime(request)
    settings = runtime.settings.console
    token = console_state(request).signer.session_token(request.cookies.get(SESSION_COOKIE),
                                                        settings.session_hours * 3600)
    with runtime.db.transaction() as session:
        auth = load_session(session, token, _now(request))
        if auth is None:
            raise LoginRequired(json)
        if check_csrf and not tokens_match(auth.csrf_token, csrf):
            raise CsrfRejected()
        if admin and auth.mediator.role != "admin":
            raise AdminOnly()
        yield session, auth


def _redirect(path: str, **params: object) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def _page(request: Request, name: str, auth: Authenticated | None, context: dict[str, Any],
          status_code: int = 200) -> HTMLResponse:
    settings = _runtime(request).settings.console
    base = {
        "auth": auth,
        "me": auth.mediator if auth else None,
        "csrf": auth.csrf_token if auth else None,
        "ok": ok_text(request.query_params.get("ok")),
        "error": error_text(request.query_params.get("error")),
        "poll_ms": int(settings.poll_seconds * 1000),
        "now": _now(request),
        "waited": waited,
        "dead_letters": _dead_letter_count(auth),
    }
    base.update(context)
    response = templates.TemplateResponse(request, name, base, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _dead_letter_count(auth: Authenticated | None) -> int | None:
    """Messages that could not be sent, for the navigation (bot/outbox/dead_letters.py)."""
    from sqlalchemy.orm import object_session

    from bot.outbox import dead_letters

    session = object_session(auth.mediator) if auth else None
    return dead_letters.count(session, auth.mediator) if session is not None and auth else None


def install(app: Any) -> None:
    """Mount the console on ``app`` with its error pages."""
    from bot.console import admin, sending, workshops

    app.include_router(router)
    app.include_router(admin.router)
    app.include_router(sending.router)
    app.include_router(workshops.router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if exc.json:
            return JSONResponse({"detail": "login required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _redirect("/console/login", next=target if request.method == "GET" else None)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _exc: CsrfRejected) -> Response:
        return _page(request, "message.html", None, {"title": "Formulaire expiré", "text": error_text("csrf")},
                     status_code=403)

    @app.exception_handler(AdminOnly)
    async def _admin_only(request: Request, _exc: AdminOnly) -> Response:
        return _page(request, "message.html", None, {"title": "Accès refusé", "text": error_text("forbidden")},
                     status_code=403)


# -- static files ---------------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name],
                    headers={"Cache-Control": "public, max-age=300"})


# -- login and logout -----------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # Only paths of the console: never an open redirect to another site.
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002 - the usual name
    token = new_token()
    response = _page(request, "login.html", None, {"login_csrf": token, "next": _safe_next(next), "email": ""})
    response.set_cookie(PRELOGIN_COOKIE, console_state(request).signer.prelogin_cookie(token), httponly=True,
                        samesite="strict", secure=_secure(request), path="/console")
    return response


@router.post("/login")
def login(request: Request, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/console") -> Response:  # noqa: A002
    state = console_state(request)
    runtime = _runtime(request)
    now = _now(request)
    expected = state.signer.prelogin_token(request.cookies.get(PRELOGIN_COOKIE))
    if not tokens_match(expected, csrf_token):
        raise CsrfRejected()
    address = request.client.host if request.client else "-"

    def again(code: str, status_code: int) -> HTMLResponse:
        token = new_token()
        page = _page(request, "login.html", None, {"login_csrf": token, "next": _safe_next(next), "email": email,
                                                   "error": error_text(code)}, status_code=status_code)
        page.set_cookie(PRELOGIN_COOKIE, state.signer.prelogin_cookie(token), httponly=True, samesite="strict",
                        secure=_secure(request), path="/console")
        return page

    with runtime.db.transaction() as session:
        if not state.throttle.allowed(session, email, address, now):
            return again("login_throttled", 429)
        mediator = authenticate(session, email, password)
        if mediator is None:
            state.throttle.failed(session, email, address, now)
            failed = True
        else:
            failed = False
            token = start_session(session, mediator, now, runtime.settings.console)
    if failed:
        return again("login_failed", 401)
    response = _redirect(_safe_next(next))
    # A new session id at every login: a cookie planted before login is worth nothing after it.
    response.set_cookie(SESSION_COOKIE, state.signer.session_cookie(token), httponly=True, samesite="lax",
                        secure=_secure(request), path="/console",
                        max_age=runtime.settings.console.session_hours * 3600)
    response.delete_cookie(PRELOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
        end_session(session, auth.session_id, auth.mediator.id, _now(request))
    response = _redirect("/console/login", ok="logged_out")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


# -- the queue ------------------------------------------------------------------------------------


def _queue_context(session: Session, auth: Authenticated, state: str, mine: bool, page: int,
                   page_size: int) -> dict[str, Any]:
    found = service.queue(session, auth.mediator, state, page=page, page_size=page_size, mine=mine)
    assignees = {m.id: m.display_name for m in session.scalars(
        select(Mediator).where(Mediator.id.in_({t.assignee_id for t in found.tickets if t.assignee_id})))}
    last_in = _last_inbound(session, [t.id for t in found.tickets])
    return {
        "tickets": found.tickets, "total": found.total, "state": state, "mine": mine, "page": page,
        "pages": max(1, -(-found.total // page_size)), "assignees": assignees, "last_in": last_in,
        "counts": service.counts(session, auth.mediator), "newest_open": _newest_open(session, auth),
    }


def _last_inbound(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    """The latest message of each ticket, cut short, for the queue's preview line."""
    if not ticket_ids:
        return {}
    from sqlalchemy import func

    latest = (select(func.max(Message.id)).where(Message.ticket_id.in_(ticket_ids), Message.direction == "in")
              .group_by(Message.ticket_id))
    rows = session.execute(select(Message.ticket_id, Message.body).where(Message.id.in_(latest))).all()
    return {ticket_id: body[:140] for ticket_id, body in rows}


def _newest_open(session: Session, auth: Authenticated) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.max(Ticket.id)).where(service.visible(auth.mediator),
                                                            Ticket.status == "open")) or 0


def _state_param(state: str) -> str:
    return state if state in service.STATES else "open"


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, state: str = "open", mine: bool = False,
               page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    size = _runtime(request).settings.console.page_size
    with _work(request) as (session, auth):
        context = _queue_context(session, auth, _state_param(state), mine, page, size)
        context["digests"] = _digests(request, session, auth)
        return _page(request, "queue.html", auth, context)


def _digests(request: Request, session: Session, auth: Authenticated) -> list[tuple[str, list[str]]]:
    """The latest daily digest of each of the mediator's structures (bot/digest/), as title and lines."""
    from zoneinfo import ZoneInfo

    from bot.digest.build import digest_lines
    from bot.digest.job import latest_digests

    settings = _runtime(request).settings.digest
    now = _now(request)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    return [digest_lines(d, now, settings)
            for d in latest_digests(session, service.structure_ids(auth.mediator), today)]


@router.get("/api/queue")
def queue_poll(request: Request, state: str = "open", mine: bool = False,
               page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> JSONResponse:
    """What the queue page needs every few seconds: counts and its rows, rendered (and escaped) here."""
    size = _runtime(request).settings.console.page_size
    with _work(request, json=True) as (session, auth):
        context = _queue_context(session, auth, _state_param(state), mine, page, size)
        html = templates.get_template("_queue_rows.html").render(
            {**context, "now": _now(request), "waited": waited})
        return JSONResponse({"counts": context["counts"], "newest_open": context["newest_open"],
                             "total": context["total"], "html": html}, headers={"Cache-Control": "no-store"})


@router.get("/api/counts")
def counts_poll(request: Request) -> JSONResponse:
    with _work(request, json=True) as (session, auth):
        return JSONResponse({"counts": service.counts(session, auth.mediator),
                             "newest_open": _newest_open(session, auth)}, headers={"Cache-Control": "no-store"})


@router.post("/duty")
def toggle_duty(request: Request, csrf_token: Annotated[str, Form()] = "",
                on_duty: Annotated[str, Form()] = "0") -> Response:
    with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
        mediator = session.get(Mediator, auth.mediator.id)
        assert mediator is not None
        mediator.on_duty = on_duty == "1"
        session.add(AuditEntry(action="duty_on" if mediator.on_duty else "duty_off", mediator_id=mediator.id,
                               created_at=_now(request)))
    return _redirect("/console", ok="duty_on" if on_duty == "1" else "duty_off")


# -- one ticket -----------------------------------------------------------------------------------


def _ticket_or_404(request: Request, session: Session, auth: Authenticated, ticket_id: int) -> Ticket | None:
    try:
        return service.get_ticket(session, auth.mediator, ticket_id)
    except TicketError:
        return None


def _not_found(request: Request, auth: Authenticated) -> HTMLResponse:
    return _page(request, "message.html", auth, {"title": "Ticket introuvable", "text": error_text("not_found")},
                 status_code=404)


def _authors(session: Session, messages: list[Message], notes: list[TicketNote],
             audit: list[AuditEntry]) -> dict[int, str]:
    ids = {m.author_id for m in messages if m.author_id} | {n.mediator_id for n in notes}
    ids |= {a.mediator_id for a in audit if a.mediator_id}
    if not ids:
        return {}
    return {m.id: m.display_name for m in session.scalars(select(Mediator).where(Mediator.id.in_(ids)))}


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: int) -> HTMLResponse:
    with _work(request) as (session, auth):
        ticket = _ticket_or_404(request, session, auth, ticket_id)
        if ticket is None:
            return _not_found(request, auth)
        resident = session.get(Resident, ticket.resident_id)
        messages = service.history(session, ticket.resident_id)
        notes = list(session.scalars(select(TicketNote).where(TicketNote.ticket_id == ticket.id)
                                     .order_by(TicketNote.id)))
        audit = list(session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id)
                                     .order_by(AuditEntry.id)))
        canned = list(session.scalars(
            select(CannedReply).where((CannedReply.structure_id.is_(None))
                                      | (CannedReply.structure_id == ticket.structure_id))
            .order_by(CannedReply.title)))
        structure = session.get(Structure, ticket.structure_id) if ticket.structure_id else None
        context = {
            "ticket": ticket, "resident": resident,
            "assignee": session.get(Mediator, ticket.assignee_id) if ticket.assignee_id else None,
            "messages": messages, "notes": notes, "audit": audit,
            "canned": canned, "structure": structure, "authors": _authors(session, messages, notes, audit),
            "past": service.past_tickets(session, auth.mediator, ticket.resident_id, exclude=ticket.id),
            "colleagues": [m for m in service.colleagues(session, ticket)
                           if m.id not in (ticket.assignee_id, auth.mediator.id)],
            "themes": themes(), "subthemes": subthemes(), "outcomes": outcomes(), "admin_theme": ADMIN_PROCEDURES,
            "counts": service.counts(session, auth.mediator), "newest_open": _newest_open(session, auth),
            "last_message_id": messages[-1].id if messages else 0,
            "error": error_text(request.query_params.get("error"), limit=service.MAX_REPLY_CHARS),
        }
        return _page(request, "ticket.html", auth, context)


@router.get("/api/tickets/{ticket_id}")
def ticket_poll(request: Request, ticket_id: int, after: int = 0) -> JSONResponse:
    """New messages of the ticket's resident since ``after``, rendered, plus the ticket's state."""
    with _work(request, json=True) as (session, auth):
        ticket = _ticket_or_404(request, session, auth, ticket_id)
        if ticket is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        messages = list(session.scalars(select(Message).where(Message.resident_id == ticket.resident_id,
                                                              Message.id > after).order_by(Message.id)))
        html = templates.get_template("_messages.html").render(
            {"messages": messages, "authors": _authors(session, messages, [], [])})
        return JSONResponse({
            "html": html, "last_message_id": messages[-1].id if messages else after, "status": ticket.status,
            "assignee_id": ticket.assignee_id, "counts": service.counts(session, auth.mediator),
            "newest_open": _newest_open(session, auth),
        }, headers={"Cache-Control": "no-store"})


def _ticket_action(request: Request, ticket_id: int, csrf_token: str, action: Any, ok: str) -> Response:
    try:
        with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
            result = action(session, auth.mediator, _now(request))
    except TicketError as exc:
        return _redirect(f"/console/tickets/{ticket_id}", error=exc.code)
    if result is False:
        return _redirect(f"/console/tickets/{ticket_id}", ok="claim_lost")
    return _redirect(f"/console/tickets/{ticket_id}", ok=ok)


@router.post("/tickets/{ticket_id}/claim")
def claim(request: Request, ticket_id: int, csrf_token: Annotated[str, Form()] = "") -> Response:
    return _ticket_action(request, ticket_id, csrf_token,
                          lambda s, m, now: service.claim(s, m, ticket_id, now), "claimed")


@router.post("/tickets/{ticket_id}/transfer")
def transfer(request: Request, ticket_id: int, csrf_token: Annotated[str, Form()] = "",
             to: Annotated[int, Form()] = 0) -> Response:
    return _ticket_action(request, ticket_id, csrf_token,
                          lambda s, m, now: service.transfer(s, m, ticket_id, to, now), "transferred")


@router.post("/tickets/{ticket_id}/reply")
def reply(request: Request, ticket_id: int, csrf_token: Annotated[str, Form()] = "",
          body: Annotated[str, Form()] = "") -> Response:
    return _ticket_action(request, ticket_id, csrf_token,
                          lambda s, m, now: service.reply(s, m, ticket_id, body, now), "replied")


@router.post("/tickets/{ticket_id}/notes")
def note(request: Request, ticket_id: int, csrf_token: Annotated[str, Form()] = "",
         body: Annotated[str, Form()] = "") -> Response:
    return _ticket_action(request, ticket_id, csrf_token,
                          lambda s, m, now: service.add_note(s, m, ticket_id, body, now), "noted")


@router.post("/tickets/{ticket_id}/close")
def close(request: Request, ticket_id: int, csrf_token: Annotated[str, Form()] = "",
          outcome: Annotated[str, Form()] = "", theme: Annotated[str, Form()] = "",
          subtheme: Annotated[str, Form()] = "", detail: Annotated[str, Form()] = "") -> Response:
    closing = Closing(outcome, theme, subtheme or None, detail or None)
    reminders = _runtime(request).settings.reminders
    return _ticket_action(request, ticket_id, csrf_token,
                          lambda s, m, now: service.close(s, m, ticket_id, closing, now, reminders), "closed")


@router.post("/api/preview")
def preview(request: Request, body: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "sms",
            csrf_token: Annotated[str, Form()] = "") -> JSONResponse:
    """What the reply will look like on the phone: the GSM-7 text, its encoding and SMS count."""
    with _work(request, csrf=csrf_token, check_csrf=True, json=True):
        pass
    text = body.strip()
    if channel != "sms":
        return JSONResponse({"text": text, "chars": len(text), "encoding": None, "segments": None,
                             "changed": False, "kept_outside": []})
    prepared = prepare(text)
    return JSONResponse({
        "text": prepared.text, "chars": prepared.units, "encoding": prepared.encoding,
        "segments": prepared.segments if text else 0, "changed": prepared.text != text,
        "kept_outside": non_gsm7_characters(prepared.text),
        "per_segment": (160 if prepared.segments <= 1 else 153) if prepared.encoding == "GSM-7"
        else (70 if prepared.segments <= 1 else 67),
    })
