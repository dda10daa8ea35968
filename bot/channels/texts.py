"""What the channels themselves tell residents (bot/channels/messages.fr.yml): photos, floods."""

from __future__ import annotations

from pathlib import Path

from bot.sms.catalogue import MessageCatalogue

TEXTS_FILE = Path(__file__).with_name("messages.fr.yml")
CATALOGUE = MessageCatalogue(TEXTS_FILE)


def channel_texts() -> dict[str, str]:
    return CATALOGUE.entries
