"""The resident-facing privacy texts (messages.fr.yml), filled and made GSM-7."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.sms.catalogue import MessageCatalogue

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"
CATALOGUE = MessageCatalogue(MESSAGES_FILE)
text = CATALOGUE.text
template_keys = CATALOGUE.template_keys


def _messages() -> dict[str, Any]:
    return CATALOGUE.entries
