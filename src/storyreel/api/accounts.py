"""Accounts for the dashboard and the JSON API (:mod:`storyreel.store.accounts` on the workspace's database)."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.project import open_store, settings_for
from storyreel.store.accounts import Accounts, Throttled

__all__ = ["Throttled", "accounts"]


def accounts(workspace: Path | None = None) -> Accounts:
    """The accounts of the workspace's database (``STORYREEL_DATABASE_URL`` when set)."""
    return Accounts(open_store(settings_for(workspace)).sessions)
