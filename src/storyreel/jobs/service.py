"""The job service: put a verb on the queue for a user, read a job's state and events, cancel, resume (the
web and ``storyreel worker`` use these). A job's state lives in the ``jobs`` table
(:class:`~storyreel.store.jobs.JobStore`); the queue (:mod:`storyreel.jobs.queue`) only delivers its ID to
a consumer, which runs it (:mod:`storyreel.jobs.runner`).

``user_id`` scopes every read and action: a job of another user is reported as not found, exactly like a
job that does not exist (no URL reveals what others have)."""

from __future__ import annotations

import time

from storyreel.api import Workspace, library
from storyreel.core.errors import InputError
from storyreel.core.vocabulary import ProjectStatus
from storyreel.jobs.queue import enqueue
from storyreel.jobs.runner import QUIET, RUNS
from storyreel.store.jobs import ACTIVE, JobConflict, JobView

KINDS = tuple(RUNS)
"""The job kinds (``make``, ``regenerate``, ``render``, ``preview``): what :data:`storyreel.jobs.runner.RUNS` can run."""


def submit(ws: Workspace, kind: str, project_id: str, request: dict, *, user_id: int | None = None) -> JobView:
    """Record a ``kind`` job of ``project_id`` with the verb's fields ``request`` (JSON values; a file input
    relative to the workspace) and put it on the queue; the project shows ``queued``.
    Raises :class:`InputError` for an unknown kind, :class:`JobConflict` when the project has an active job."""
    if kind not in KINDS:
        raise InputError(f"unknown job kind {kind!r}", field="kind", hint=f"use one of {', '.join(KINDS)}")
    active = ws.jobs.active_for_project(project_id)
    if active is not None:
        raise JobConflict(active)
    job = ws.jobs.create(user_id=user_id, project_id=project_id, kind=kind, request=request)
    if kind not in QUIET:
        ws.project(project_id).mark(ProjectStatus.QUEUED)
    enqueue(ws.settings, job.id)
    return job


def create_project(ws: Workspace, *, user_id: int | None, **fields: object) -> tuple[dict, JobView]:
    """A new project of ``user_id`` from a person's text or file, planned (:func:`storyreel.api.library.create_project`
    takes ``fields`` and raises :class:`InputError` naming the form field), and its ``make`` queued: the
    project's row, showing ``queued``, and the job."""
    row, request = library.create_project(ws, user_id=user_id, **fields)
    job = submit(ws, "make", row["id"], request, user_id=user_id)
    return library.overview(ws, row["id"], user_id)[0], job


def rerun(ws: Workspace, kind: str, project_id: str, *, user_id: int | None, **extra: object) -> JobView:
    """Submit a ``kind`` job of an existing project with the fields of its last ``make`` job (the providers,
    cap and candidates a person chose when creating it) and ``extra`` on top — what "Update video" and
    "Regenerate" do; a preview job still running is stopped first (:func:`stop_preview`). Raises like :func:`submit`."""
    stop_preview(ws, project_id, user_id=user_id)
    last = ws.jobs.for_user(user_id, limit=50, project_id=project_id)
    base = next((dict(j.request) for j in reversed(last) if j.kind == "make"), {"project_id": project_id})
    base.pop("shots", None)
    return submit(ws, kind, project_id, {**base, **extra}, user_id=user_id)


def stop_preview(ws: Workspace, project_id: str, *, user_id: int | None, wait_s: float = 30.0) -> None:
    """Make way for an edit or an update of the video: the project's ``preview`` job, if one is queued or running, is
    canceled and awaited (it stops at its next checkpoint; its finished nodes stay cached) up to ``wait_s`` seconds.
    Raises :class:`JobConflict` when another kind of job of the project is active."""
    current = ws.jobs.active_for_project(project_id)
    if current is None:
        return
    if current.kind not in QUIET:
        raise JobConflict(current)
    cancel(ws, current.id, user_id=user_id)
    deadline = time.monotonic() + wait_s
    while ws.jobs.active_for_project(project_id) is not None and time.monotonic() < deadline:
        time.sleep(0.1)


def job(ws: Workspace, job_id: str, *, user_id: int | None = None) -> JobView | None:
    """The job, or None when there is none — or it belongs to another user."""
    view = ws.jobs.get(job_id)
    return view if view is not None and (user_id is None or view.user_id == user_id) else None


def jobs(ws: Workspace, *, user_id: int | None, project_id: str | None = None, limit: int = 50) -> list[JobView]:
    """The user's jobs, newest first (optionally one project's)."""
    return ws.jobs.for_user(user_id, limit=limit, project_id=project_id)


def active(ws: Workspace, project_id: str) -> JobView | None:
    """The project's queued or running job, if any."""
    return ws.jobs.active_for_project(project_id)


def cancel(ws: Workspace, job_id: str, *, user_id: int | None = None) -> JobView | None:
    """Ask the job to stop: a queued job is canceled at once (its project then shows ``canceled``), a running
    one at its next checkpoint (between nodes, every half second of an encode, every poll of a vendor; a
    running ffmpeg is killed). Finished nodes stay cached. None when there is no such job of this user."""
    before = job(ws, job_id, user_id=user_id)
    if before is None:
        return None
    view = ws.jobs.request_cancel(job_id)
    if before.state == "queued" and view is not None and view.state == "canceled" and before.kind not in QUIET:
        ws.project(view.project_id).mark(ProjectStatus.CANCELED)
    return view


def resume(ws: Workspace, job_id: str, *, user_id: int | None = None) -> JobView | None:
    """Queue an ended job again (interrupted, failed, canceled, cost limit): it continues from what is
    done, since the engine skips fresh nodes. Raises :class:`JobConflict` when another job of the project
    is active; returns the job unchanged when it is itself still active."""
    view = job(ws, job_id, user_id=user_id)
    if view is None or view.state in ACTIVE:
        return view
    other = ws.jobs.active_for_project(view.project_id)
    if other is not None:
        raise JobConflict(other)
    view = ws.jobs.requeue(job_id)
    if view.kind not in QUIET:
        ws.project(view.project_id).mark(ProjectStatus.QUEUED)
    enqueue(ws.settings, job_id)
    return view


def events(ws: Workspace, job_id: str, *, after: int = 0, user_id: int | None = None) -> list[dict] | None:
    """The job's events with id > ``after``, in order (state changes and finished nodes); None when the
    job is not this user's."""
    if job(ws, job_id, user_id=user_id) is None:
        return None
    return ws.jobs.events(job_id, after)
