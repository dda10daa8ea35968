"""MES DONNEES and OUBLIER: a resident's rights over their data, asked by SMS, always confirmed with OUI.

Pure like the rest of the engine: it only asks for confirmation and returns an event
(DataSummaryRequested, ErasureConfirmed). Counting what is held, erasing it and writing the
replies that depend on it happen when the event is applied (bot/inbound/pipeline.py, bot/privacy/residents.py):
the erasure's confirmation must go out after the data, and the resident row, are gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.events import DataSummaryRequested, ErasureConfirmed
from bot.engine.keywords import Keyword
from bot.engine.state import Pending
from bot.privacy.texts import text

if TYPE_CHECKING:
    from bot.engine.conversation import _Conversation

PRIVACY_PENDING = frozenset({"confirm_my_data", "confirm_forget"})
_ASKS = {Keyword.MY_DATA: ("confirm_my_data", "my_data_confirm"), Keyword.FORGET: ("confirm_forget", "forget_confirm")}
_CONFIRM_KEYBOARD = ("OUI", "NON")


def privacy_turn(conv: _Conversation, keyword: Keyword | None) -> bool:
    """True when the message was a privacy request or the answer to its confirmation, and was answered."""
    pending = conv.state.pending
    if pending is not None and pending.kind in PRIVACY_PENDING:
        conv.state.pending = None
        if keyword is Keyword.YES:
            conv.events.append(DataSummaryRequested() if pending.kind == "confirm_my_data" else ErasureConfirmed())
            return True
        if keyword is Keyword.NO:
            conv._say(text("not_confirmed"))
            return True
        # Anything else drops the request: nothing is erased without an explicit OUI.
    if keyword in _ASKS:
        kind, key = _ASKS[keyword]
        conv.state.pending = Pending(kind=kind)  # type: ignore[arg-type]  (a PendingKind literal)
        conv._say(text(key), _CONFIRM_KEYBOARD)
        return True
    return False
