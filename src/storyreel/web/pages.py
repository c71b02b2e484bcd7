"""The dashboard's HTML pages (Jinja2, autoescaped; HTMX for partial updates, every form also works
without JavaScript). Routes call :mod:`storyreel.api` and :mod:`storyreel.web.views` only."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from storyreel import __version__
from storyreel.api import jobs, library
from storyreel.api.accounts import accounts
from storyreel.core.errors import InputError
from storyreel.store.accounts import Throttled
from storyreel.store.files import ProjectPaths
from storyreel.store.models import User
from storyreel.web import views
from storyreel.web.api_routes import client_address, read_upload
from storyreel.web.auth import SESSION_COOKIE, optional_user, page_user, set_session

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
Me = Annotated[User, Depends(page_user)]

EXAMPLES = [
    {"name": "hare-and-tortoise", "file": "hare-and-tortoise.txt", "label": "The Hare and the Tortoise", "note": "a fable, 16:9, narrated"},
    {"name": "ad-brief", "file": "ad-brief.txt", "label": "Tide & Stone ad brief", "note": "a 20 s vertical ad from a prompt"},
    {"name": "gettysburg", "file": "gettysburg-address.txt", "label": "The Gettysburg Address", "note": "a speech with chapters"},
    {"name": "bitcoin-tr", "file": "chapters-bitcoin-tr.json", "label": "Bitcoin (Turkish chapter JSON)", "note": "Turkish narration"},
]
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"


def render(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """A template with the page's common context: user, CSRF token, version."""
    base = {"user": getattr(request.state, "user", None), "csrf": request.scope["csrftoken"](), "version": __version__}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def error_page(request: Request, status: int, heading: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, heading=heading, message=message)


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _back(request: Request, url: str) -> Response:
    """After a form post: a 303 to ``url`` (HTMX follows with ``HX-Redirect``)."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, 303)


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    await optional_user(request)
    return render(request, "auth.html", heading="Log in", action="/login", register=False, next_url=_safe_next(next), username="", error=None)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    store = accounts(request.app.state.workspace)
    try:
        user = store.authenticate(username, password, client_address(request))
    except Throttled as exc:
        page = render(request, "auth.html", status_code=429, heading="Log in", action="/login", register=False, next_url=_safe_next(next),
                      username=username, error=str(exc))
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except InputError as exc:
        return render(request, "auth.html", status_code=401, heading="Log in", action="/login", register=False, next_url=_safe_next(next),
                      username=username, error=exc.message)
    response = RedirectResponse(_safe_next(next), 303)
    set_session(response, request, store.issue(user.id, "session"))
    return response


@router.get("/register")
async def register_page(request: Request) -> HTMLResponse:
    await optional_user(request)
    return render(request, "auth.html", heading="Create account", action="/register", register=True, next_url="/", username="", error=None)


@router.post("/register")
def register(request: Request, username: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "") -> Response:
    store = accounts(request.app.state.workspace)
    try:
        user = store.register(username, password)
    except InputError as exc:
        return render(request, "auth.html", status_code=422, heading="Create account", action="/register", register=True, next_url="/",
                      username=username, error=f"{exc.field}: {exc.message}")
    response = RedirectResponse("/", 303)
    set_session(response, request, store.issue(user.id, "session"))
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        accounts(request.app.state.workspace).revoke(secret)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def gallery(request: Request, user: Me, q: str = "", status: str = "", page: int = 1) -> HTMLResponse:
    found = library.gallery(user_id=user.id, q=q[:200] or None, status=status if status in library.STATUSES else None,
                            page=max(1, page), workspace=request.app.state.workspace)
    projects = os.path.join(request.app.state.workspace, "projects")
    for item in found.items:  # a picture to show: the video's thumbnail, else the first image made (IDs come from our rows)
        root = os.path.join(projects, item["id"])
        item["has_thumbnail"] = os.path.exists(os.path.join(root, "thumbnail.jpg")) or _has_png(os.path.join(root, "images"))
    context = {"page": found, "q": q[:200], "status": status, "statuses": library.STATUSES, "examples": EXAMPLES, "nav": "projects"}
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        return render(request, "_grid.html", **context)
    return render(request, "gallery.html", **context)


def _has_png(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.name.endswith(".png") for e in entries)
    except OSError:
        return False


def _new_form(request: Request, *, form: dict, errors: dict, status_code: int = 200) -> HTMLResponse:
    settings = request.app.state.settings
    return render(request, "new.html", status_code=status_code, form=form, errors=errors, nav="new",
                  choices=library.provider_choices(request.app.state.workspace), max_upload=settings.max_upload_bytes,
                  default_cap=settings.max_cost_usd)


@router.get("/new")
def new_page(request: Request, user: Me, example: str = "") -> HTMLResponse:
    form = {"text": "", "title": "", "aspect_ratio": "", "language": "", "max_cost": "", "image_provider": "", "llm": "", "candidates": ""}
    chosen = next((e for e in EXAMPLES if e["name"] == example), None)
    if chosen and (EXAMPLES_DIR / chosen["file"]).is_file():
        form.update(text=(EXAMPLES_DIR / chosen["file"]).read_text(encoding="utf-8"), title=chosen["label"])
    return _new_form(request, form=form, errors={})


def check_csrf(request: Request, token: str) -> None:
    """The double-submit check for a multipart form (see :data:`storyreel.web.app.MULTIPART_FORMS`): the
    form's ``csrftoken`` must equal the signed ``csrftoken`` cookie. 403 otherwise."""
    cookie = request.cookies.get("csrftoken", "")
    if not token or not cookie or not secrets.compare_digest(token, cookie) or request.scope["csrftoken"]() != cookie:
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and submit again")


