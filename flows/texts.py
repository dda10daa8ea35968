"""The bot's own words outside the guides (``flows/messages/<lang>.yml``) and its keywords."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_DIR = Path(__file__).parent / "messages"
KEYWORDS_FILE = Path(__file__).parent / "keywords.fr.yml"


@dataclass(frozen=True)
class Texts:
    messages: dict[str, Any]

    def __call__(self, key: str, **values: object) -> str:
        """The text for ``key`` with its placeholders filled."""
        template = self.messages[key]
        if not isinstance(template, str):
            raise KeyError(f"{key} is a table, not a text")
        return template.format(**values) if values else template

    def service_label(self, service: str) -> str:
        return str(self.messages.get("services", {}).get(service, service))

    def intent_label(self, intent: str) -> str:
        return str(self.messages.get("intents", {}).get(intent, intent))


def load_texts(language: str = "fr") -> Texts:
    path = MESSAGES_DIR / f"{language}.yml"
    return Texts(messages=yaml.safe_load(path.read_text(encoding="utf-8")))


def load_keywords(path: Path = KEYWORDS_FILE) -> dict[str, list[str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: [str(word) for word in words] for name, words in raw.items()}


@lru_cache(maxsize=4)
def default_texts(language: str = "fr") -> Texts:
    return load_texts(language)
