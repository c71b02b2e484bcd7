"""A project's files for the browser: only names we choose (the shot ID is checked against the
storyboard's ID rule), resolved inside the project folder and refused if a link points elsewhere. Video and
audio answer HTTP range requests (Starlette's ``FileResponse``: 206 with ``Content-Range``, RFC 9110 §14)."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import FileResponse

from storyreel import api
from storyreel.core.vocabulary import is_valid_id

MEDIA_TYPES = {".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg", ".vtt": "text/vtt", ".srt": "application/x-subrip",
               ".json": "application/json"}


def inside(project: api.Project, path: Path) -> Path:
    """``path`` resolved, when it is a file inside the project folder; else 404."""
    root = project.paths.root.resolve()
    try:
        real = path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise HTTPException(404, "no such file") from None
    if not real.is_relative_to(root) or not real.is_file():
        raise HTTPException(404, "no such file")
    return real


def serve(project: api.Project, path: Path, *, download_name: str | None = None, cache: str = "private, no-cache",
          media_type: str | None = None) -> FileResponse:
    """A file of the project (range requests supported), optionally as a download named ``download_name``; its type from
    its suffix unless ``media_type`` names it (a build-cache object has no suffix)."""
    real = inside(project, path)
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    return FileResponse(real, media_type=media_type or MEDIA_TYPES.get(real.suffix.lower(), "application/octet-stream"), headers=headers,
                        filename=download_name, content_disposition_type="attachment" if download_name else "inline")


def checked_shot(shot_id: str) -> str:
    """``shot_id`` when it is an ID (it becomes a file name); 404 for anything else."""
    if not is_valid_id(shot_id):
        raise HTTPException(404, "no such shot")
    return shot_id
