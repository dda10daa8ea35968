"""Privacy by design: secrets residents text are found and redacted before anything is stored."""

from bot.privacy.secrets import KINDS, Redaction, Secret, find_secrets, redact, redaction_texts

__all__ = ["KINDS", "Redaction", "Secret", "find_secrets", "redact", "redaction_texts"]
