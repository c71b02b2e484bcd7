"""The dashboard's accounts as callers see them: the user record, how long a session lives, and the error of a
throttled login. The accounts themselves are :attr:`Workspace.accounts <storyreel.api.session.Workspace.accounts>`
(:class:`storyreel.store.accounts.Accounts`: argon2id passwords, sessions, API tokens, throttling)."""

from __future__ import annotations

from storyreel.store.accounts import DEFAULT_TOKEN_DAYS, SESSION_TTL, TOKEN_DAYS, Throttled
from storyreel.store.models import User

__all__ = ["DEFAULT_TOKEN_DAYS", "SESSION_TTL", "TOKEN_DAYS", "Throttled", "User"]
