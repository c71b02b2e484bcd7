"""The JSON API under ``/api``: everything the pages do. Authenticate with ``POST /api/auth/token`` and
send ``Authorization: Bearer <access_token>`` (or use the dashboard's session cookie plus the CSRF
header). Another user's project or job is 404, the same as one that does not exist."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from storyreel.api import jobs, library
from storyreel.api.accounts import accounts
from storyreel.store.files import ProjectPaths
from storyreel.store.jobs import ACTIVE
from storyreel.store.models import User
from storyreel.web import files, views
from storyreel.web.auth import api_user

router = APIRouter(prefix="/api", tags=["api"])
Me = Annotated[User, Depends(api_user)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class NewProject(BaseModel):
    text: str = Field(description="A prompt (10–500 characters), a script, or chapter JSON.")
    title: str | None = Field(default=None, max_length=200)
    aspect_ratio: str | None = Field(default=None, description="16:9, 9:16 or 1:1 (default: chosen by the planner).")
    language: str | None = None
    image_provider: str | None = None
    llm: str | None = None
    max_cost: float | None = Field(default=None, ge=0)
    candidates: int | None = Field(default=None, ge=1, le=8, description="Candidate images per shot (best-of-N).")


class ShotEdit(BaseModel):
    narration: str | None = Field(default=None, max_length=5000)
    image_prompt: str | None = Field(default=None, max_length=4000, description="Empty clears it.")


class Pick(BaseModel):
    candidate: int | None = Field(ge=1, le=8, description="The candidate number (from 1); null: the best ranked again.")


class Regenerate(BaseModel):
    shots: list[str] = Field(default_factory=list, max_length=2000, description="Shot IDs; empty: every shot.")


@router.post("/auth/register", status_code=201)
def register(body: Credentials, request: Request) -> dict:
    """Create an account (username 3–32 of letters, digits, ``._-``; password 8–256 characters)."""
    user = accounts(request.app.state.workspace).register(body.username, body.password)
    return {"id": user.id, "username": user.username}


@router.post("/auth/token")
def token(body: Credentials, request: Request) -> dict:
    """A personal API token for ``Authorization: Bearer``. Failed attempts are throttled (429 + Retry-After)."""
    store = accounts(request.app.state.workspace)
    user = store.authenticate(body.username, body.password, client_address(request))
    return {"access_token": store.issue(user.id, "token"), "token_type": "bearer"}


@router.get("/me")
def me(user: Me, request: Request) -> dict:
    """Profile: videos made, total cost, member since, last login."""
    return accounts(request.app.state.workspace).profile(user.id)


@router.post("/projects", status_code=201)
def create_project(body: NewProject, user: Me, request: Request) -> dict:
    """A project from text, planned and queued: the project with ``id`` and ``job_id``."""
    project, job = library.create_project(**body.model_dump(), user_id=user.id, workspace=request.app.state.workspace)
    return {**project, "job_id": job.id}


@router.post("/projects/upload", status_code=201)
async def upload_project(user: Me, request: Request, file: Annotated[UploadFile, File()],
                         title: Annotated[str | None, Form()] = None, aspect_ratio: Annotated[str | None, Form()] = None) -> dict:
    """A project from an uploaded ``.txt`` / ``.md`` / chapter ``.json`` file (size limit
    ``STORYREEL_MAX_UPLOAD_BYTES``)."""
    data = await read_upload(file, request.app.state.settings.max_upload_bytes)
    project, job = await run_in_threadpool(lambda: library.create_project(
        file_name=file.filename, data=data, title=title, aspect_ratio=aspect_ratio or None, user_id=user.id,
        workspace=request.app.state.workspace))
    return {**project, "job_id": job.id}


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refusing more than ``limit`` (413) without reading the rest."""
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is over the limit of {limit:,} bytes; split the text")
    return data


@router.get("/projects")
async def list_projects(user: Me, request: Request, q: str | None = Query(default=None, max_length=200), status: str | None = None,
                  page: int = Query(default=1, ge=1)) -> dict:
    """The user's projects, newest first: ``q`` searches title and input text, ``status`` filters."""
    found = library.gallery(user_id=user.id, q=q, status=status or None, page=page, workspace=request.app.state.workspace)
    return {"items": found.items, "total": found.total, "page": found.page, "pages": found.pages}


