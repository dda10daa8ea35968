"""The ``privacy:`` and ``retention:`` sections of config.yml."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.sms.gsm7 import GSM7_SINGLE_SEGMENT, non_gsm7_characters, prepare

DEFAULT_FIRST_CONTACT_TEXT = (
    "Service de {structure}. Messages gardes {months} mois apres le dernier. Vos droits : {privacy_url} ou MES DONNEES"
)
# Where the privacy notice is when ``structure.privacy_url`` is not set: served by Relais itself.
NOTICE_PATH = "/confidentialite"


class PrivacySettings(BaseModel):
    """What residents are told on their first message."""

    first_contact_text: str = Field(
        default=DEFAULT_FIRST_CONTACT_TEXT, min_length=1,
        description="Sent once, with the reply to a resident's first message. Placeholders: {structure}, "
                    "{privacy_url}, {months}. Must fit one GSM-7 SMS once filled.",
    )


class RetentionSettings(BaseModel):
    """How long what a resident leaves behind is kept (bot/privacy/retention.py)."""

    months: int = Field(default=24, ge=1, le=120,
                        description="Months after a resident's last message before their data is erased.")
    hour: int = Field(default=3, ge=0, le=23, description="Hour (UTC) of the daily purge, on the leading process.")
    batch_size: int = Field(default=50, ge=1, le=1000,
                            description="Residents erased per transaction: short transactions, no long locks.")


def fill_first_contact_text(template: str, *, structure: str, privacy_url: str, months: int) -> str:
    """The information SMS as the resident receives it (before GSM-7 preparation)."""
    return template.format(structure=structure, privacy_url=privacy_url, months=months)


def first_contact_problem(template: str, *, structure: str, privacy_url: str, months: int) -> str | None:
    """Why the filled text cannot go as one GSM-7 SMS, or None when it can."""
    try:
        filled = fill_first_contact_text(template, structure=structure, privacy_url=privacy_url, months=months)
    except (KeyError, IndexError, ValueError) as exc:
        return f"unknown placeholder or stray brace ({exc}); the placeholders are {{structure}}, " \
               f"{{privacy_url}} and {{months}}"
    sms = prepare(filled)
    if sms.encoding != "GSM-7":
        shown = "".join(non_gsm7_characters(sms.text))
        return f"characters outside the GSM-7 alphabet ({shown!r}) once filled: {filled!r}"
    if sms.segments > 1:
        return (f"{sms.units} characters once filled, one SMS holds {GSM7_SINGLE_SEGMENT}: {filled!r} "
                "(shorten the text, structure.name or structure.privacy_url)")
    return None
