"""Structured logs (structlog): phone numbers masked, message bodies never logged at INFO."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_PHONE = re.compile(r"\+?\d[\d .-]{7,}\d")
# Keys whose values are resident text: dropped from every log line whatever the level.
_BODY_KEYS = frozenset({"body", "text", "message_body"})


def mask_phone(value: str) -> str:
    """'+33612345678' -> '+336******78': enough to tell two residents apart in a log, no more."""
    digits = value.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def _mask(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        value = event[key]
        if key in _BODY_KEYS:
            event[key] = f"<{len(value)} chars>" if isinstance(value, str) else "<hidden>"
        elif isinstance(value, str) and key != "event":
            event[key] = _PHONE.sub(lambda m: mask_phone(m.group(0)), value)
    if isinstance(event.get("event"), str):
        event["event"] = _PHONE.sub(lambda m: mask_phone(m.group(0)), event["event"])
    return event


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=getattr(logging, level))
    # APScheduler logs every run of every job at INFO (the outbox ticks each second): only its problems.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, getattr(logging, level)))
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        cache_logger_on_first_use=True,
    )
