"""Console pages for workshops: list, create, edit, cancel, attendance, iCalendar export.

Everything goes through bot/workshops/service.py (seats, waiting list, reminders, the SMS residents
get); this module reads forms, checks them, and keeps each mediator to their own structures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.console.auth import Authenticated
from bot.console.routes import _now, _page, _redirect, _runtime, _work
from bot.console.texts import error_text, form_error_text
from bot.db.models import AuditEntry, Workshop
from bot.tickets.service import structure_ids
from bot.tickets.themes import themes
from bot.workshops.dates import PARIS
from bot.workshops.ical import export_calendar
from bot.workshops.service import (
    cancel_workshop,
    create_workshop,
    enrolments_of,
    mark_attendance,
    update_workshop,
    workshops_with_attendance,
)
from bot.workshops.texts import overflowing_texts

router = APIRouter(prefix="/console/workshops", include_in_schema=False)

LEVELS = {"debutant": "Débutant", "intermediaire": "Intermédiaire"}
MAX_CAPACITY = 30
PAST_DAYS_SHOWN = 180


@dataclass
class WorkshopForm:
    """What the mediator typed, as typed (shown again with the errors when something is wrong)."""

    structure_id: str = ""
    title: str = ""
    description: str = ""
    place_name: str = ""
    place_address: str = ""
    day: str = ""
    start: str = ""
    end: str = ""
    capacity: str = "6"
    level: str = "debutant"
    theme: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, workshop: Workshop) -> WorkshopForm:
        starts, ends = workshop.starts_at.astimezone(PARIS), workshop.ends_at.astimezone(PARIS)
        return cls(str(workshop.structure_id), workshop.title, workshop.description or "", workshop.place_name,
                   workshop.place_address or "", starts.date().isoformat(), starts.strftime("%H:%M"),
                   ends.strftime("%H:%M"), str(workshop.capacity), workshop.level, workshop.theme or "")

    def values(self, allowed_structures: set[int], now: datetime, *, new: bool) -> dict[str, Any] | None:
        """The workshop's fields, or None with ``errors`` filled (field -> French text)."""
        errors = self.errors
        values: dict[str, Any] = {
            "title": " ".join(self.title.split()), "description": self.description.strip() or None,
            "place_name": " ".join(self.place_name.split()), "place_address": " ".join(self.place_address.split())
            or None, "level": self.level, "theme": self.theme or None,
        }
        if new:
            try:
                values["structure_id"] = int(self.structure_id)
            except ValueError:
                values["structure_id"] = None
            if values["structure_id"] not in allowed_structures:
                errors["structure_id"] = form_error_text("structure")
        if not values["title"]:
            errors["title"] = form_error_text("title_missing")
        elif len(values["title"]) > 120:
            errors["title"] = form_error_text("too_long", limit=120)
        if not values["place_name"]:
            errors["place_name"] = form_error_text("place_missing")
        elif len(values["place_name"]) > 200:
            errors["place_name"] = form_error_text("too_long", limit=200)
        if values["place_address"] and len(values["place_address"]) > 300:
            errors["place_address"] = form_error_text("too_long", limit=300)
        if values["description"] and len(values["description"]) > 2000:
            errors["description"] = form_error_text("too_long", limit=2000)
        if self.level not in LEVELS:
            errors["level"] = form_error_text("level")
        if values["theme"] and values["theme"] not in themes():
            errors["theme"] = form_error_text("theme")
        try:
            capacity = int(self.capacity)
        except ValueError:
            capacity = 0
        if not 1 <= capacity <= MAX_CAPACITY:
            errors["capacity"] = form_error_text("capacity", limit=MAX_CAPACITY)
        values["capacity"] = capacity
        starts_at = ends_at = None
        try:
            day = date.fromisoformat(self.day)
        except ValueError:
            errors["day"] = form_error_text("day")
        else:
            try:
                starts_at = datetime.combine(day, time.fromisoformat(self.start), tzinfo=PARIS)
            except ValueError:
                errors["start"] = form_error_text("time")
            try:
                ends_at = datetime.combine(day, time.fromisoformat(self.end), tzinfo=PARIS)
            except ValueError:
                errors["end"] = form_error_text("time")
        if starts_at is not None and starts_at <= now:
            errors["day"] = form_error_text("past")
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            errors["end"] = form_error_text("end_before_start")
        if starts_at is not None and "title" not in errors and "place_name" not in errors \
                and overflowing_texts(values["title"], values["place_name"], starts_at):
            errors["title"] = form_error_text("sms_too_long")
        if errors:
            return None
        values["starts_at"] = starts_at.astimezone(now.tzinfo)  # type: ignore[union-attr]
        values["ends_at"] = ends_at.astimezone(now.tzinfo)  # type: ignore[union-attr]
        return values


def _form_params(structure_id: str, title: str, description: str, place_name: str, place_address: str, day: str,
                 start: str, end: str, capacity: str, level: str, theme: str) -> WorkshopForm:
    return WorkshopForm(structure_id, title, description, place_name, place_address, day, start, end, capacity,
                        level, theme)


