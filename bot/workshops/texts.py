"""The resident-facing workshop texts (messages.fr.yml), filled and made GSM-7."""

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


@lru_cache(maxsize=1)
def _keywords() -> dict[str, str]:
    from bot.engine.keywords import simplify  # here: bot.engine imports this module

    found: dict[str, str] = {}
    for name, words in _messages()["keywords"].items():
        for word in words:
            found[simplify(str(word))] = name
    return found


def workshop_keyword(message: str) -> str | None:
    """'workshops', 'cancel', 'followups_off' or 'followups_on' when the whole message is one."""
    from bot.engine.keywords import simplify

    return _keywords().get(simplify(message))
