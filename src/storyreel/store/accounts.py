"""Dashboard accounts (seed 004 epic 2, FR-001…FR-004): registration, password login with throttling,
server-side sessions and personal API tokens, profile counters.

- Passwords: argon2id through ``pwdlib`` (``PasswordHash.recommended()``); a login for an unknown user
  still verifies against a dummy hash, so timing does not reveal which usernames exist.
- Sessions and tokens: 32 random bytes (``secrets.token_urlsafe``) given to the client once; only their
  sha256 is stored (a database leak gives no usable credential). Sessions expire after
  :data:`SESSION_TTL`; tokens live until revoked.
- Throttling: at most :data:`MAX_FAILURES_PER_USER` failed logins per account and
  :data:`MAX_FAILURES_PER_ADDRESS` per client address within :data:`WINDOW` (OWASP Authentication Cheat
  Sheet, "Protect against automated attacks"); over either, :class:`Throttled` (HTTP 429) until the oldest
  failure leaves the window.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import datetime, timedelta, timezone

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.errors import InputError, StoryreelError
from storyreel.store.models import Credential, LoginFailure, User

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 256
"""Password length bounds (NIST SP 800-63B §5.1.1.2: at least 8 characters, allow at least 64)."""
SESSION_TTL = timedelta(days=14)
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20

LOOKUP_TTL_S = 5.0
"""How long a process remembers which user a session or token belongs to."""
_LOOKUPS: dict[tuple, tuple[float, User]] = {}

_hasher = PasswordHash.recommended()
_DUMMY = _hasher.hash("storyreel-dummy-password")


class Throttled(StoryreelError):
    """Too many failed logins; ``retry_after_s`` says when to try again (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _digest(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


class Accounts:
    """Users, credentials and login throttling in the workspace's database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def register(self, username: str, password: str) -> User:
        """A new user. Raises :class:`InputError` (field ``username`` or ``password``) for a bad or taken
        name or a password outside 8–256 characters."""
        username = (username or "").strip()
        if not USERNAME.match(username):
            raise InputError("use 3–32 letters, digits, '.', '_' or '-', starting with a letter or digit", field="username")
        if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
            raise InputError(f"use {MIN_PASSWORD}–{MAX_PASSWORD} characters", field="password")
        if password.lower() == username.lower():
            raise InputError("the password must differ from the username", field="password")
        user = User(username=username, password_hash=_hasher.hash(password))
        try:
            with self.sessions.begin() as s:
                taken = s.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
                if taken is not None:
                    raise InputError("this username is taken", field="username")
                s.add(user)
        except IntegrityError:
            raise InputError("this username is taken", field="username") from None
        return user

    def authenticate(self, username: str, password: str, address: str) -> User:
        """The user whose password this is, and the login recorded. Raises :class:`Throttled` when the
        account or the address has too many recent failures (checked before the password), else
        :class:`InputError` (field ``password``) naming neither which part was wrong."""
        keys = (f"user:{(username or '').strip().lower()[:64]}", f"ip:{address[:64]}")
        self._check_throttle(*keys)
        with self.sessions() as s:
            user = s.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
        ok = _hasher.verify(password or "", user.password_hash if user else _DUMMY)
        if user is None or not ok:
            with self.sessions.begin() as s:
                s.add_all([LoginFailure(key=k) for k in keys])
            raise InputError("wrong username or password", field="password")
        with self.sessions.begin() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
            s.get(User, user.id).last_login_at = _now()
        return user

    def _check_throttle(self, user_key: str, address_key: str) -> None:
        since = _now() - WINDOW
        with self.sessions() as s:
            for key, limit in ((user_key, MAX_FAILURES_PER_USER), (address_key, MAX_FAILURES_PER_ADDRESS)):
                times = s.scalars(select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)
                                  .order_by(LoginFailure.at.desc()).limit(limit)).all()
                if len(times) >= limit:
                    retry = int((_aware(times[-1]) + WINDOW - _now()).total_seconds()) + 1
                    raise Throttled(max(1, retry))

    def issue(self, user_id: int, kind: str) -> str:
        """A new ``session`` (expires after :data:`SESSION_TTL`) or ``token`` secret for the user; returned once."""
        secret = secrets.token_urlsafe(32)
        expires = _now() + SESSION_TTL if kind == "session" else None
        with self.sessions.begin() as s:
            s.add(Credential(user_id=user_id, kind=kind, secret_hash=_digest(secret), expires_at=expires))
        return secret

    def user_for(self, secret: str | None, kind: str) -> User | None:
        """The user of a live credential of ``kind``, or None. Answers are remembered for
        :data:`LOOKUP_TTL_S` in this process (a page view makes several requests); :meth:`revoke` forgets
        at once here, other processes within the TTL."""
        if not secret or len(secret) > 128:
            return None
        key = (id(self.sessions.kw.get("bind")), kind, _digest(secret))
        hit = _LOOKUPS.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.sessions() as s:
            row = s.scalar(select(Credential).where(Credential.secret_hash == key[2], Credential.kind == kind))
            if row is None or (row.expires_at is not None and _aware(row.expires_at) < _now()):
                return None
            user = s.get(User, row.user_id)
        if len(_LOOKUPS) > 10_000:
            _LOOKUPS.clear()
        _LOOKUPS[key] = (time.monotonic() + LOOKUP_TTL_S, user)
        return user

    def revoke(self, secret: str) -> None:
        digest = _digest(secret)
        for key in [k for k in _LOOKUPS if k[2] == digest]:
            _LOOKUPS.pop(key, None)
        with self.sessions.begin() as s:
            s.execute(delete(Credential).where(Credential.secret_hash == digest))

    def profile(self, user_id: int) -> dict:
        """Videos made, total cost, member since, last login (seed 004 epic 5)."""
        with self.sessions() as s:
            user = s.get(User, user_id)
            return {"id": user.id, "username": user.username, "videos_made": user.videos_made,
                    "total_cost_usd": round(user.total_cost_usd, 6), "member_since": _aware(user.created_at).isoformat(),
                    "last_login_at": _aware(user.last_login_at).isoformat() if user.last_login_at else None}
