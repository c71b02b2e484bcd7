"""The layout of a project folder (atomic writes are :mod:`storyreel.core.atomic`)."""

from __future__ import annotations

from pathlib import Path


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
