"""Dashboard accounts (seed 004 epic 2, FR-001…FR-004): registration, password login with throttling,
server-side sessions and personal API tokens, profile counters.

- Passwords: argon2id through ``pwdlib`` (``PasswordHash.recommended()``); a login for an unknown user
  still verifies against a dummy hash, so timing does not reveal which usernames exist.
- Sessions and tokens: 32 random bytes (``secrets.token_urlsafe``) given to the client once; only their
  sha256 is stored (a database leak gives no usable credential). Sessions expire after :data:`SESSION_TTL`;
  API tokens have a name, the time they were last used, and expire (:data:`TOKEN_DAYS`) unless revoked first.
  Every request looks its credential up in the database: a logout or a revoked token takes effect at once on
  every process.
- Throttling (OWASP Authentication Cheat Sheet, "Protect against automated attacks"; "account lockout" must not
  become a denial of service): at most :data:`MAX_FAILURES_PER_USER_AND_ADDRESS` failed logins for one account
  from one client address, and :data:`MAX_FAILURES_PER_ADDRESS` from one address over all accounts (password
  spraying), within :data:`WINDOW`; over either, :class:`Throttled` (HTTP 429) until the oldest failure leaves the
  window. Nothing throttles an account as such: a stranger's failures never keep its owner out from another
  address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.errors import InputError, StoryreelError
from storyreel.store.models import Credential, LoginFailure, User

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 15, 256
"""Password length bounds: a password that is the only factor is at least 15 characters (NIST SP 800-63B-4
§3.1.1.2), and at least 64 must be allowed."""
MIN_GUESSES_LOG10 = 8
"""A password must take at least 10⁸ guesses by zxcvbn's estimate (its score 3, "safely unguessable" against an
online attack): that rejects common and breached passwords, dictionary words, repeats and keyboard runs — the
blocklist check NIST SP 800-63B-4 §3.1.1.2 asks for — without composition rules."""
SESSION_TTL = timedelta(days=14)
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 20

TOKEN_DAYS = (30, 90, 365)
"""The lifetimes a person may give an API token, in days (the first the default of the dashboard's form)."""
DEFAULT_TOKEN_DAYS = 90
TOKEN_NAME = re.compile(r"^[\w .,:()'-]{1,64}$")
LAST_USED_EVERY = timedelta(minutes=1)
"""A token's last-used time is written at most this often (not on every request)."""

_hasher = PasswordHash.recommended()
_DUMMY = _hasher.hash("storyreel-dummy-password")


class Throttled(StoryreelError):
    """Too many failed logins; ``retry_after_s`` says when to try again (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _guessable(password: str, username: str) -> str | None:
    """Why ``password`` is too easy to guess (zxcvbn: common passwords, words, names, repeats, sequences, the
    username itself), or None."""
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password[:100], user_inputs=[username])
    if verdict["guesses_log10"] >= MIN_GUESSES_LOG10:
        return None
    why = verdict["feedback"].get("warning") or "this password is too easy to guess"
    tips = " ".join(verdict["feedback"].get("suggestions") or [])
    return f"{why.rstrip('.')}. {tips}".strip() if tips else f"{why.rstrip('.')}."


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
        name or a password outside :data:`MIN_PASSWORD`–:data:`MAX_PASSWORD` characters or easy to guess."""
        username = (username or "").strip()
        if not USERNAME.match(username):
            raise InputError("use 3–32 letters, digits, '.', '_' or '-', starting with a letter or digit", field="username")
        if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
            raise InputError(f"use {MIN_PASSWORD}–{MAX_PASSWORD} characters: a few words you remember make a good one",
                             field="password")
        guessable = _guessable(password, username)
        if guessable:
            raise InputError(guessable, field="password")
        user = User(username=username, password_hash=_hasher.hash(password), last_login_at=_now())  # registering signs in
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
        """The user whose password this is, and the login recorded. Raises :class:`Throttled` when this
        account from this address, or this address over all accounts, has too many recent failures (checked
        before the password), else :class:`InputError` (field ``password``) naming neither which part was wrong."""
        keys = (f"pair:{(username or '').strip().lower()[:64]}|{address[:64]}", f"ip:{address[:64]}")
        self._check_throttle(*keys)
        with self.sessions() as s:
            user = s.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
        ok = len(password or "") <= MAX_PASSWORD and _hasher.verify(password or "", user.password_hash if user else _DUMMY)
        if user is None or not ok:
            with self.sessions.begin() as s:
                s.add_all([LoginFailure(key=k) for k in keys])
            raise InputError("wrong username or password", field="password")
        with self.sessions.begin() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
            s.get(User, user.id).last_login_at = _now()
        return user

    def _check_throttle(self, pair_key: str, address_key: str) -> None:
        since = _now() - WINDOW
        with self.sessions() as s:
            for key, limit in ((pair_key, MAX_FAILURES_PER_USER_AND_ADDRESS), (address_key, MAX_FAILURES_PER_ADDRESS)):
                times = s.scalars(select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)
                                  .order_by(LoginFailure.at.desc()).limit(limit)).all()
                if len(times) >= limit:
                    retry = int((_aware(times[-1]) + WINDOW - _now()).total_seconds()) + 1
                    raise Throttled(max(1, retry))

    def issue(self, user_id: int, kind: str, *, name: str | None = None, days: int | None = None) -> str:
        """A new ``session`` (expires after :data:`SESSION_TTL`) or ``token`` secret for the user; returned once.
        A token is named ``name`` and expires after ``days`` (one of :data:`TOKEN_DAYS`; default
        :data:`DEFAULT_TOKEN_DAYS`). Raises :class:`InputError` (field ``name`` or ``days``) for a bad name, a
        name the user's live tokens already have, or a lifetime not offered."""
        secret = secrets.token_urlsafe(32)
        if kind == "session":
            with self.sessions.begin() as s:
                s.add(Credential(user_id=user_id, kind=kind, secret_hash=_digest(secret), expires_at=_now() + SESSION_TTL))
            return secret
        name = " ".join((name or "").split())
        if not TOKEN_NAME.match(name):
            raise InputError("give the token a name of 1–64 letters, digits, spaces or .,:()'-", field="name")
        days = DEFAULT_TOKEN_DAYS if days is None else days
        if days not in TOKEN_DAYS:
            raise InputError(f"a token lives {', '.join(map(str, TOKEN_DAYS))} days", field="days")
        with self.sessions.begin() as s:
            if any(t["name"].lower() == name.lower() and not t["expired"] for t in self._tokens(s, user_id)):
                raise InputError(f"you have a token named {name!r}: revoke it or choose another name", field="name")
            s.add(Credential(user_id=user_id, kind=kind, secret_hash=_digest(secret), name=name,
                             expires_at=_now() + timedelta(days=days)))
        return secret

    def user_for(self, secret: str | None, kind: str) -> User | None:
        """The user of a live credential of ``kind``, or None — looked up in the database on every call, so a
        logout or a revoked token takes effect at once on every process. A token's last-used time is kept to
        the minute."""
        if not secret or len(secret) > 128:
            return None
        with self.sessions() as s:
            row = s.scalar(select(Credential).where(Credential.secret_hash == _digest(secret), Credential.kind == kind))
            if row is None or (row.expires_at is not None and _aware(row.expires_at) < _now()):
                return None
            user = s.get(User, row.user_id)
            stale = kind == "token" and (row.last_used_at is None or _aware(row.last_used_at) < _now() - LAST_USED_EVERY)
            credential_id = row.id
        if stale:
            with self.sessions.begin() as s:
                s.execute(update(Credential).where(Credential.id == credential_id).values(last_used_at=_now()))
        return user

    def revoke(self, secret: str) -> None:
        """End the session (or token) whose secret this is."""
        with self.sessions.begin() as s:
            s.execute(delete(Credential).where(Credential.secret_hash == _digest(secret)))

    @staticmethod
    def _tokens(s: Session, user_id: int) -> list[dict]:
        rows = s.scalars(select(Credential).where(Credential.user_id == user_id, Credential.kind == "token")
                         .order_by(Credential.created_at.desc(), Credential.id.desc())).all()
        now = _now()
        return [{"id": r.id, "name": r.name or "(unnamed)", "created_at": _aware(r.created_at).isoformat(),
                 "last_used_at": _aware(r.last_used_at).isoformat() if r.last_used_at else None,
                 "expires_at": _aware(r.expires_at).isoformat() if r.expires_at else None,
                 "expired": r.expires_at is not None and _aware(r.expires_at) < now} for r in rows]

    def tokens(self, user_id: int) -> list[dict]:
        """The user's API tokens, newest first: id, name, created, last used, expires, expired (never the secret)."""
        with self.sessions() as s:
            return self._tokens(s, user_id)

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        """Revoke the user's token ``token_id`` (it answers 401 at once on every process); False when the user
        has no such token."""
        with self.sessions.begin() as s:
            done = s.execute(delete(Credential).where(Credential.id == token_id, Credential.user_id == user_id,
                                                      Credential.kind == "token"))
            return bool(done.rowcount)

    def profile(self, user_id: int) -> dict:
        """Videos made, total cost, member since, last login (seed 004 epic 5)."""
        with self.sessions() as s:
            user = s.get(User, user_id)
            return {"id": user.id, "username": user.username, "videos_made": user.videos_made,
                    "total_cost_usd": round(user.total_cost_usd, 6), "member_since": _aware(user.created_at).isoformat(),
                    "last_login_at": _aware(user.last_login_at).isoformat() if user.last_login_at else None}
