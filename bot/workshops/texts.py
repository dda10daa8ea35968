"""The resident-facing workshop texts (messages.fr.yml), filled and made GSM-7."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.sms.catalogue import MessageCatalogue

MESSAGES_FILE = Path(__file__).parent / "messages.fr.yml"
CATALOGUE = MessageCatalogue(MESSAGES_FILE)
text = CATALOGUE.text
template_keys = CATALOGUE.template_keys


def _messages() -> dict[str, Any]:
    return CATALOGUE.entries


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


def overflowing_texts(title: str, place: str, starts_at: datetime) -> list[str]:
    """The keys of the texts naming a workshop that would not fit ONE SMS with this title and place.

    The console refuses such a workshop: a resident would otherwise get a cut or doubled SMS.
    """
    from bot.sms.gsm7 import count_segments
    from bot.workshops.dates import french_date, french_short_date, french_time

    values = {"title": title, "place": place, "date": french_date(starts_at), "time": french_time(starts_at),
              "position": 99, "number": 3, "service": ""}
    too_long = []
    for key in template_keys():
        template = _messages()[key]
        if "{title}" not in template and "{place}" not in template:
            continue
        if key == "list_item":  # the list shows the short date
            values = {**values, "date": french_short_date(starts_at)}
        if count_segments(text(key, **values)).segments > 1:
            too_long.append(key)
        values["date"] = french_date(starts_at)
    return too_long
