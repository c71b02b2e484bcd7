"""Projects: the gallery, a new video from pasted text or an uploaded file (with its priced plan first), one
project's page, what an edit made stale, "Update video", regeneration, the image-quality page and delete — as
pages and as JSON under ``/api/projects``. Another user's project is 404, exactly like a missing one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from storyreel import api
from storyreel.api import library
from storyreel.core.errors import InputError
from storyreel.core.source import MAX_SCRIPT_CHARS
from storyreel.jobs import service as jobs
from storyreel.web import csrf
from storyreel.web.deps import ApiProject, ApiUser, PageProject, PageUser, Ws
from storyreel.web.templating import back, error_page, read_upload, render

api_router = APIRouter(prefix="/api", tags=["projects"])
pages = APIRouter(include_in_schema=False)

EXAMPLES = [
    {"name": "hare-and-tortoise", "file": "hare-and-tortoise.txt", "label": "The Hare and the Tortoise", "note": "a fable, 16:9, narrated"},
    {"name": "ad-brief", "file": "ad-brief.txt", "label": "Tide & Stone ad brief", "note": "a 20 s vertical ad from a prompt"},
    {"name": "gettysburg", "file": "gettysburg-address.txt", "label": "The Gettysburg Address", "note": "a speech with chapters"},
    {"name": "bitcoin-tr", "file": "chapters-bitcoin-tr.json", "label": "Bitcoin (Turkish chapter JSON)", "note": "Turkish narration"},
]
EXAMPLES_DIR = Path(__file__).resolve().parents[4] / "examples"
FORM_FIELDS = ("text", "file", "kind", "aspect_ratio", "language", "max_cost", "image_provider", "llm", "candidates", "clips", "attempts", "voice", "voice_name",
               "voice_style")


class NewProject(BaseModel):
    text: str = Field(description="A prompt (10–500 characters), a script, or chapter JSON.")
    title: str | None = Field(default=None, max_length=200)
    aspect_ratio: str | None = Field(default=None, description="16:9, 9:16 or 1:1 (default: chosen by the planner).")
    language: str | None = None
    image_provider: str | None = None
    llm: str | None = None
    max_cost: float | None = Field(default=None, ge=0)
    candidates: int | None = Field(default=None, ge=1, le=8, description="Candidate images per shot (best-of-N).")
    voice: str | None = Field(default=None, description="Narration: local, local:piper, local:espeak, elevenlabs:MODEL or google:MODEL.")
    voice_name: str | None = Field(default=None, max_length=120, description="The voice's ID (an ElevenLabs voice ID, a Gemini voice).")
    voice_style: str | None = Field(default=None, max_length=500, description="How to speak, for voices that take directions.")


class Regenerate(BaseModel):
    shots: list[str] = Field(default_factory=list, max_length=2000, description="Shot IDs; empty: every shot.")


# ------------------------------------------------------------------------------------------ JSON
@api_router.post("/projects", status_code=201, max_body_size=csrf.UPLOAD_BODY)
def create_json(body: NewProject, user: ApiUser, ws: Ws) -> dict:
    """A project from text, planned and queued: the project with ``id`` and ``job_id``."""
    project, job = jobs.create_project(ws, user_id=user.id, **body.model_dump())
    return {**project, "job_id": job.id}


@api_router.post("/projects/upload", status_code=201, max_body_size=csrf.UPLOAD_BODY, form_limits=csrf.FORM_LIMITS)
async def upload_json(user: ApiUser, ws: Ws, file: Annotated[UploadFile, File()], title: Annotated[str | None, Form()] = None,
                      aspect_ratio: Annotated[str | None, Form()] = None) -> dict:
    """A project from an uploaded ``.txt`` / ``.md`` / chapter ``.json`` file (size limit
    ``STORYREEL_MAX_UPLOAD_BYTES``)."""
    data = await read_upload(file, ws.settings.max_upload_bytes)
    project, job = await run_in_threadpool(lambda: jobs.create_project(
        ws, user_id=user.id, file_name=file.filename, data=data, title=title, aspect_ratio=aspect_ratio or None))
    return {**project, "job_id": job.id}


@api_router.get("/projects")
async def list_json(user: ApiUser, ws: Ws, q: str | None = Query(default=None, max_length=200), status: str | None = None,
                    page: int = Query(default=1, ge=1)) -> dict:
    """The user's projects, newest first: ``q`` searches title and input text, ``status`` filters."""
    found = library.gallery(ws, user_id=user.id, q=q, status=status or None, page=page)
    return {"items": found.items, "total": found.total, "page": found.page, "pages": found.pages}


