"""The video editor (issue 28 item 4; seed 004 stories 6.1–6.6): a timeline of the shots of a made video — split at
the playhead, trim, merge, reorder, delete, duplicate, undo and redo — each edit saved at once as a version, then the
540p preview brought up to date by a ``preview`` job; "Export" renders the current version at full size as a ``make``
job (live progress and cancel on the job). Two versions compare side by side. Pages, and JSON under
``/api/projects/{id}``; another user's project is 404.

An edit arriving while the preview job of an earlier edit runs stops that job first (its finished nodes stay cached);
while an export runs, edits are refused (409) until it ends or is canceled.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from storyreel import api
from storyreel.api import editor
from storyreel.core.errors import InputError
from storyreel.jobs import service as jobs
from storyreel.web import files
from storyreel.web.deps import ApiProject, ApiUser, PageProject, PageUser, Ws
from storyreel.web.templating import render

api_router = APIRouter(prefix="/api/projects/{project_id}", tags=["editor"])
pages = APIRouter(prefix="/projects/{project_id}", include_in_schema=False)

class EditBody(BaseModel):
    """One edit, as ``storyreel edit`` takes it (times in seconds from the shot's start; positions from 1)."""

    op: Literal["split", "merge", "move", "delete", "duplicate", "trim", "undo", "redo", "restore"]
    shot_id: str | None = Field(default=None, max_length=64)
    other: str | None = Field(default=None, max_length=64, description="merge: the shot right after ``shot_id``.")
    at: float | None = Field(default=None, description="split: seconds from the shot's start.")
    to: int | None = Field(default=None, description="move: the new position, 1 = first.")
    in_s: float | None = Field(default=None, description="trim: the new start, seconds from the shot's start.")
    out_s: float | None = Field(default=None, description="trim: the new end, seconds from the shot's start.")
    version: int | None = Field(default=None, description="restore: the version.")
    preview: bool = Field(default=True, description="Queue the preview of the new version.")


def _preview_job(ws: api.Workspace, project_id: str, user_id: int) -> dict | None:
    """Queue a preview of the current version (none when another job is active: the editor asks again after it)."""
    try:
        return jobs.submit(ws, "preview", project_id, {"project_id": project_id}, user_id=user_id).as_dict()
    except api.JobConflict:
        return None


# ------------------------------------------------------------------------------------------ JSON
@api_router.get("/timeline")
def timeline_json(project: ApiProject, ws: Ws) -> dict:
    """The current version's timeline: shots with start and length (seconds), words, versions, undo/redo, whether the
    preview and the exported video show this version, and the project's active job."""
    active = jobs.active(ws, project.id)
    return {**editor.timeline(project), "job": active.as_dict() if active else None}


@api_router.post("/edits")
def edit_json(body: EditBody, project: ApiProject, user: ApiUser, ws: Ws) -> dict:
    """Apply one edit (saved at once as a version) and queue the preview: ``{"edited", "timeline", "job"}``. An invalid
    edit is 422 naming the reason and changes nothing; 409 while the video is being exported."""
    jobs.stop_preview(ws, project.id, user_id=user.id)
    request = api.EditRequest.build(project=project.id, workspace=project.ws.root, render=False, wait=True,
                                    **body.model_dump(exclude={"preview"}, exclude_none=True))
    result = api.edit(request)
    job = _preview_job(ws, project.id, user.id) if body.preview else None
    return {"edited": result.edited, "timeline": editor.timeline(project), "job": job}


@api_router.post("/preview", status_code=202)
def preview_json(project: ApiProject, user: ApiUser, ws: Ws) -> dict:
    """Queue the preview of the current version (409 while another job of the project is active)."""
    return jobs.submit(ws, "preview", project.id, {"project_id": project.id}, user_id=user.id).as_dict()


@api_router.post("/export", status_code=202)
def export_json(project: ApiProject, user: ApiUser, ws: Ws) -> dict:
    """Render the current version at full size ("Export"): a ``make`` job, whose progress and cancel are the job's
    (``/api/jobs/{id}``). A preview job still running is stopped first."""
    return jobs.rerun(ws, "make", project.id, user_id=user.id).as_dict()


@api_router.get("/preview.mp4", response_class=Response)
def preview_video(request: Request, project: ApiProject) -> Response:
    """The preview (540p MP4, range requests)."""
    return files.serve(project, request=request, path=editor.preview_file(project, "video.mp4"))


@api_router.get("/preview.vtt", response_class=Response)
def preview_subtitles(request: Request, project: ApiProject) -> Response:
    """The preview's WebVTT subtitles."""
    return files.serve(project, request=request, path=editor.preview_file(project, "video.vtt"))


@api_router.get("/versions/compare")
def compare_json(project: ApiProject, a: int, b: int) -> dict:
    """Two versions side by side: what each is, whether its video is kept, and the shots that differ."""
    return editor.compare(project, a, b)


@api_router.get("/versions/{version}/video", response_class=Response)
def version_video(request: Request, version: int, project: ApiProject) -> Response:
    """Version ``version``'s video as the build cache keeps it — the exported one, else its preview (MP4, range
    requests); 404 when neither is kept."""
    kept = editor.version_video(project, version)
    if kept is None:
        raise HTTPException(404, f"version {version} has no video kept")
    return files.serve(project, request=request, path=kept[0], media_type="video/mp4")


# ------------------------------------------------------------------------------------------ pages
@pages.get("/edit")
def editor_page(request: Request, project: PageProject) -> HTMLResponse:
    """The timeline editor (its script loads the timeline from JSON)."""
    if not project.paths.video.exists():
        raise InputError("the video is not made yet", field="PROJECT", hint="wait for the video, then edit it")
    active = jobs.active(project.ws, project.id)
    data = {**editor.timeline(project), "job": active.as_dict() if active else None}
    return render(request, "editor.html", t=data, project_id=project.id, nav="projects")


@pages.get("/versions")
def versions_page(request: Request, project: PageProject, a: int | None = None, b: int | None = None) -> HTMLResponse:
    """Two versions side by side: their videos and the shots that differ (default: the first against the current)."""
    listed = editor.timeline(project)["versions"]
    if not listed:
        return render(request, "versions.html", versions=[], cmp=None, project_id=project.id, nav="projects")
    current = next(v["version"] for v in listed if v["current"])
    a = a if a is not None else listed[0]["version"]
    b = b if b is not None else current
    return render(request, "versions.html", versions=listed, cmp=editor.compare(project, a, b), project_id=project.id, nav="projects")


@pages.post("/versions/{version}/restore")
def restore_version(version: int, request: Request, project: PageProject, user: PageUser, ws: Ws) -> Response:
    """"Restore": version ``version`` becomes the current one (recorded as a new version), the preview is queued, and the
    editor opens on it. While an export runs: 409."""
    jobs.stop_preview(ws, project.id, user_id=user.id)
    api.edit(api.EditRequest.build(project=project.id, workspace=project.ws.root, op="restore", version=version, render=False, wait=True))
    _preview_job(ws, project.id, user.id)
    return RedirectResponse(f"/projects/{project.id}/edit", 303)
