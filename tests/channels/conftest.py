from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.peers import telegram_stand_in, twilio_mock

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[str]:
    with twilio_mock() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[str]:
    with telegram_stand_in() as base_url:
        yield base_url


@pytest.fixture(autouse=True)
def _no_twilio_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_EDGE", "TWILIO_REGION", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TELEGRAM_BOT_TOKEN",
                 "RELAIS_TWILIO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