@api_router.get("/projects/{project_id}")
async def project_json(project_id: str, user: ApiUser, ws: Ws) -> dict:
    """The project: storyboard (chapters → shots with image sidecars), latest jobs, QC report, cost."""
    return library.page(ws, project_id, user.id)


@api_router.get("/projects/{project_id}/status")
def status_json(project: ApiProject) -> dict:
    """The nodes that are not fresh and why (the engine's typed causes), and ``changes``: the same in words —
    per shot what changed and what is remade, what of the whole video follows, about how long, what it costs."""
    changes = library.changes(project)
    return {"stale": changes.pop("nodes"), "changes": changes}


@api_router.get("/projects/{project_id}/quality")
def quality_json(project: ApiProject) -> dict:
    """Per shot the candidates, scores, the pick and who made it; score distributions and the override rate."""
    return api.quality(project=project.id, workspace=project.ws.root).as_dict()


@api_router.post("/projects/{project_id}/make", status_code=202)
def update_json(project: ApiProject, user: ApiUser, ws: Ws) -> dict:
    """Queue a ``make`` of the project: only the nodes that are not fresh run."""
    return jobs.rerun(ws, "make", project.id, user_id=user.id).as_dict()


@api_router.post("/projects/{project_id}/regenerate", status_code=202)
def regenerate_json(body: Regenerate, project: ApiProject, user: ApiUser, ws: Ws) -> dict:
    """New images for the given shots (all when empty), then the video from them."""
    return jobs.rerun(ws, "regenerate", project.id, user_id=user.id, shots=body.shots).as_dict()


@api_router.delete("/projects/{project_id}", status_code=204)
def delete_json(project_id: str, user: ApiUser, ws: Ws) -> Response:
    """Delete the project's files and rows (409 while a job runs)."""
    library.delete_project(ws, project_id, user_id=user.id)
    return Response(status_code=204)


# ------------------------------------------------------------------------------------------ pages
@pages.get("/")
async def gallery(request: Request, user: PageUser, ws: Ws, q: str = "", status: str = "", page: int = 1) -> HTMLResponse:
    found = library.gallery(ws, user_id=user.id, q=q[:200] or None, status=status if status in library.STATUSES else None, page=max(1, page))
    context = {"page": found, "q": q[:200], "status": status, "statuses": library.STATUSES, "examples": EXAMPLES, "nav": "projects"}
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        return render(request, "_grid.html", **context)
    return render(request, "gallery.html", **context)


def _new_form(request: Request, ws: api.Workspace, *, form: dict, errors: dict, status_code: int = 200) -> HTMLResponse:
    return render(request, "new.html", status_code=status_code, form=form, errors=errors, nav="new", choices=library.provider_choices(ws),
                  max_upload=ws.settings.max_upload_bytes, max_script=MAX_SCRIPT_CHARS, default_cap=ws.settings.max_cost_usd)


@pages.get("/new")
def new_page(request: Request, user: PageUser, ws: Ws, example: str = "") -> HTMLResponse:
    form = {"text": "", "title": "", "aspect_ratio": "", "language": "", "max_cost": "", "image_provider": "", "llm": "", "candidates": "",
            "voice": "", "voice_name": "", "voice_style": "", "clips": "", "attempts": "", "kind": ""}
    chosen = next((e for e in EXAMPLES if e["name"] == example), None)
    if chosen and (EXAMPLES_DIR / chosen["file"]).is_file():
        form.update(text=(EXAMPLES_DIR / chosen["file"]).read_text(encoding="utf-8"), title=chosen["label"])
    return _new_form(request, ws, form=form, errors={})


