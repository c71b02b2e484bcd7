"""A project's files for the browser: only names we choose (the shot ID is checked against the
storyboard's ID rule), resolved inside the project folder and refused if a link points elsewhere. Video and
audio answer HTTP range requests (Starlette's ``FileResponse``: 206 with ``Content-Range``, RFC 9110 §14).

With shared storage (``STORYREEL_STORAGE_URL``) a file the project's tree lists is streamed from the bucket instead —
one ranged GET per request, in chunks, never the whole file in memory — with the same range semantics (a single range
answered 206, several answered whole, an unsatisfiable one 416)."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

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
          media_type: str | None = None, request: Request | None = None) -> Response:
    """A file of the project (range requests supported), optionally as a download named ``download_name``; its type from
    its suffix unless ``media_type`` names it (a build-cache object has no suffix). With shared storage and ``request``
    (for its ``Range`` header) a file the bucket holds is streamed from there (:func:`_from_storage`)."""
    kind = media_type or MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    stored = project.stored(path) if request is not None and _contained(project, path) else None
    if stored is not None:
        return _from_storage(request, *stored, kind, headers, download_name)
    real = inside(project, path)
    return FileResponse(real, media_type=kind, headers=headers,
                        filename=download_name, content_disposition_type="attachment" if download_name else "inline")


def _contained(project: api.Project, path: Path) -> bool:
    """Whether ``path`` names a place inside the project folder (no file needed: the bucket may hold it alone)."""
    import os

    return Path(os.path.abspath(path)).is_relative_to(Path(os.path.abspath(project.paths.root)))


def _from_storage(request: Request, size: int, read, kind: str, headers: dict, download_name: str | None) -> Response:  # noqa: ANN001 - read(start, end) → Iterator[bytes]
    """The file ``read`` streams, answering ``request``'s ``Range`` like Starlette's ``FileResponse`` (whose parser it
    uses: RFC 9110 §14.2)."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    if download_name:
        headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    wanted = request.headers.get("range")
    if wanted and size:
        try:
            ranges = FileResponse._parse_range_header(wanted, size)
        except MalformedRangeHeader as exc:
            return Response(exc.content, status_code=400, media_type="text/plain")
        except RangeNotSatisfiable:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        if len(ranges) == 1:
            start, end = ranges[0]
            headers.update({"Content-Range": f"bytes {start}-{end - 1}/{size}", "Content-Length": str(end - start)})
            body = read(start, end) if request.method != "HEAD" else iter(())
            return StreamingResponse(body, status_code=206, media_type=kind, headers=headers)
    headers["Content-Length"] = str(size)
    return StreamingResponse(read(0, None) if request.method != "HEAD" and size else iter(()), media_type=kind, headers=headers)


def checked_shot(shot_id: str) -> str:
    """``shot_id`` when it is an ID (it becomes a file name); 404 for anything else."""
    if not is_valid_id(shot_id):
        raise HTTPException(404, "no such shot")
    return shot_id
