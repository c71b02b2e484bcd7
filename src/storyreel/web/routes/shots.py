"""Shots: a person edits a shot's narration or image prompt, picks one of its candidate images, or reads its
image's provenance record — as HTMX fragments of the project page (each form also works without JavaScript)
and as JSON under ``/api/projects/{id}/shots``. Each answer says which nodes are now stale; "Update video"
re-renders only those."""

from __future__ import annotations

import html
import json
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from storyreel import api
from storyreel.api import library
from storyreel.core.errors import InputError
from storyreel.web import files
from storyreel.web.deps import ApiProject, ApiUser, PageProject, PageUser, Ws
from storyreel.web.templating import error_page, render

api_router = APIRouter(prefix="/api/projects/{project_id}/shots/{shot_id}", tags=["shots"])
pages = APIRouter(prefix="/projects/{project_id}/shots/{shot_id}", include_in_schema=False)


class ShotEdit(BaseModel):
    narration: str | None = Field(default=None, max_length=5000)
    image_prompt: str | None = Field(default=None, max_length=4000, description="Empty clears it.")


class Pick(BaseModel):
    candidate: int | None = Field(ge=1, le=8, description="The candidate number (from 1); null: the best ranked again.")


class ClipPick(BaseModel):
    attempt: int | None = Field(ge=1, le=4, description="The clip attempt's number (from 1); null: the best scored again.")


def _pick(project: api.Project, shot_id: str, candidate: int | None, *, clip: bool = False) -> None:
    """Record a person's pick (a candidate image, or with ``clip`` a vendor clip attempt) without rendering (the
    stale panel then offers "Update video"); a running job → ``ProjectBusy``; an unknown shot, candidate or attempt
    → :class:`InputError` naming ``shot_id`` / ``candidate``."""
    api.pick(project=project.id, shot_id=shot_id, candidate=candidate, clip=clip, render=False, wait=False, workspace=project.ws.root)


# ------------------------------------------------------------------------------------------ JSON
@api_router.patch("")
def edit_json(shot_id: str, body: ShotEdit, project: ApiProject, user: ApiUser, ws: Ws) -> dict:
    """Edit a shot's narration and/or image prompt; answers the nodes now stale and why."""
    library.edit_shot(ws, project.id, shot_id, user_id=user.id, **body.model_dump(exclude_none=True))
    return {"shot_id": shot_id, "stale": library.stale(project)}


@api_router.post("/pick")
def pick_json(shot_id: str, body: Pick, project: ApiProject) -> dict:
    """A person's choice of the shot's candidate image (kept in the storyboard; it always wins); answers the
    nodes now stale — "Update video" (``POST …/make``) renders it."""
    _pick(project, shot_id, body.candidate)
    return {"shot_id": shot_id, "candidate": body.candidate, "stale": library.stale(project)}


@api_router.post("/pick-clip")
def pick_clip_json(shot_id: str, body: ClipPick, project: ApiProject) -> dict:
    """A person's choice of the shot's vendor clip attempt (kept in the storyboard; it wins over the scores); answers
    the nodes now stale — "Update video" re-renders the shot with it, buying nothing."""
    _pick(project, shot_id, body.attempt, clip=True)
    return {"shot_id": shot_id, "attempt": body.attempt, "stale": library.stale(project)}


# ------------------------------------------------------------------------------------------ pages
def _card(request: Request, ws: api.Workspace, user_id: int, project_id: str, shot_id: str, failure: str | None, update: dict,
          status_code: int = 422, **context: object) -> Response:
    """A shot's card after an inline change (HTMX): 200 with ``HX-Trigger: storyboard-changed`` (the stale
    panel reloads) when it worked, else (``failure``: the message, shown by the template from ``context``)
    ``status_code`` (422 bad input, 409 a job is making the video) swapped in place — the page's htmx
    configuration swaps those two."""
    shot = {**library.shot(ws, project_id, shot_id, user_id), **update}
    page = render(request, "_shot.html", status_code=200 if failure is None else status_code, shot=shot, project_id=project_id,
                  bust=int(time.time()), **context)
    if failure is None:
        page.headers["HX-Trigger"] = "storyboard-changed"
    else:
        page.headers["HX-Reswap"] = "outerHTML"
    return page