@router.post("/new")
async def create(request: Request, user: Me, csrftoken: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "", title: Annotated[str, Form(max_length=200)] = "",
                 aspect_ratio: Annotated[str, Form()] = "", language: Annotated[str, Form(max_length=16)] = "",
                 max_cost: Annotated[str, Form()] = "", image_provider: Annotated[str, Form()] = "", llm: Annotated[str, Form()] = "",
                 candidates: Annotated[str, Form()] = "", file: Annotated[UploadFile | None, File()] = None) -> Response:
    check_csrf(request, csrftoken)
    form = {"text": text, "title": title, "aspect_ratio": aspect_ratio, "language": language, "max_cost": max_cost,
            "image_provider": image_provider, "llm": llm, "candidates": candidates}
    settings = request.app.state.settings
    data, name = None, None
    if file is not None and file.filename:
        try:
            data, name = await read_upload(file, settings.max_upload_bytes), file.filename
        except HTTPException as exc:  # over the limit: shown next to the field
            message = str(exc.detail)
            return await run_in_threadpool(lambda: _new_form(request, form=form, errors={"file": message}, status_code=413))
    try:
        cap = float(max_cost) if max_cost.strip() else None
    except ValueError:
        return await run_in_threadpool(lambda: _new_form(request, form=form, errors={"max_cost": "give a number of USD, e.g. 5"}, status_code=422))
    count = int(candidates) if candidates.strip().isdigit() else None
    if candidates.strip() and (count is None or not 1 <= count <= 8):
        return await run_in_threadpool(lambda: _new_form(request, form=form, errors={"candidates": "give 1 to 8 candidate images per shot"},
                                                         status_code=422))

    def submit():  # noqa: ANN202
        return library.create_project(text=None if data is not None else text, file_name=name, data=data, title=title or None,
                                      aspect_ratio=aspect_ratio or None, language=language or None, image_provider=image_provider or None,
                                      llm=llm or None, max_cost=cap, candidates=count, user_id=user.id, workspace=request.app.state.workspace)
    try:
        project, _job = await run_in_threadpool(submit)
    except InputError as exc:
        message = exc.message + (f" — {exc.hint}" if exc.hint else "")
        field = exc.field if exc.field in ("text", "file", "aspect_ratio", "language", "max_cost", "image_provider", "llm", "candidates") else "form"
        return await run_in_threadpool(lambda: _new_form(request, form=form, errors={field: message}, status_code=422))
    return RedirectResponse(f"/projects/{project['id']}", 303)


@router.post("/new/estimate")
def estimate(request: Request, user: Me, text: Annotated[str, Form()] = "", aspect_ratio: Annotated[str, Form()] = "",
             language: Annotated[str, Form(max_length=16)] = "", image_provider: Annotated[str, Form()] = "",
             llm: Annotated[str, Form()] = "") -> HTMLResponse:
    """The priced plan of the form's text (HTMX fragment): shots, images by the provider, estimated USD."""
    est, error = None, None
    if text.strip():
        try:
            est = library.estimate_new(text=text, aspect_ratio=aspect_ratio or None, language=language or None,
                                       image_provider=image_provider or None, llm=llm or None, workspace=request.app.state.workspace)
        except InputError as exc:
            error = exc.message + (f" — {exc.hint}" if exc.hint else "")
    return render(request, "_estimate.html", est=est, error=error)


