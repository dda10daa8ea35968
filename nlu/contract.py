"""The NLU contract (nlu/intents.yml): the intent names and `service` values we may report."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

CONTRACT_FILE = Path(__file__).with_name("intents.yml")
OUT_OF_SCOPE = "out_of_scope"


@lru_cache(maxsize=1)
def _contract() -> dict:
    return yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))


def intent_names() -> tuple[str, ...]:
    """Every intent name of the contract, in its file order."""
    return tuple(_contract()["intents"])


def service_values() -> tuple[str, ...]:
    """Every canonical value of the `service` entity."""
    return tuple(_contract()["entities"]["service"]["values"])
