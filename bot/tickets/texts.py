"""The queue's resident-facing and notification texts, read from messages.fr.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"


@lru_cache(maxsize=1)
def messages() -> dict[str, Any]:
    return yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))


def text(key: str, **values: object) -> str:
    return str(messages()[key]).format(**values)
