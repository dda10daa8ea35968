"""The resident-facing privacy texts (messages.fr.yml), filled and made GSM-7."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.sms.gsm7 import prepare

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    return yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))


def text(key: str, **values: object) -> str:
    """The text for ``key`` with its placeholders filled, transliterated to GSM-7."""
    template = _messages()[key]
    return prepare(template.format(**values) if values else template).text


def template_keys() -> list[str]:
    return [key for key, value in _messages().items() if isinstance(value, str)]