@router.get("/projects/{project_id}")
async def project_page(project_id: str, request: Request, user: Me) -> HTMLResponse:
    data = views.project_page(project_id, user.id, request.app.state.workspace, with_cost=False)
    return render(request, "project.html", p=data, project_id=project_id, bust=int(time.time()), nav="projects")


@router.get("/projects/{project_id}/summary")
async def summary(project_id: str, request: Request, user: Me) -> HTMLResponse:
    """The cost and QC panels of the project page (loaded after the page)."""
    workspace = request.app.state.workspace
    library.owned(project_id, user.id, workspace=workspace)
    return render(request, "_summary.html", cost=library.cost_summary(project_id, workspace=workspace),
                  qc=views.qc_report(ProjectPaths(workspace, project_id)))


@router.get("/projects/{project_id}/shots/{shot_id}/provenance")
async def provenance(project_id: str, shot_id: str, request: Request, user: Me) -> Response:
    """A shot's image sidecar (its provenance record), pretty-printed, for the lightbox."""
    import html
    import json

    from storyreel.web.files import shot_image

    workspace = request.app.state.workspace
    library.owned(project_id, user.id, workspace=workspace)
    paths = ProjectPaths(workspace, project_id)
    shot_image(paths, shot_id)  # 404 unless an ID
    record = views.read_json(paths.image_meta(shot_id))
    text = json.dumps(record, indent=2, ensure_ascii=False) if record else "no record yet"
    return HTMLResponse(html.escape(text))  # swapped into a <pre> as HTML: escaped, like every user text


@router.get("/jobs/{job_id}/log")
def job_log(job_id: str, request: Request, user: Me) -> HTMLResponse:
    """The job's finished nodes (loaded when the log is opened)."""
    events = jobs.events(job_id, user_id=user.id, workspace=request.app.state.workspace)
    if events is None:
        return error_page(request, 404, "Not found", f"no job {job_id!r}")
    lines = [f"{e['node']}: {e['event']}" + (f" — {e['detail']}" if e.get("detail") else "") for e in events if e["kind"] == "node"]
    return render(request, "_log.html", lines=lines)


@router.get("/projects/{project_id}/stale")
def stale(project_id: str, request: Request, user: Me) -> HTMLResponse:
    workspace = request.app.state.workspace
    library.owned(project_id, user.id, workspace=workspace)
    busy = jobs.active(project_id, workspace=workspace) is not None
    return render(request, "_stale.html", stale=views.stale_nodes(project_id, workspace), project_id=project_id, can_update=not busy)


@router.post("/projects/{project_id}/shots/{shot_id}")
def edit_shot(project_id: str, shot_id: str, request: Request, user: Me, narration: Annotated[str | None, Form()] = None,
              image_prompt: Annotated[str | None, Form()] = None) -> Response:
    workspace = request.app.state.workspace
    error = None
    try:
        library.edit_shot(project_id, shot_id, user_id=user.id, narration=narration, image_prompt=image_prompt, workspace=workspace)
    except InputError as exc:
        if exc.field == "project":
            raise
        error = exc.message
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/projects/{project_id}#shot-{shot_id}", 303) if error is None else error_page(request, 422, "Not saved", error)
    kept = {} if error is None else {"narration": narration, "image_prompt": image_prompt}  # the text the person typed stays in the form
    return _shot_card(request, user, project_id, shot_id, error, {k: v for k, v in kept.items() if v is not None or k == "image_prompt"},
                      error=error, saved=error is None)


def _shot_card(request: Request, user: User, project_id: str, shot_id: str, failure: str | None, update: dict, **context: object) -> Response:
    """A shot's card after an inline change (HTMX): 200 with ``HX-Trigger: storyboard-changed`` (the stale
    panel reloads) when it worked, else (``failure``: the message, shown by the template from ``context``)
    422 swapped in place."""
    workspace = request.app.state.workspace
    board = library.storyboard(project_id, user.id, workspace=workspace)
    rows = [s for ch in views.shots(board, ProjectPaths(workspace, project_id), request.app.state.settings.speech_rate_wpm) for s in ch["shots"]]
    shot = next(s for s in rows if s["shot_id"] == shot_id)
    shot.update(update)
    page = render(request, "_shot.html", status_code=200 if failure is None else 422, shot=shot, project_id=project_id,
                  bust=int(time.time()), **context)
    if failure is None:
        page.headers["HX-Trigger"] = "storyboard-changed"
    else:
        page.headers["HX-Reswap"] = "outerHTML"
    return page


