"""Structures (centres sociaux, France services): the default one a new resident belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import Structure

DEFAULT_OPENING_HOURS = {day: ["09:00-12:00", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def default_structure(session: Session, settings: Settings) -> Structure:
    """The structure named in config (``structure.slug``), created on first use."""
    slug = settings.structure.slug
    structure = session.scalars(select(Structure).where(Structure.slug == slug)).first()
    if structure is not None:
        return structure
    structure = Structure(slug=slug, name=settings.structure.name, opening_hours=DEFAULT_OPENING_HOURS)
    try:
        with session.begin_nested():
            session.add(structure)
            session.flush()
    except IntegrityError:
        structure = session.scalars(select(Structure).where(Structure.slug == slug)).one()
    return structure