@router.get("/projects/{project_id}")
async def project(project_id: str, user: Me, request: Request) -> dict:
    """The project: storyboard (chapters → shots with image sidecars), latest jobs, QC report, cost."""
    return views.project_page(project_id, user.id, request.app.state.workspace)


@router.get("/projects/{project_id}/status")
def project_status(project_id: str, user: Me, request: Request) -> dict:
    """The nodes that are not fresh and why (the engine's typed causes)."""
    library.owned(project_id, user.id, workspace=request.app.state.workspace)
    return {"stale": views.stale_nodes(project_id, request.app.state.workspace)}


@router.patch("/projects/{project_id}/shots/{shot_id}")
def edit_shot(project_id: str, shot_id: str, body: ShotEdit, user: Me, request: Request) -> dict:
    """Edit a shot's narration and/or image prompt; answers the nodes now stale and why."""
    workspace = request.app.state.workspace
    library.edit_shot(project_id, shot_id, user_id=user.id, workspace=workspace, **body.model_dump(exclude_none=True))
    return {"shot_id": shot_id, "stale": views.stale_nodes(project_id, workspace)}


@router.post("/projects/{project_id}/shots/{shot_id}/pick")
def pick(project_id: str, shot_id: str, body: Pick, user: Me, request: Request) -> dict:
    """A person's choice of the shot's candidate image (kept in the storyboard; it always wins); answers the
    nodes now stale — "Update video" (``POST …/make``) renders it."""
    workspace = request.app.state.workspace
    library.pick_candidate(project_id, shot_id, body.candidate, user_id=user.id, workspace=workspace)
    return {"shot_id": shot_id, "candidate": body.candidate, "stale": views.stale_nodes(project_id, workspace)}


@router.get("/projects/{project_id}/quality")
def quality(project_id: str, user: Me, request: Request) -> dict:
    """Per shot the candidates, scores, the pick and who made it; score distributions and the override rate."""
    return library.quality(project_id, user_id=user.id, workspace=request.app.state.workspace)


@router.post("/projects/{project_id}/make", status_code=202)
def update_video(project_id: str, user: Me, request: Request) -> dict:
    """Queue a ``make`` of the project: only the nodes that are not fresh run."""
    return _submit(project_id, "make", user, request)


@router.post("/projects/{project_id}/regenerate", status_code=202)
def regenerate(project_id: str, body: Regenerate, user: Me, request: Request) -> dict:
    """New images for the given shots (all when empty), then the video from them."""
    return _submit(project_id, "regenerate", user, request, shots=body.shots)


def _submit(project_id: str, kind: str, user: User, request: Request, **extra: object) -> dict:
    workspace = request.app.state.workspace
    row = library.owned(project_id, user.id, workspace=workspace)
    last = jobs.jobs(user_id=user.id, project_id=project_id, limit=50, workspace=workspace)
    base = next((dict(j.request) for j in reversed(last) if j.kind == "make"), {"project_id": row.id})
    base.pop("shots", None)
    job = jobs.submit(kind, project_id, {**base, **extra}, user_id=user.id, workspace=workspace)
    return job.as_dict()


@router.delete("/projects/{project_id}", status_code=204)
def delete_project(project_id: str, user: Me, request: Request) -> Response:
    """Delete the project's files and rows (409 while a job runs)."""
    library.delete_project(project_id, user_id=user.id, workspace=request.app.state.workspace)
    return Response(status_code=204)


def _paths(project_id: str, user: User, request: Request) -> ProjectPaths:
    library.owned(project_id, user.id, workspace=request.app.state.workspace)
    return ProjectPaths(request.app.state.workspace, project_id)


@router.get("/projects/{project_id}/video", response_class=Response)
def video(project_id: str, user: Me, request: Request, download: bool = False) -> Response:
    """``video.mp4`` with HTTP range requests (206); ``download=1`` names it ``storyreel_<project>.mp4``."""
    paths = _paths(project_id, user, request)
    return files.serve(paths, paths.video, download_name=f"storyreel_{project_id}.mp4" if download else None)


@router.get("/projects/{project_id}/subtitles.vtt", response_class=Response)
def subtitles(project_id: str, user: Me, request: Request) -> Response:
    """The WebVTT subtitle track of the video."""
    paths = _paths(project_id, user, request)
    return files.serve(paths, paths.root / "video.vtt")


