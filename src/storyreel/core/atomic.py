"""Atomic file writes: a crash leaves either the old or the new file, never a torn one.

Every writer in storyreel goes through here. The temp file lives beside its target (same folder, so
the final ``os.replace`` is a rename on one file system), has a name unique to the process and call
(two processes writing the same target never share a temp file) and keeps the target's suffix (so
ffmpeg and Pillow pick the format from it). Temp names match :data:`TEMP_GLOB`, so files left behind
by a killed process can be found and removed. Standard library only: the no-op ``make`` path imports it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_MARK = ".sr-tmp"
TEMP_GLOB = f".*{TEMP_MARK}*"
"""Glob of the temp files :func:`atomic_path` makes (``.<name>.<random>.sr-tmp<suffix>``)."""


def _temp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{TEMP_MARK}{path.suffix}", dir=path.parent)
    os.close(fd)
    return Path(tmp)


@contextmanager
def atomic_path(path: Path, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a fresh temp path beside ``path`` for a writer (Pillow, ffmpeg, a WAV writer) to fill; when
    the block ends without an exception the temp file replaces ``path``, otherwise it is removed.
    ``fsync`` flushes the file to disk before the rename (for small records that must survive a power cut)."""
    tmp = _temp_beside(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over ``path``."""
    with atomic_path(path, fsync=True) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: object) -> None:
    """Pretty JSON (2-space indent, sorted keys, UTF-8 kept readable) written atomically."""
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files left in ``folder`` (recursively) by killed writers; returns how many. Call only
    while holding the lock of whatever writes there (a live writer's temp file would go too)."""
    removed = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.rglob(TEMP_GLOB):
        try:
            tmp.unlink()
            removed += 1
        except OSError:
            pass
    return removed
