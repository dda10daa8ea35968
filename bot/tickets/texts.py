"""The queue's resident-facing and notification texts, read from messages.fr.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.sms.catalogue import MessageCatalogue

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"
CATALOGUE = MessageCatalogue(MESSAGES_FILE)
text = CATALOGUE.fill


def messages() -> dict[str, Any]:
    return CATALOGUE.entries