@router.get("/projects/{project_id}/thumbnail", response_class=Response)
def thumbnail(project_id: str, user: Me, request: Request) -> Response:
    """The video's thumbnail, else the first shot's image."""
    paths = _paths(project_id, user, request)
    thumb = paths.root / "thumbnail.jpg"
    if not thumb.exists():
        first = next(iter(sorted(paths.images.glob("*.png"))), None) if paths.images.is_dir() else None
        if first is None:
            raise HTTPException(404, "no thumbnail yet")
        thumb = first
    return files.serve(paths, thumb)


@router.get("/projects/{project_id}/images/{shot_id}", response_class=Response)
def image(project_id: str, shot_id: str, user: Me, request: Request) -> Response:
    """A shot's image (PNG)."""
    paths = _paths(project_id, user, request)
    return files.serve(paths, files.shot_image(paths, shot_id))


@router.get("/projects/{project_id}/images/{shot_id}/candidates/{index}", response_class=Response)
def candidate_image(project_id: str, shot_id: str, index: int, user: Me, request: Request) -> Response:
    """Candidate ``index`` (1–8) of a shot (PNG)."""
    paths = _paths(project_id, user, request)
    files.shot_image(paths, shot_id)  # 404 unless an ID
    if not 1 <= index <= 8:
        raise HTTPException(404, "no such candidate")
    return files.serve(paths, paths.candidate(shot_id, index))


@router.get("/projects/{project_id}/qc")
def qc(project_id: str, user: Me, request: Request) -> dict:
    """The QC report (``qc.json``)."""
    report = views.qc_report(_paths(project_id, user, request))
    if report is None:
        raise HTTPException(404, "no QC report yet")
    return report


@router.get("/jobs")
def list_jobs(user: Me, request: Request, project_id: str | None = None) -> dict:
    """The user's jobs, newest first."""
    return {"items": [j.as_dict() for j in jobs.jobs(user_id=user.id, project_id=project_id, workspace=request.app.state.workspace)]}


def _job(job_id: str, user: User, request: Request):  # noqa: ANN202
    view = jobs.job(job_id, user_id=user.id, workspace=request.app.state.workspace)
    if view is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return view


@router.get("/jobs/{job_id}")
def job(job_id: str, user: Me, request: Request) -> dict:
    """The job: ``state``, ``progress`` 0–100, ``stage``, ``node``, ``message``, ``cost_usd``, ``elapsed_s``."""
    return _job(job_id, user, request).as_dict()


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, user: Me, request: Request) -> dict:
    """Stop the job at its next checkpoint (a queued job at once). Finished nodes stay cached."""
    _job(job_id, user, request)
    return jobs.cancel(job_id, user_id=user.id, workspace=request.app.state.workspace).as_dict()


@router.post("/jobs/{job_id}/resume")
def resume(job_id: str, user: Me, request: Request) -> dict:
    """Queue an ended job again; it continues from what is done."""
    _job(job_id, user, request)
    return jobs.resume(job_id, user_id=user.id, workspace=request.app.state.workspace).as_dict()


POLL_S = 0.25
"""How often the event stream reads new job events (a finished node reaches the browser within this plus
the database write)."""


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse)
async def events(job_id: str, user: Me, request: Request) -> EventSourceResponse:
    """Server-Sent Events: ``job`` (the job's state now), then ``node`` and ``state`` events as they happen,
    and a last ``job`` when it ends. Reconnecting with ``Last-Event-ID`` resumes after that event."""
    workspace = request.app.state.workspace
    view = await run_in_threadpool(_job, job_id, user, request)
    try:
        after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)
    except ValueError:
        after = 0

    async def stream():  # noqa: ANN202
        nonlocal after
        yield {"event": "job", "data": json.dumps(view.as_dict())}
        while not await request.is_disconnected():
            batch = await run_in_threadpool(jobs.events, job_id, after=after, user_id=user.id, workspace=workspace)
            for event in batch or []:
                after = event["id"]
                yield {"id": str(event["id"]), "event": event["kind"], "data": json.dumps(event)}
            now = await run_in_threadpool(jobs.job, job_id, user_id=user.id, workspace=workspace)
            if now is None or (now.state not in ACTIVE and not batch):
                if now is not None:
                    yield {"event": "job", "data": json.dumps(now.as_dict())}
                return
            await asyncio.sleep(POLL_S)

    return EventSourceResponse(stream(), ping=15)
