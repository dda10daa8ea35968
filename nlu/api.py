"""Rasa-compatible HTTP API: ``POST /model/parse`` answers exactly like a Rasa 3.x server.

The app factory mounts ``router`` and sets ``app.state.parser`` (see nlu/parser.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

router = APIRouter(tags=["nlu"])

MAX_TEXT_CHARS = 20_000


class ParseRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Rasa clients may send more (e.g. "emulation_mode")

    text: str = Field(max_length=MAX_TEXT_CHARS, description="The message to understand.")
    message_id: str | None = Field(default=None, description="Ignored, accepted for Rasa compatibility.")


def _parser(request: Request) -> Any:
    parser = getattr(request.app.state, "parser", None)
    if parser is None:
        raise HTTPException(status_code=503, detail="the NLU model is not loaded yet")
    return parser


@router.post("/model/parse", summary="Intent and entities of a message, in Rasa's response shape")
def parse_message(body: ParseRequest, request: Request) -> dict[str, Any]:
    return _parser(request).parse(body.text).to_rasa()


@router.get("/model/status", summary="Which NLU backend and model answer")
def model_status(request: Request) -> dict[str, Any]:
    parser = _parser(request)
    status: dict[str, Any] = {"backend": "embedded"}
    embedded = parser
    if hasattr(parser, "endpoint"):  # the Rasa backend
        status = {"backend": "rasa", "rasa_endpoint": parser.endpoint, "fallbacks": parser.fallbacks}
        embedded = getattr(parser.fallback, "__self__", None)
    if embedded is not None and hasattr(embedded, "data_hash"):
        status["embedded_model"] = {
            "data_hash": embedded.data_hash,
            "model_version": embedded.model_version,
            "trained_at": embedded.trained_at,
            "examples": embedded.examples,
            "intents": embedded.intents,
        }
    return status
