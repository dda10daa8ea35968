"""What the channels themselves tell residents (bot/channels/messages.fr.yml): photos, floods."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

TEXTS_FILE = Path(__file__).with_name("messages.fr.yml")


@cache
def channel_texts() -> dict[str, str]:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
