"""Project folders and atomic writes: a crash leaves either the old or the new file, never a torn one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from storyreel.core.hashing import canonical_json


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: Any) -> None:
    """Pretty JSON (2-space indent, UTF-8 kept readable) written atomically."""
    atomic_write_text(path, json.dumps(json.loads(canonical_json(value)), indent=2, ensure_ascii=False) + "\n")


class ProjectPaths:
    """Layout of one project folder (ARCHITECTURE.md "Store and files")."""

    def __init__(self, workspace: Path, project_id: str) -> None:
        self.root = workspace / "projects" / project_id

    @property
    def storyboard(self) -> Path:
        return self.root / "storyboard.json"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def audio(self) -> Path:
        return self.root / "audio"

    @property
    def clips(self) -> Path:
        return self.root / "clips"

    @property
    def work(self) -> Path:
        """Scratch files of the render (cue and overlay images, concat list, audio mix)."""
        return self.root / "work"

    @property
    def provenance(self) -> Path:
        return self.root / "provenance"

    @property
    def video(self) -> Path:
        return self.root / "video.mp4"

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()
