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


def _pick(project: api.Project, shot_id: str, candidate: int | None) -> None:
    """Record a person's pick without rendering (the stale panel then offers "Update video"); a running job
    → ``ProjectBusy``; an unknown shot or candidate → :class:`InputError` naming ``shot_id`` / ``candidate``."""
    api.pick(project=project.id, shot_id=shot_id, candidate=candidate, render=False, wait=False, workspace=project.ws.root)


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


# ------------------------------------------------------------------------------------------ pages
def _card(request: Request, ws: api.Workspace, user_id: int, project_id: str, shot_id: str, failure: str | None, update: dict,
          **context: object) -> Response:
    """A shot's card after an inline change (HTMX): 200 with ``HX-Trigger: storyboard-changed`` (the stale
    panel reloads) when it worked, else (``failure``: the message, shown by the template from ``context``)
    422 swapped in place."""
    shot = {**library.shot(ws, project_id, shot_id, user_id), **update}
    page = render(request, "_shot.html", status_code=200 if failure is None else 422, shot=shot, project_id=project_id,
                  bust=int(time.time()), **context)
    if failure is None:
        page.headers["HX-Trigger"] = "storyboard-changed"
    else:
        page.headers["HX-Reswap"] = "outerHTML"
    return page


@pages.post("")
def edit(project_id: str, shot_id: str, request: Request, user: PageUser, ws: Ws, narration: Annotated[str | None, Form()] = None,
         image_prompt: Annotated[str | None, Form()] = None) -> Response:
    error = None
    try:
        library.edit_shot(ws, project_id, shot_id, user_id=user.id, narration=narration, image_prompt=image_prompt)
    except InputError as exc:
        if exc.field == "project":
            raise
        error = exc.message
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/projects/{project_id}#shot-{shot_id}", 303) if error is None else error_page(request, 422, "Not saved", error)
    kept = {} if error is None else {"narration": narration, "image_prompt": image_prompt}  # the text the person typed stays in the form
    return _card(request, ws, user.id, project_id, shot_id, error, {k: v for k, v in kept.items() if v is not None or k == "image_prompt"},
                 error=error, saved=error is None)


@pages.post("/pick")
def pick(shot_id: str, request: Request, project: PageProject, user: PageUser, ws: Ws,
         candidate: Annotated[str, Form()] = "auto") -> Response:
    """Use one candidate as the shot's image (``auto``: the best ranked); the stale panel then offers "Update video"."""
    chosen = None if candidate == "auto" else int(candidate) if candidate.isdigit() else -1
    try:
        if chosen == -1:
            raise InputError(f"{candidate!r} is not a candidate number", field="candidate")
        _pick(project, shot_id, chosen)
        error = None
    except InputError as exc:
        error = exc.message
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/projects/{project.id}#shot-{shot_id}", 303) if error is None else error_page(request, 422, "Not picked", error)
    # the selection record still shows the last choice: say which one the next update uses
    return _card(request, ws, user.id, project.id, shot_id, error, {"pending_pick": chosen or "auto"} if error is None else {},
                 pick_error=error)


@pages.get("/provenance")
async def provenance(shot_id: str, project: PageProject) -> Response:
    """A shot's image sidecar (its provenance record), pretty-printed, for the lightbox."""
    record = library.provenance(project, files.checked_shot(shot_id))
    text = json.dumps(record, indent=2, ensure_ascii=False) if record else "no record yet"
    return HTMLResponse(html.escape(text))  # swapped into a <pre> as HTML: escaped, like every user text
