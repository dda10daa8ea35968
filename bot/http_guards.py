"""What every request meets before a route: a cap on body size, and refusals that never crash.

Webhooks and APIs are reachable by anyone. A body far larger than any SMS, Telegram update or
form is refused with 413 before it is read; a body that fails validation is refused with 422 and
a readable reason even when it is not valid UTF-8 (FastAPI's default handler would crash on it).
"""

from __future__ import annotations

import math
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

# An SMS webhook is a few kilobytes, a Telegram update or a console form a few dozen: 1 MiB is generous.
MAX_BODY_BYTES = 1024 * 1024


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body too large (more than {limit} bytes)"}, status_code=413)


class BodySizeLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                await JSONResponse({"detail": "invalid Content-Length"}, status_code=400)(scope, receive, send)
                return
            if declared > self.limit:
                await _too_large(self.limit)(scope, receive, send)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(self.limit)(scope, receive, send)


def _printable(value: Any) -> Any:
    """Validation errors echo the input: bytes that are not UTF-8 become text with replacement characters."""
    if isinstance(value, bytes | bytearray):
        return bytes(value[:200]).decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "Infinity" is valid to Python's JSON parser, not to its encoder
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with FastAPI's usual body, whatever bytes the client sent."""
    return JSONResponse({"detail": _printable(list(exc.errors()))}, status_code=422)


async def invalid_inbound(_request: Request, exc: Exception) -> JSONResponse:
    """400 for an authentic request whose identifiers cannot be stored (see bot/channels/base.py)."""
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """400 when the database refuses a value a request carried: a number past its integer range (an id
    typed as 99999999999999999999), a NUL character in a form field (PostgreSQL's text refuses it)."""
    log.warning("request_value_refused", path=request.url.path, error=type(exc).__name__)
    return JSONResponse({"detail": "a value is out of range or holds characters that cannot be stored"},
                        status_code=400)
