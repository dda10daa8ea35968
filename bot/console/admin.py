"""Admin pages of the console: mediator accounts, canned replies, the audit log.

An admin manages the accounts and canned replies of their own structures only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bot.console.auth import end_all_sessions
from bot.console.routes import _now, _page, _redirect, _work
from bot.console.texts import error_text
from bot.db.models import AuditEntry, CannedReply, Mediator, Structure
from bot.mediators import MediatorError, create_mediator
from bot.tickets.service import structure_ids

router = APIRouter(prefix="/console/admin", include_in_schema=False)


def _manageable(session, admin: Mediator) -> list[Mediator]:  # noqa: ANN001
    mine = set(structure_ids(admin))
    everyone = session.scalars(select(Mediator).order_by(Mediator.display_name))
    return [m for m in everyone if mine & set(structure_ids(m)) or not m.structures]


@router.get("/mediators", response_class=HTMLResponse)
def mediators_page(request: Request) -> HTMLResponse:
    with _work(request, admin=True) as (session, auth):
        return _page(request, "admin_mediators.html", auth, {
            "mediators": _manageable(session, auth.mediator), "structures": auth.mediator.structures,
            "form": {}, "form_error": None})


@router.post("/mediators")
def add_mediator(request: Request, csrf_token: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
                 display_name: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                 role: Annotated[str, Form()] = "mediator",
                 structure: Annotated[list[int] | None, Form()] = None) -> Response:
    with _work(request, csrf=csrf_token, check_csrf=True, admin=True) as (session, auth):
        allowed = {s.id: s for s in auth.mediator.structures}
        chosen = [allowed[i] for i in structure or [] if i in allowed]
        problem = None
        if not chosen:
            problem = "choisissez au moins une structure"
        elif not display_name.strip():
            problem = "indiquez un nom"
        else:
            try:
                with session.begin_nested():
                    created = create_mediator(session, email=email, display_name=display_name.strip(),
                                              password=password, structures=chosen, role=role)
                session.add(AuditEntry(action="mediator_added", mediator_id=auth.mediator.id,
                                       detail=f"{created.id} {created.email} {created.role}", created_at=_now(request)))
            except MediatorError as exc:
                problem = str(exc)
        if problem is None:
            return _redirect("/console/admin/mediators", ok="mediator_added")
        return _page(request, "admin_mediators.html", auth, {
            "mediators": _manageable(session, auth.mediator), "structures": auth.mediator.structures,
            "form": {"email": email, "display_name": display_name, "role": role, "structure": structure or []},
            "form_error": error_text("mediator_error", detail=problem)}, status_code=422)


@router.post("/mediators/{mediator_id}/active")
def set_active(request: Request, mediator_id: int, csrf_token: Annotated[str, Form()] = "",
               active: Annotated[str, Form()] = "0") -> Response:
    with _work(request, csrf=csrf_token, check_csrf=True, admin=True) as (session, auth):
        target = session.get(Mediator, mediator_id)
        if target is None or target not in _manageable(session, auth.mediator) or target.id == auth.mediator.id:
            return _redirect("/console/admin/mediators", error="forbidden")
        target.active = active == "1"
        if not target.active:
            end_all_sessions(session, target.id)
        session.add(AuditEntry(action="mediator_enabled" if target.active else "mediator_disabled",
                               mediator_id=auth.mediator.id, detail=f"{target.id} {target.email}",
                               created_at=_now(request)))
    return _redirect("/console/admin/mediators", ok="mediator_enabled" if active == "1" else "mediator_disabled")


# -- canned replies -------------------------------------------------------------------------------


def _canned(session, admin: Mediator) -> list[CannedReply]:  # noqa: ANN001
    ids = structure_ids(admin)
    query = select(CannedReply).where(CannedReply.structure_id.is_(None) | CannedReply.structure_id.in_(ids))
    return list(session.scalars(query.order_by(CannedReply.title)))


@router.get("/canned", response_class=HTMLResponse)
def canned_page(request: Request) -> HTMLResponse:
    with _work(request, admin=True) as (session, auth):
        return _page(request, "admin_canned.html", auth, {
            "canned": _canned(session, auth.mediator), "structures": auth.mediator.structures})


@router.post("/canned")
def save_canned(request: Request, csrf_token: Annotated[str, Form()] = "", canned_id: Annotated[int, Form()] = 0,
                title: Annotated[str, Form()] = "", body: Annotated[str, Form()] = "",
                structure_id: Annotated[int, Form()] = 0, delete: Annotated[str, Form()] = "") -> Response:
    with _work(request, csrf=csrf_token, check_csrf=True, admin=True) as (session, auth):
        mine = {s.id for s in auth.mediator.structures}
        existing = None
        if canned_id:
            existing = next((c for c in _canned(session, auth.mediator) if c.id == canned_id), None)
            if existing is None:
                return _redirect("/console/admin/canned", error="forbidden")
        if delete and existing is not None:
            session.delete(existing)
            session.add(AuditEntry(action="canned_deleted", mediator_id=auth.mediator.id,
                                   detail=existing.title[:200], created_at=_now(request)))
            return _redirect("/console/admin/canned", ok="canned_deleted")
        if not title.strip() or not body.strip():
            return _redirect("/console/admin/canned", error="empty")
        reply = existing or CannedReply()
        reply.title, reply.body = title.strip()[:120], body.strip()[:1000]
        reply.structure_id = structure_id if structure_id in mine else None
        session.add(reply)
        session.add(AuditEntry(action="canned_saved", mediator_id=auth.mediator.id, detail=reply.title[:200],
                               created_at=_now(request)))
    return _redirect("/console/admin/canned", ok="canned_saved")


# -- audit log ------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ticket: int | None = None) -> HTMLResponse:
    from bot.db.models import Ticket
    from bot.tickets.service import visible

    with _work(request, admin=True) as (session, auth):
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
        # Entries about tickets of other structures stay hidden; account and login entries are
        # shown for the admin's colleagues.
        visible_tickets = select(Ticket.id).where(visible(auth.mediator))
        colleagues = [m.id for m in _manageable(session, auth.mediator)]
        query = query.where(AuditEntry.ticket_id.in_(visible_tickets)
                            | (AuditEntry.ticket_id.is_(None) & AuditEntry.mediator_id.in_(colleagues)))
        if ticket is not None:
            query = query.where(AuditEntry.ticket_id == ticket)
        entries = list(session.scalars(query))
        names = {m.id: m.display_name for m in session.scalars(select(Mediator))}
        structures = {s.id: s.name for s in session.scalars(select(Structure))}
        return _page(request, "admin_audit.html", auth, {"entries": entries, "names": names,
                                                         "structures": structures, "ticket": ticket})
