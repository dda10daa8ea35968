"""NLU settings, embedded in the app's configuration as ``nlu:`` (environment: ``RELAIS_NLU__BACKEND``...)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

PACKAGE_DIR = Path(__file__).parent
DEFAULT_DATA_DIR = PACKAGE_DIR / "data"


class NluSettings(BaseModel):
    """How messages are understood. Relative paths are resolved against the current working folder."""

    backend: Literal["embedded", "rasa"] = Field(
        default="embedded",
        description="embedded: the in-process model. rasa: ask a Rasa server, fall back to embedded if it fails.",
    )
    rasa_url: str | None = Field(default=None, description="Base URL of the Rasa server, e.g. http://127.0.0.1:5005")
    rasa_token: str | None = Field(default=None, description="Rasa's --auth-token, sent as ?token=")
    rasa_timeout_seconds: float = Field(default=1.5, gt=0, le=30, description="Per request, then fall back.")
    rasa_retry_after_seconds: float = Field(
        default=30.0, ge=0,
        description="After a Rasa failure, use the embedded model alone for this long before asking Rasa again.",
    )
    confidence_threshold: float = Field(
        default=0.5, ge=0, le=1,
        description="Below this intent confidence the engine asks a numbered clarification instead of guessing.",
    )
    model_dir: Path = Field(
        default=PACKAGE_DIR / "models",
        description="Where the trained model file is kept (a relative path is relative to the working folder).",
    )
    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Rasa-format NLU training data (test/ excluded).")
    train_if_needed: bool = Field(
        default=True, description="Train at start when the model file is missing or the data changed."
    )

    def resolved_model_dir(self) -> Path:
        return self.model_dir if self.model_dir.is_absolute() else Path.cwd() / self.model_dir

    def resolved_data_dir(self) -> Path:
        return self.data_dir if self.data_dir.is_absolute() else Path.cwd() / self.data_dir

    @model_validator(mode="after")
    def _rasa_needs_url(self) -> NluSettings:
        if self.backend == "rasa" and not self.rasa_url:
            raise ValueError("backend 'rasa' needs rasa_url (e.g. http://127.0.0.1:5005)")
        return self
