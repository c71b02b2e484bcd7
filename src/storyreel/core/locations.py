"""Default locations (kept free of heavy imports: the no-op ``make`` check reads them)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path


def default_workspace() -> Path:
    """Per-user data directory, e.g. ``~/.local/share/storyreel`` on Linux."""
    return user_data_path("storyreel", appauthor=False)
