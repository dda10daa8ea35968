"""The console's flash texts (messages.fr.yml): actions report a code, the page shows the French."""

from __future__ import annotations

from pathlib import Path

from bot.sms.catalogue import MessageCatalogue

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"
CATALOGUE = MessageCatalogue(MESSAGES_FILE)


def _messages() -> dict[str, dict[str, str]]:
    return CATALOGUE.entries


def ok_text(code: str | None) -> str | None:
    return _messages()["ok"].get(code or "")


def error_text(code: str | None, **details: object) -> str | None:
    found = _messages()["errors"].get(code or "")
    return found.format(**details) if found and details else found


def form_error_text(code: str, **details: object) -> str:
    """The French text under a form field (the ``form_errors`` section)."""
    found = _messages()["form_errors"][code]
    return found.format(**details) if details else found