FormField = Annotated[str, Form()]


def _workshop_or_none(session: Session, auth: Authenticated, workshop_id: int) -> Workshop | None:
    """The workshop if it belongs to one of the mediator's structures (others look as if they did not exist)."""
    workshop = session.get(Workshop, workshop_id)
    if workshop is None or workshop.structure_id not in structure_ids(auth.mediator):
        return None
    return workshop


def _not_found(request: Request, auth: Authenticated) -> HTMLResponse:
    return _page(request, "message.html", auth, {"title": "Atelier introuvable",
                                                 "text": error_text("workshop_not_found")}, status_code=404)


def _audit(session: Session, auth: Authenticated, action: str, workshop: Workshop, now: datetime,
           extra: str = "") -> None:
    detail = f"atelier {workshop.id} {workshop.title}{(' ' + extra) if extra else ''}"
    session.add(AuditEntry(action=action, mediator_id=auth.mediator.id, detail=detail[:500], created_at=now))


def _form_context(auth: Authenticated) -> dict[str, Any]:
    return {"structures": auth.mediator.structures, "levels": LEVELS, "themes": themes()}


@router.get("", response_class=HTMLResponse)
def workshops_page(request: Request) -> HTMLResponse:
    now = _now(request)
    with _work(request) as (session, auth):
        mine = structure_ids(auth.mediator)
        upcoming = [w for w in workshops_with_attendance(session, structure_ids=mine, since=now - timedelta(days=1))
                    if w.workshop.ends_at > now]
        past = [w for w in workshops_with_attendance(session, structure_ids=mine,
                                                     since=now - timedelta(days=PAST_DAYS_SHOWN))
                if w.workshop.ends_at <= now]
        past.reverse()  # the most recent first
        return _page(request, "workshops.html", auth, {
            "upcoming": upcoming, "past": past, "levels": LEVELS, "structures": auth.mediator.structures})


@router.get("/new", response_class=HTMLResponse)
def new_workshop_page(request: Request) -> HTMLResponse:
    with _work(request) as (_session, auth):
        structures = auth.mediator.structures
        form = WorkshopForm(structure_id=str(structures[0].id) if len(structures) == 1 else "")
        return _page(request, "workshop_new.html", auth, {"form": form, **_form_context(auth)})


@router.post("")
def add_workshop(request: Request, csrf_token: FormField = "", structure_id: FormField = "", title: FormField = "",
                 description: FormField = "", place_name: FormField = "", place_address: FormField = "",
                 day: FormField = "", start: FormField = "", end: FormField = "", capacity: FormField = "",
                 level: FormField = "debutant", theme: FormField = "") -> Response:
    now = _now(request)
    form = _form_params(structure_id, title, description, place_name, place_address, day, start, end, capacity,
                        level, theme)
    with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
        values = form.values(set(structure_ids(auth.mediator)), now, new=True)
        if values is None:
            return _page(request, "workshop_new.html", auth, {"form": form, **_form_context(auth),
                                                              "error": error_text("form_invalid")}, status_code=422)
        workshop = create_workshop(session, **values)
        _audit(session, auth, "workshop_created", workshop, now)
        workshop_id = workshop.id
    return _redirect(f"/console/workshops/{workshop_id}", ok="workshop_created")


STATUS_LABELS = {"confirmed": "Inscrit", "waiting": "Liste d'attente", "cancelled": "Désinscrit",
                 "attended": "Présent", "no_show": "Absent"}


def _detail(request: Request, session: Session, auth: Authenticated, workshop: Workshop,
            form: WorkshopForm | None = None, status_code: int = 200, error: str | None = None) -> HTMLResponse:
    now = _now(request)
    enrolments = enrolments_of(session, workshop.id)
    waiting = [e for e, _r in enrolments if e.status == "waiting"]
    waiting.sort(key=lambda e: (e.updated_at, e.id))
    context: dict[str, Any] = {
        "workshop": workshop, "enrolments": enrolments, "status_labels": STATUS_LABELS,
        "waiting_rank": {e.id: n for n, e in enumerate(waiting, start=1)},
        "seats": sum(1 for e, _r in enrolments if e.status in ("confirmed", "attended", "no_show")),
        "started": workshop.starts_at <= now, "editable": workshop.status == "scheduled" and workshop.starts_at > now,
        "form": form or WorkshopForm.of(workshop), **_form_context(auth),
        "level_label": LEVELS.get(workshop.level, workshop.level),
        "theme_label": themes().get(workshop.theme or "", workshop.theme or ""),
    }
    if error:
        context["error"] = error
    return _page(request, "workshop.html", auth, context, status_code=status_code)


