"""How hard the outbox tries before a message becomes a dead letter (config.yml ``outbox:``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class OutboxSettings(BaseModel):
    """Retries of provider errors and timeouts, then dead letters shown in the console."""

    max_attempts: int = Field(
        default=6, ge=1, le=50, description="Sends tried before a message is a dead letter ('Envois en échec')."
    )
    backoff_base_seconds: float = Field(
        default=2.0, gt=0, description="Wait before the 2nd attempt; doubles at each attempt, with random jitter."
    )
    backoff_cap_seconds: float = Field(default=900.0, gt=0, description="Longest wait between two attempts.")
    send_concurrency: int = Field(
        default=8, ge=1, le=64,
        description="Residents whose messages are sent at the same time (one resident's always in order).",
    )
    unconfirmed_retry_seconds: float = Field(
        default=60.0, ge=0,
        description="After a timeout (the provider may have taken the message), wait this long for its status "
        "callback before sending again: a late SMS rather than the same SMS twice.",
    )
    stale_sending_seconds: float = Field(
        default=300.0, ge=1,
        description="A row left 'sending' this long (its process died) is sent again, unless the provider's "
        "status callback said it had taken it in the meantime.",
    )

    @model_validator(mode="after")
    def _cap_above_base(self) -> OutboxSettings:
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_cap_seconds must be at least backoff_base_seconds")
        return self
