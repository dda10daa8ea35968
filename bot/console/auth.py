"""Console sessions: login with argon2 passwords, signed session cookies, CSRF tokens, throttling.

The cookie carries only a signed random token (itsdangerous, keyed by ``secret_key``); the
session row is found by the token's SHA-256, so a stolen database reveals no usable cookie,
and logging out or disabling a mediator ends their sessions at once. Each login creates a new
session id (no fixation), and every form carries the session's CSRF token. Before login, a
signed pre-session cookie plays that role for the login form itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.console.settings import ConsoleSettings
from bot.db.models import AuditEntry, ConsoleSession, Mediator
from bot.mediators import verify_password

SESSION_COOKIE = "relais_session"
PRELOGIN_COOKIE = "relais_prelogin"
# A real hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$A/bZLEw/oUzbJYpooUeAYA$2t8yAEB0AzV5HMN1bXeMlO8Y3r+MDdqfc3nyKbX41AA"


@dataclass(frozen=True)
class Authenticated:
    mediator: Mediator
    session_id: str
    csrf_token: str


class Signer:
    """Signs cookie values with the deployment's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._session = URLSafeTimedSerializer(secret_key, salt="relais-console-session")
        self._prelogin = URLSafeTimedSerializer(secret_key, salt="relais-console-prelogin")

    def session_cookie(self, token: str) -> str:
        return self._session.dumps(token)

    def session_token(self, cookie: str | None, max_age_seconds: int) -> str | None:
        if not cookie:
            return None
        try:
            return str(self._session.loads(cookie, max_age=max_age_seconds))
        except BadSignature:
            return None

    def prelogin_cookie(self, token: str) -> str:
        return self._prelogin.dumps(token)

    def prelogin_token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return str(self._prelogin.loads(cookie, max_age=3600))
        except BadSignature:
            return None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def authenticate(session: Session, email: str, password: str) -> Mediator | None:
    """The active mediator with these credentials, or None (same work either way)."""
    mediator = session.scalars(select(Mediator).where(Mediator.email == email.strip().lower())).first()
    if mediator is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(mediator.password_hash, password) or not mediator.active:
        return None
    return mediator


def start_session(session: Session, mediator: Mediator, now: datetime, settings: ConsoleSettings) -> str:
    """A brand-new session for ``mediator``; returns the token to put in the signed cookie."""
    token = new_token()
    session.add(ConsoleSession(id=_digest(token), mediator_id=mediator.id, csrf_token=new_token(), created_at=now,
                               expires_at=now + timedelta(hours=settings.session_hours)))
    # Expired sessions are cleaned up as people log in: no job needed.
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    mediator.last_login_at = now
    session.add(AuditEntry(action="login", mediator_id=mediator.id, created_at=now))
    return token


def load_session(session: Session, token: str | None, now: datetime) -> Authenticated | None:
    if not token:
        return None
    row = session.get(ConsoleSession, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    mediator = session.get(Mediator, row.mediator_id)
    if mediator is None or not mediator.active:
        return None
    return Authenticated(mediator, row.id, row.csrf_token)


def end_session(session: Session, session_id: str, mediator_id: int, now: datetime) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))
    session.add(AuditEntry(action="logout", mediator_id=mediator_id, created_at=now))


def end_all_sessions(session: Session, mediator_id: int) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.mediator_id == mediator_id))


class LoginThrottle:
    """Failed logins: per e-mail from the audit log (shared by every server process), and per
    client address in memory (a guess-many-accounts attempt from one place)."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._by_address: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.settings.login_window_minutes)

    def allowed(self, session: Session, email: str, address: str, now: datetime) -> bool:
        failures = session.scalar(
            select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "login_failed", AuditEntry.detail == email.strip().lower()[:500],
                AuditEntry.created_at > now - self.window)
        ) or 0
        if failures >= self.settings.login_attempts:
            return False
        with self._lock:
            recent = self._by_address[address]
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            # Several people may share one address (a centre's wifi): allow a few accounts' worth.
            return len(recent) < self.settings.login_attempts * 3

    def failed(self, session: Session, email: str, address: str, now: datetime) -> None:
        session.add(AuditEntry(action="login_failed", detail=email.strip().lower()[:500], created_at=now))
        with self._lock:
            self._by_address[address].append(now)