@router.get("/ateliers.ics")
def calendar(request: Request, structure: int | None = None) -> Response:
    with _work(request) as (session, auth):
        mine = structure_ids(auth.mediator)
        chosen = structure if structure is not None else (mine[0] if mine else None)
        if chosen is None or chosen not in mine:
            return _not_found(request, auth)
        data = export_calendar(session, chosen, now=_now(request))
    return Response(data, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ateliers.ics"',
                             "Cache-Control": "no-store"})


@router.get("/{workshop_id}", response_class=HTMLResponse)
def workshop_page(request: Request, workshop_id: int) -> HTMLResponse:
    with _work(request) as (session, auth):
        workshop = _workshop_or_none(session, auth, workshop_id)
        if workshop is None:
            return _not_found(request, auth)
        return _detail(request, session, auth, workshop)


@router.post("/{workshop_id}")
def edit_workshop(request: Request, workshop_id: int, csrf_token: FormField = "", title: FormField = "",
                  description: FormField = "", place_name: FormField = "", place_address: FormField = "",
                  day: FormField = "", start: FormField = "", end: FormField = "", capacity: FormField = "",
                  level: FormField = "debutant", theme: FormField = "") -> Response:
    now = _now(request)
    with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
        workshop = _workshop_or_none(session, auth, workshop_id)
        if workshop is None:
            return _not_found(request, auth)
        if workshop.status != "scheduled" or workshop.starts_at <= now:
            return _redirect(f"/console/workshops/{workshop_id}", error="workshop_not_editable")
        form = _form_params(str(workshop.structure_id), title, description, place_name, place_address, day, start,
                            end, capacity, level, theme)
        values = form.values(set(structure_ids(auth.mediator)), now, new=False)
        seats = sum(1 for e, _r in enrolments_of(session, workshop.id) if e.status == "confirmed")
        if values is not None and values["capacity"] < seats:
            form.errors["capacity"] = form_error_text("capacity_below_seats", seats=seats)
            values = None
        if values is None:
            return _detail(request, session, auth, workshop, form, status_code=422, error=error_text("form_invalid"))
        changes = {k: v for k, v in values.items() if getattr(workshop, k) != v}
        if not changes:
            return _redirect(f"/console/workshops/{workshop_id}", ok="workshop_unchanged")
        change = update_workshop(session, workshop_id, now, _runtime(request).settings.reminders, **changes)
        _audit(session, auth, "workshop_edited", workshop, now,
               f"{','.join(sorted(changes))} prevenus={change.told} promus={change.promoted}")
    return _redirect(f"/console/workshops/{workshop_id}", ok="workshop_saved_told" if change.told else "workshop_saved")


@router.post("/{workshop_id}/cancel")
def cancel(request: Request, workshop_id: int, csrf_token: FormField = "", confirm: FormField = "") -> Response:
    now = _now(request)
    with _work(request, csrf=csrf_token, check_csrf=True) as (session, auth):
        workshop = _workshop_or_none(session, auth, workshop_id)
        if workshop is None:
            return _not_found(request, auth)
        if confirm != "1":
            return _redirect(f"/console/workshops/{workshop_id}", error="workshop_cancel_confirm")
        if workshop.status != "scheduled" or workshop.starts_at <= now:
            return _redirect(f"/console/workshops/{workshop_id}", error="workshop_not_editable")
        told = cancel_workshop(session, workshop_id, now)
        _audit(session, auth, "workshop_cancelled", workshop, now, f"prevenus={told}")
    return _redirect(f"/console/workshops/{workshop_id}", ok="workshop_cancelled")


@router.post("/{workshop_id}/attendance")
async def attendance(request: Request, workshop_id: int) -> Response:
    form = await request.form()  # one field per enrolment (e<id>): read here, the database work in a thread
    return await run_in_threadpool(_save_attendance, request, workshop_id, {k: str(v) for k, v in form.items()})


def _save_attendance(request: Request, workshop_id: int, form: dict[str, str]) -> Response:
    now = _now(request)
    settings = _runtime(request).settings.reminders
    with _work(request, csrf=form.get("csrf_token", ""), check_csrf=True) as (session, auth):
        workshop = _workshop_or_none(session, auth, workshop_id)
        if workshop is None:
            return _not_found(request, auth)
        if workshop.status != "scheduled" or workshop.starts_at > now:
            return _redirect(f"/console/workshops/{workshop_id}", error="workshop_not_started")
        present = absent = 0
        for enrolment, _resident in enrolments_of(session, workshop_id):
            answer = form.get(f"e{enrolment.id}")
            if answer not in ("present", "absent") or enrolment.status not in ("confirmed", "attended", "no_show"):
                continue
            mark_attendance(session, enrolment.id, answer == "present", now, settings)
            present += answer == "present"
            absent += answer == "absent"
        if not present and not absent:
            return _redirect(f"/console/workshops/{workshop_id}", error="attendance_empty")
        _audit(session, auth, "workshop_attendance", workshop, now, f"presents={present} absents={absent}")
    return _redirect(f"/console/workshops/{workshop_id}", ok="attendance_saved")