@pages.post("/new", max_body_size=csrf.UPLOAD_BODY, form_limits=csrf.FORM_LIMITS)
async def create(request: Request, user: PageUser, ws: Ws, text: Annotated[str, Form()] = "",
                 title: Annotated[str, Form(max_length=200)] = "", aspect_ratio: Annotated[str, Form()] = "",
                 language: Annotated[str, Form(max_length=16)] = "", max_cost: Annotated[str, Form()] = "",
                 image_provider: Annotated[str, Form()] = "", llm: Annotated[str, Form()] = "", candidates: Annotated[str, Form()] = "",
                 voice: Annotated[str, Form(max_length=120)] = "", voice_name: Annotated[str, Form(max_length=120)] = "",
                 voice_style: Annotated[str, Form(max_length=500)] = "", clips: Annotated[str, Form(max_length=200)] = "",
                 attempts: Annotated[str, Form()] = "", kind: Annotated[str, Form(max_length=10)] = "",
                 file: Annotated[UploadFile | None, File()] = None) -> Response:
    form = {"text": text, "title": title, "aspect_ratio": aspect_ratio, "language": language, "max_cost": max_cost,
            "image_provider": image_provider, "llm": llm, "candidates": candidates, "voice": voice, "voice_name": voice_name,
            "voice_style": voice_style, "clips": clips, "attempts": attempts, "kind": kind}

    def refused(field: str, message: str, status_code: int = 422):  # noqa: ANN202 - the form again, the message by the field
        return run_in_threadpool(lambda: _new_form(request, ws, form=form, errors={field: message}, status_code=status_code))

    data, name = None, None
    if file is not None and file.filename:
        try:
            data, name = await read_upload(file, ws.settings.max_upload_bytes), file.filename
        except HTTPException as exc:  # over the limit: shown next to the field
            return await refused("file", str(exc.detail), 413)
    try:
        cap = float(max_cost) if max_cost.strip() else None
    except ValueError:
        return await refused("max_cost", "give a number of USD, e.g. 5")
    count = int(candidates) if candidates.strip().isdigit() else None
    if candidates.strip() and (count is None or not 1 <= count <= 8):
        return await refused("candidates", "give 1 to 8 candidate images per shot")
    tries = int(attempts) if attempts.strip().isdigit() else None
    if attempts.strip() and (tries is None or not 1 <= tries <= 4):
        return await refused("attempts", "give 1 to 4 clips per shot")

    def submit():  # noqa: ANN202
        return jobs.create_project(ws, user_id=user.id, text=None if data is not None else text, file_name=name, data=data,
                                   title=title or None, aspect_ratio=aspect_ratio or None, language=language or None,
                                   image_provider=image_provider or None, llm=llm or None, max_cost=cap, candidates=count,
                                   voice=voice or None, voice_name=voice_name or None, voice_style=voice_style or None,
                                   clips=clips or None, attempts=tries, kind="story" if kind == "story" else None)
    try:
        project, _job = await run_in_threadpool(submit)
    except InputError as exc:
        return await refused(exc.field if exc.field in FORM_FIELDS else "form", exc.message + (f" — {exc.hint}" if exc.hint else ""))
    return RedirectResponse(f"/projects/{project['id']}", 303)


@pages.post("/new/estimate", max_body_size=csrf.UPLOAD_BODY, form_limits=csrf.FORM_LIMITS)
def estimate(request: Request, user: PageUser, ws: Ws, text: Annotated[str, Form()] = "", aspect_ratio: Annotated[str, Form()] = "",
             language: Annotated[str, Form(max_length=16)] = "", image_provider: Annotated[str, Form()] = "",
             llm: Annotated[str, Form()] = "", voice: Annotated[str, Form(max_length=120)] = "") -> HTMLResponse:
    """The priced plan of the form's text (HTMX fragment): shots, images by the provider, estimated USD."""
    est, error = None, None
    if text.strip():
        try:
            est = library.estimate_new(ws, text=text, aspect_ratio=aspect_ratio or None, language=language or None,
                                       image_provider=image_provider or None, llm=llm or None, voice=voice or None)
        except InputError as exc:
            error = exc.message + (f" — {exc.hint}" if exc.hint else "")
    return render(request, "_estimate.html", est=est, error=error)


@pages.get("/projects/{project_id}")
async def project_page(project_id: str, request: Request, user: PageUser, ws: Ws) -> HTMLResponse:
    data = library.page(ws, project_id, user.id, with_cost=False)
    return render(request, "project.html", p=data, project_id=project_id, bust=int(time.time()), nav="projects")


