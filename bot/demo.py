"""Demo data: a structure, a mediator account and a workshop, so the demo shows every part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from bot.db.models import Mediator, Workshop
from bot.mediators import create_mediator
from bot.structures import default_structure

PARIS = ZoneInfo("Europe/Paris")
DEMO_EMAIL = "demo@relais.local"
DEMO_PASSWORD = "demo-relais-2026"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str


def next_weekday_at(now: datetime, weekday: int, at: time) -> datetime:
    """The next given weekday (0 = Monday) at a Paris wall-clock time, at least a day ahead."""
    local = now.astimezone(PARIS)
    days = (weekday - local.weekday()) % 7 or 7
    day = (local + timedelta(days=days)).date()
    return datetime.combine(day, at, tzinfo=PARIS)


def seed_demo(database: Database, settings: Settings, now: datetime) -> DemoAccount:
    """Idempotent: running the demo twice keeps one of each."""
    with database.transaction() as session:
        structure = default_structure(session, settings)
        structure.address = structure.address or "12 rue des Lilas, 59000 Lille"
        if session.scalars(select(Mediator).where(Mediator.email == DEMO_EMAIL)).first() is None:
            create_mediator(session, email=DEMO_EMAIL, display_name="Camille (demo)", password=DEMO_PASSWORD,
                            structures=[structure], role="admin")
        upcoming = session.scalars(
            select(Workshop).where(Workshop.structure_id == structure.id, Workshop.starts_at > now)
        ).first()
        if upcoming is None:
            starts = next_weekday_at(now, 1, time(14, 0))
            session.add(Workshop(
                structure_id=structure.id,
                title="Mes demarches CAF sur le telephone",
                description="Creer son compte CAF, faire sa declaration, telecharger une attestation.",
                place_name="Maison de quartier Saint-Eloi",
                place_address="12 rue des Lilas, 59000 Lille",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=6,
                level="debutant",
                theme="aide_aux_demarches_administratives",
            ))
    return DemoAccount(DEMO_EMAIL, DEMO_PASSWORD)
