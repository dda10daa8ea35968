"""The web SMS simulator: anyone types as a resident and sees the replies exactly as SMS would carry them.

It is the SMS channel with a web page in place of a phone: messages take the same path
(``receive`` -> engine -> outbox -> sender) and replies are GSM-7 prepared text with their
segment count. Its own outbox rows are dispatched before the API answers, so a reply is there.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from bot.channels.base import InboundMessage, OutgoingMessage, SendResult
from bot.db.models import Message, OutboxItem, Resident
from bot.inbound.pipeline import receive
from bot.outbox.dispatcher import dispatch_due
from bot.runtime import Runtime

PROVIDER = "simulator"
MAX_TEXT_CHARS = 10_000
_PHONE = re.compile(r"^\+?[0-9 .-]{6,20}$")

router = APIRouter(prefix="/simulator", tags=["simulator"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class SimulatorSender:
    """Delivers to the simulator: the thread is read back from the message history."""

    provider = PROVIDER

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult(ok=True, provider_message_id=f"sim-{message.outbox_id}", status="delivered")


class SimulatedSms(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    sender: str = Field(alias="from", description="The resident's phone number, e.g. +33612345678.")
    text: str = Field(max_length=MAX_TEXT_CHARS)
    id: str | None = Field(default=None, max_length=80, description="Optional idempotency key.")


class Reply(BaseModel):
    text: str
    segments: int
    encoding: str


class SimulatorAnswer(BaseModel):
    replies: list[Reply]


class ThreadEntry(BaseModel):
    id: int
    direction: str
    text: str
    segments: int | None
    at: datetime
    by_mediator: bool


def normalise_number(raw: str) -> str:
    """E.164 for a French or international number typed in the simulator."""
    from bot.channels.phone import InvalidPhoneNumber, to_e164

    try:
        return to_e164(raw)
    except InvalidPhoneNumber as exc:
        raise HTTPException(status_code=422, detail=f"'from': {exc}") from exc


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "simulator.html", {})


@router.post("/api/messages", response_model=SimulatorAnswer)
def post_message(request: Request, sms: SimulatedSms) -> SimulatorAnswer:
    """A resident texts; the answer holds every SMS the bot sent them because of it."""
    runtime = _runtime(request)
    address = normalise_number(sms.sender)
    inbound = InboundMessage(
        channel="sms", address=address, text=sms.text, provider=PROVIDER,
        provider_id=sms.id or f"sim-{uuid.uuid4()}", received_at=datetime.now(UTC),
    )
    result = receive(runtime, inbound)
    if not result.outbox_ids:
        return SimulatorAnswer(replies=[])
    dispatch_due(runtime, ids=result.outbox_ids, limit=len(result.outbox_ids))
    with runtime.db.transaction() as session:
        items = session.scalars(
            select(OutboxItem).where(OutboxItem.id.in_(result.outbox_ids)).order_by(OutboxItem.id)
        )
        return SimulatorAnswer(
            replies=[Reply(text=i.body, segments=i.segments, encoding=i.encoding) for i in items]
        )


@router.get("/api/messages", response_model=list[ThreadEntry])
def thread(
    request: Request,
    sender: Annotated[str, Query(alias="from")],
    after: int = 0,
) -> list[ThreadEntry]:
    """The thread with one number, oldest first (``after`` = last id seen, for polling)."""
    runtime = _runtime(request)
    address = normalise_number(sender)
    # Mediators' replies arrive later through the outbox: send what is due for this number first.
    with runtime.db.transaction() as session:
        due = list(session.scalars(
            select(OutboxItem.id).where(OutboxItem.address == address, OutboxItem.provider == PROVIDER,
                                        OutboxItem.status == "pending")
        ))
    if due:
        dispatch_due(runtime, ids=due, limit=len(due))
    with runtime.db.transaction() as session:
        resident = session.scalars(
            select(Resident).where(Resident.channel == "sms", Resident.address == address)
        ).first()
        if resident is None:
            return []
        rows = session.scalars(
            select(Message)
            .where(Message.resident_id == resident.id, Message.id > after,
                   (Message.direction == "in") | (Message.status.in_(("sent", "delivered"))))
            .order_by(Message.id)
        )
        return [
            ThreadEntry(id=m.id, direction=m.direction, text=m.body, segments=m.segments, at=m.created_at,
                        by_mediator=m.author_id is not None)
            for m in rows
        ]
