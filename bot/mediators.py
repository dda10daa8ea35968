"""Mediator accounts: creation with an argon2-hashed password, membership of structures."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Mediator, Structure

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class MediatorError(ValueError):
    """A mediator account cannot be created or changed as asked; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MediatorError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def create_mediator(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    structures: list[Structure],
    role: str = "mediator",
) -> Mediator:
    email = email.strip().lower()
    if "@" not in email:
        raise MediatorError(f"not an e-mail address: {email!r}")
    if role not in ("mediator", "admin"):
        raise MediatorError("role must be 'mediator' or 'admin'")
    if session.scalars(select(Mediator).where(Mediator.email == email)).first() is not None:
        raise MediatorError(f"a mediator with e-mail {email} already exists")
    mediator = Mediator(email=email, display_name=display_name, password_hash=hash_password(password), role=role)
    mediator.structures = list(structures)
    session.add(mediator)
    session.flush()
    return mediator
