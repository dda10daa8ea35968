"""How the console shows times, durations and codes to mediators (Jinja filters)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.tickets.themes import outcomes, subthemes, themes

PARIS = ZoneInfo("Europe/Paris")

STATUS_LABELS = {"open": "En attente", "claimed": "Pris en charge", "closed": "Fermé"}
REASON_LABELS = {
    "asked": "A demandé un conseiller",
    "guide_failed": "Guide terminé par NON",
    "misunderstood": "Bot n'a pas compris",
    "choice": "A choisi un conseiller",
    "handoff_intent": "Veut parler à quelqu'un",
    "data_request": "Demande ses données (MES DONNEES)",
    "flood": "Envoie beaucoup de messages (bot ralenti)",
}


def waited(since: datetime | None, now: datetime) -> str:
    """'4 min', '2 h 05', '3 j' — how long since ``since``."""
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d}"
    return f"{minutes // (24 * 60)} j"


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def filters() -> dict[str, object]:
    return {
        "local_time": local_time,
        "status_label": lambda code: STATUS_LABELS.get(code, code),
        "reason_label": lambda code: REASON_LABELS.get(code, code),
        "theme_label": lambda code: themes().get(code or "", code or ""),
        "subtheme_label": lambda code: subthemes().get(code or "", code or ""),
        "outcome_label": lambda code: outcomes().get(code or "", code or ""),
    }