@pages.get("/projects/{project_id}/summary")
async def summary(request: Request, project: PageProject) -> HTMLResponse:
    """The cost and QC panels of the project page (loaded after the page)."""
    return render(request, "_summary.html", cost=library.cost_summary(project), qc=library.qc_report(project))


@pages.get("/projects/{project_id}/stale")
def stale(request: Request, project: PageProject, ws: Ws) -> HTMLResponse:
    """What "Update video" would redo, in words (the node list one click away); while a job makes the video,
    a calm note instead (the page reloads when the job ends)."""
    active = jobs.active(ws, project.id)
    busy = active is not None and active.kind != "preview"  # the editor's preview leaves the video as it is
    return render(request, "_stale.html", changes=None if busy else library.changes(project), project_id=project.id, busy=busy)


@pages.get("/projects/{project_id}/quality")
def quality_page(request: Request, project: PageProject) -> HTMLResponse:
    """Score distributions, the override rate and per shot the candidates and the pick (FR-043)."""
    data = api.quality(project=project.id, workspace=project.ws.root).as_dict()
    return render(request, "quality.html", q=data, project_id=project.id, bust=int(time.time()), nav="projects")


@pages.post("/projects/{project_id}/make")
def update_video(request: Request, project: PageProject, user: PageUser, ws: Ws) -> Response:
    jobs.rerun(ws, "make", project.id, user_id=user.id)
    return back(request, f"/projects/{project.id}")


class StoryPick(BaseModel):
    step: str = Field(pattern="^(lore|narrative|scenes)$", description="The story step: lore, narrative or scenes (with scene options).")
    option: int | None = Field(ge=1, le=8, description="The option (from 1); null: option 1 again.")


def _story_pick(project: api.Project, step: str, option: int | None) -> None:
    """Record a person's pick of a story step's option (the video is updated by "Update video"). Raises
    :class:`InputError` naming ``candidate`` for an option not made, ``ProjectBusy`` while a job writes the project."""
    api.pick(project=project.id, shot_id=step, candidate=option, render=False, wait=False, workspace=project.ws.root)


@api_router.post("/projects/{project_id}/story/pick")
def story_pick_json(body: StoryPick, project: ApiProject) -> dict:
    """Use option ``option`` of a story step; answers the nodes now stale (``POST …/make`` updates the video)."""
    _story_pick(project, body.step, body.option)
    return {"step": body.step, "option": body.option, "stale": library.stale(project)}


@pages.post("/projects/{project_id}/story/pick")
def story_pick(request: Request, project: PageProject, user: PageUser, step: Annotated[str, Form(max_length=20)] = "",
               option: Annotated[str, Form(max_length=3)] = "") -> Response:
    """The story options' "Use this": the pick is kept and the stale panel offers "Update video"."""
    if step not in ("lore", "narrative", "scenes") or not option.isdigit():
        return error_page(request, 422, "Not picked", "pick one of the options shown (lore, narrative or scenes, a number)")
    try:
        _story_pick(project, step, int(option))
    except api.ProjectBusy as exc:
        return error_page(request, 409, "Not picked", f"{exc} — pick again when it is done")
    except InputError as exc:
        return error_page(request, 422, "Not picked", exc.message)
    return back(request, f"/projects/{project.id}#story")


@pages.get("/projects/{project_id}/regenerate")
def regenerate_confirm(request: Request, project: PageProject, user: PageUser, ws: Ws) -> HTMLResponse:
    est = library.regenerate_estimate(ws, project.id, user_id=user.id)
    return render(request, "confirm.html", est=est, project_id=project.id)


@pages.post("/projects/{project_id}/regenerate")
def regenerate(request: Request, project: PageProject, user: PageUser, ws: Ws,
               shots: Annotated[list[str] | None, Form()] = None) -> Response:
    jobs.rerun(ws, "regenerate", project.id, user_id=user.id, shots=[s for s in (shots or []) if s])
    return back(request, f"/projects/{project.id}")


@pages.post("/projects/{project_id}/delete")
def delete(project_id: str, request: Request, user: PageUser, ws: Ws) -> Response:
    library.delete_project(ws, project_id, user_id=user.id)
    return back(request, "/")