def _text(form, name: str) -> str | None:  # noqa: ANN001
    """A form field's text, None when the form did not send the field (an empty field is ``""``: "clear it")."""
    value = form.get(name)
    return value if isinstance(value, str) else None


@pages.post("")
async def edit(project_id: str, shot_id: str, request: Request, user: PageUser, ws: Ws) -> Response:
    """Save a shot's narration and image prompt from its card. An empty image prompt clears it (the image is
    then made from the shot's description); an empty narration is refused, next to the field. The form is read
    as sent: FastAPI's form parameters would turn an empty field into "not sent"."""
    form = await request.form()
    narration, image_prompt = _text(form, "narration"), _text(form, "image_prompt")
    error, status_code = None, 422
    try:
        await run_in_threadpool(library.edit_shot, ws, project_id, shot_id, user_id=user.id, narration=narration, image_prompt=image_prompt)
    except api.ProjectBusy as exc:
        error, status_code = f"{exc} — save again when it is done", 409
    except InputError as exc:
        if exc.field == "project":
            raise
        error = exc.message
    if not request.headers.get("hx-request"):
        if error is None:
            return RedirectResponse(f"/projects/{project_id}#shot-{shot_id}", 303)
        return error_page(request, status_code, "Not saved", error)
    kept = {} if error is None else {"narration": narration, "image_prompt": image_prompt}  # the text the person typed stays in the form
    cleared = error is None and image_prompt is not None and not image_prompt.strip()
    return await run_in_threadpool(lambda: _card(request, ws, user.id, project_id, shot_id, error,
                                                 {k: v for k, v in kept.items() if v is not None}, status_code=status_code,
                                                 error=error, saved=error is None, cleared=cleared))


def _pick_card(request: Request, project: api.Project, user_id: int, ws: api.Workspace, shot_id: str, value: str, *,
               clip: bool) -> Response:
    """A pick from the shot's card: ``value`` a number or ``auto``; with HTMX the card again (saying which one the next
    update uses: the selection record still shows the last choice), else a redirect, or the error page."""
    what = "an attempt" if clip else "a candidate"
    chosen = None if value == "auto" else int(value) if value.isdigit() and len(value) < 4 else -1
    error, status_code = None, 422
    try:
        if chosen == -1:
            raise InputError(f"{value[:20]!r} is not {what} number", field="candidate")
        _pick(project, shot_id, chosen, clip=clip)
    except api.ProjectBusy as exc:
        error, status_code = f"{exc} — pick again when it is done", 409
    except InputError as exc:
        error = exc.message
    if not request.headers.get("hx-request"):
        if error is None:
            return RedirectResponse(f"/projects/{project.id}#shot-{shot_id}", 303)
        return error_page(request, status_code, "Not picked", error)
    pending = {"pending_clip" if clip else "pending_pick": chosen or "auto"} if error is None else {}
    return _card(request, ws, user_id, project.id, shot_id, error, pending, status_code=status_code,
                 **{"clip_error" if clip else "pick_error": error})


@pages.post("/pick")
def pick(shot_id: str, request: Request, project: PageProject, user: PageUser, ws: Ws,
         candidate: Annotated[str, Form()] = "auto") -> Response:
    """Use one candidate as the shot's image (``auto``: the best ranked); the stale panel then offers "Update video"."""
    return _pick_card(request, project, user.id, ws, shot_id, candidate, clip=False)


@pages.post("/pick-clip")
def pick_clip(shot_id: str, request: Request, project: PageProject, user: PageUser, ws: Ws,
              attempt: Annotated[str, Form()] = "auto") -> Response:
    """Use one vendor clip attempt in the video (``auto``: the best scored); the stale panel then offers "Update video"."""
    return _pick_card(request, project, user.id, ws, shot_id, attempt, clip=True)


@pages.get("/provenance")
async def provenance(shot_id: str, project: PageProject) -> Response:
    """A shot's image sidecar (its provenance record), pretty-printed, for the lightbox."""
    record = library.provenance(project, files.checked_shot(shot_id))
    text = json.dumps(record, indent=2, ensure_ascii=False) if record else "no record yet"
    return HTMLResponse(html.escape(text))  # swapped into a <pre> as HTML: escaped, like every user text
