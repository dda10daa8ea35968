"""The conversation engine: pure. Given a resident's state and what they sent, it decides what happens.

It does no I/O: the caller gives it the state, the text, the clock and a way to ask the NLU, and
applies the events it returns (bot/inbound/pipeline.py) in one transaction.
"""

from bot.engine.conversation import EngineContext, Outcome, ResidentView, Turn, respond
from bot.engine.state import ConversationState

__all__ = ["ConversationState", "EngineContext", "Outcome", "ResidentView", "Turn", "respond"]