@router.post("/projects/{project_id}/shots/{shot_id}/pick")
def pick(project_id: str, shot_id: str, request: Request, user: Me, candidate: Annotated[str, Form()] = "auto") -> Response:
    """Use one candidate as the shot's image (``auto``: the best ranked); the stale panel then offers "Update video"."""
    workspace = request.app.state.workspace
    chosen = None if candidate == "auto" else int(candidate) if candidate.isdigit() else -1
    try:
        if chosen == -1:
            raise InputError(f"{candidate!r} is not a candidate number", field="candidate")
        library.pick_candidate(project_id, shot_id, chosen, user_id=user.id, workspace=workspace)
        error = None
    except InputError as exc:
        if exc.field == "project":
            raise
        error = exc.message
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/projects/{project_id}#shot-{shot_id}", 303) if error is None else error_page(request, 422, "Not picked", error)
    # the selection record still shows the last choice: say which one the next update uses
    return _shot_card(request, user, project_id, shot_id, error, {"pending_pick": chosen or "auto"} if error is None else {},
                      pick_error=error)


@router.get("/projects/{project_id}/quality")
def quality_page(project_id: str, request: Request, user: Me) -> HTMLResponse:
    """Score distributions, the override rate and per shot the candidates and the pick (FR-043)."""
    data = library.quality(project_id, user_id=user.id, workspace=request.app.state.workspace)
    return render(request, "quality.html", q=data, project_id=project_id, bust=int(time.time()), nav="projects")


@router.post("/projects/{project_id}/make")
def update_video(project_id: str, request: Request, user: Me) -> Response:
    from storyreel.web.api_routes import _submit

    _submit(project_id, "make", user, request)
    return _back(request, f"/projects/{project_id}")


@router.get("/projects/{project_id}/regenerate")
def regenerate_confirm(project_id: str, request: Request, user: Me) -> HTMLResponse:
    est = library.regenerate_estimate(project_id, user_id=user.id, workspace=request.app.state.workspace)
    return render(request, "confirm.html", est=est, project_id=project_id)


@router.post("/projects/{project_id}/regenerate")
def regenerate(project_id: str, request: Request, user: Me, shots: Annotated[list[str] | None, Form()] = None) -> Response:
    from storyreel.web.api_routes import _submit

    _submit(project_id, "regenerate", user, request, shots=[s for s in (shots or []) if s])
    return _back(request, f"/projects/{project_id}")


@router.post("/projects/{project_id}/delete")
def delete(project_id: str, request: Request, user: Me) -> Response:
    library.delete_project(project_id, user_id=user.id, workspace=request.app.state.workspace)
    return _back(request, "/")


@router.get("/jobs")
def jobs_page(request: Request, user: Me) -> HTMLResponse:
    workspace = request.app.state.workspace
    mine = jobs.jobs(user_id=user.id, limit=100, workspace=workspace)
    found = library.gallery(user_id=user.id, per_page=100, workspace=workspace)
    titles = {p["id"]: p["title"] for p in found.items}
    groups = [("Running", [j for j in mine if j.state == "running"]), ("Queued", [j for j in mine if j.state == "queued"]),
              ("Recent", [j for j in mine if j.state not in ("running", "queued")][:30])]
    return render(request, "jobs.html", groups=[(t, [j.as_dict() for j in g]) for t, g in groups], titles=titles, nav="jobs")


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, request: Request, user: Me) -> Response:
    view = jobs.cancel(job_id, user_id=user.id, workspace=request.app.state.workspace)
    if view is None:
        return error_page(request, 404, "Not found", f"no job {job_id!r}")
    return _back(request, request.headers.get("referer") and _safe_next(urlsplit(request.headers["referer"]).path) or "/jobs")


@router.post("/jobs/{job_id}/resume")
def resume(job_id: str, request: Request, user: Me) -> Response:
    view = jobs.resume(job_id, user_id=user.id, workspace=request.app.state.workspace)
    if view is None:
        return error_page(request, 404, "Not found", f"no job {job_id!r}")
    return _back(request, f"/projects/{view.project_id}")


@router.get("/me")
def me(request: Request, user: Me) -> HTMLResponse:
    return render(request, "me.html", profile=accounts(request.app.state.workspace).profile(user.id), token=None, nav="me")


@router.post("/me/token")
def new_token(request: Request, user: Me) -> HTMLResponse:
    store = accounts(request.app.state.workspace)
    return render(request, "me.html", profile=store.profile(user.id), token=store.issue(user.id, "token"), nav="me")
