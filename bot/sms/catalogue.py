"""Resident-facing French lives in ``messages.fr.yml`` files beside the code that sends it.

A :class:`MessageCatalogue` reads one such file once and gives its texts filled in: made GSM-7
(bot/sms/gsm7.py ``prepare``) for what goes out by SMS, as written for the console and Telegram.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from bot.sms.gsm7 import prepare


class MessageCatalogue:
    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def entries(self) -> dict[str, Any]:
        return yaml.safe_load(self.path.read_text(encoding="utf-8"))

    def fill(self, key: str, **values: object) -> str:
        """The text for ``key`` with its placeholders filled, as written (console pages, Telegram)."""
        return str(self.entries[key]).format(**values)

    def text(self, key: str, **values: object) -> str:
        """The text for ``key`` with its placeholders filled, transliterated to GSM-7."""
        template = self.entries[key]
        return prepare(template.format(**values) if values else template).text

    def template_keys(self) -> list[str]:
        """The keys whose value is one text (not a section)."""
        return [key for key, value in self.entries.items() if isinstance(value, str)]
