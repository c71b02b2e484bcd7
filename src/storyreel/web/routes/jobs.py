"""Jobs: a person's jobs (running, queued, recent), one job's state, its live progress as Server-Sent Events,
its log of finished nodes, cancel and resume — as pages and as JSON under ``/api/jobs``. Another user's job
is 404, exactly like a missing one."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from storyreel import api
from storyreel.api import library
from storyreel.jobs import service as jobs
from storyreel.jobs.service import JobView
from storyreel.web.deps import ApiUser, PageUser, Ws
from storyreel.web.templating import back, error_page, render, safe_next

api_router = APIRouter(prefix="/api/jobs", tags=["jobs"])
pages = APIRouter(prefix="/jobs", include_in_schema=False)

POLL_S = 0.25
"""How often the event stream reads new job events (a finished node reaches the browser within this plus
the database write)."""


def _job(ws: api.Workspace, job_id: str, user_id: int) -> JobView:
    view = jobs.job(ws, job_id, user_id=user_id)
    if view is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return view


# ------------------------------------------------------------------------------------------ JSON
@api_router.get("")
def list_json(user: ApiUser, ws: Ws, project_id: str | None = None) -> dict:
    """The user's jobs, newest first."""
    return {"items": [j.as_dict() for j in jobs.jobs(ws, user_id=user.id, project_id=project_id)]}


@api_router.get("/{job_id}")
def job_json(job_id: str, user: ApiUser, ws: Ws) -> dict:
    """The job: ``state``, ``progress`` 0–100, ``stage``, ``node``, ``message``, ``cost_usd``, ``elapsed_s``."""
    return _job(ws, job_id, user.id).as_dict()


@api_router.post("/{job_id}/cancel")
def cancel_json(job_id: str, user: ApiUser, ws: Ws) -> dict:
    """Stop the job at its next checkpoint (a queued job at once). Finished nodes stay cached."""
    _job(ws, job_id, user.id)
    return jobs.cancel(ws, job_id, user_id=user.id).as_dict()


@api_router.post("/{job_id}/resume")
def resume_json(job_id: str, user: ApiUser, ws: Ws) -> dict:
    """Queue an ended job again; it continues from what is done."""
    _job(ws, job_id, user.id)
    return jobs.resume(ws, job_id, user_id=user.id).as_dict()


@api_router.get("/{job_id}/events", response_class=EventSourceResponse)
async def events(job_id: str, user: ApiUser, ws: Ws, request: Request) -> EventSourceResponse:
    """Server-Sent Events: ``job`` (the job's state now), then ``node`` and ``state`` events as they happen,
    and a last ``job`` when it ends. Reconnecting with ``Last-Event-ID`` resumes after that event."""
    view = await run_in_threadpool(_job, ws, job_id, user.id)
    try:
        after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)
    except ValueError:
        after = 0

    async def stream():  # noqa: ANN202
        nonlocal after
        yield {"event": "job", "data": json.dumps(view.as_dict())}
        while not await request.is_disconnected():
            batch = await run_in_threadpool(jobs.events, ws, job_id, after=after, user_id=user.id)
            for event in batch or []:
                after = event["id"]
                yield {"id": str(event["id"]), "event": event["kind"], "data": json.dumps(event)}
            now = await run_in_threadpool(jobs.job, ws, job_id, user_id=user.id)
            if now is None or (now.state not in jobs.ACTIVE and not batch):
                if now is not None:
                    yield {"event": "job", "data": json.dumps(now.as_dict())}
                return
            await asyncio.sleep(POLL_S)

    return EventSourceResponse(stream(), ping=15)


# ------------------------------------------------------------------------------------------ pages
@pages.get("")
def jobs_page(request: Request, user: PageUser, ws: Ws) -> HTMLResponse:
    mine = jobs.jobs(ws, user_id=user.id, limit=100)
    titles = {p["id"]: p["title"] for p in library.gallery(ws, user_id=user.id, per_page=100).items}
    groups = [("Running", [j for j in mine if j.state == "running"]), ("Queued", [j for j in mine if j.state == "queued"]),
              ("Recent", [j for j in mine if j.state not in jobs.ACTIVE][:30])]
    return render(request, "jobs.html", groups=[(t, [j.as_dict() for j in g]) for t, g in groups], titles=titles, nav="jobs")


@pages.post("/{job_id}/cancel")
def cancel(job_id: str, request: Request, user: PageUser, ws: Ws) -> Response:
    if jobs.cancel(ws, job_id, user_id=user.id) is None:
        return error_page(request, 404, "Not found", f"no job {job_id!r}")
    return back(request, request.headers.get("referer") and safe_next(urlsplit(request.headers["referer"]).path) or "/jobs")


@pages.post("/{job_id}/resume")
def resume(job_id: str, request: Request, user: PageUser, ws: Ws) -> Response:
    view = jobs.resume(ws, job_id, user_id=user.id)
    if view is None:
        return error_page(request, 404, "Not found", f"no job {job_id!r}")
    return back(request, f"/projects/{view.project_id}")


@pages.get("/{job_id}/log")
def job_log(job_id: str, request: Request, user: PageUser, ws: Ws) -> HTMLResponse:
    """The job's finished nodes (loaded when the log is opened)."""
    found = jobs.events(ws, job_id, user_id=user.id)
    if found is None:
        return error_page(request, 404, "Not found", f"no job {job_id!r}")
    lines = [f"{e['node']}: {e['event']}" + (f" — {e['detail']}" if e.get("detail") else "") for e in found if e["kind"] == "node"]
    return render(request, "_log.html", lines=lines)
