"""Jobs: submit a verb to the queue, read its state and events, cancel, resume (the web and
``storyreel worker`` use these; the state lives in the ``jobs`` table, :mod:`storyreel.store.jobs`).

``user_id`` scopes every read and action: a job of another user is reported as not found, exactly like a
job that does not exist (no URL reveals what others have)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storyreel.api.project import open_store, settings_for
from storyreel.core.errors import InputError, StoryreelError
from storyreel.core.settings import Settings
from storyreel.store.jobs import ACTIVE, JobStore, JobView

KINDS = ("make", "regenerate", "render")


class JobConflict(StoryreelError):
    """The project already has a queued or running job (HTTP 409)."""

    def __init__(self, job: JobView) -> None:
        super().__init__(f"project {job.project_id} already has a {job.state} job ({job.id}); wait for it or cancel it")
        self.job = job


def job_store(settings: Settings) -> JobStore:
    """The jobs table of ``settings``' database, with its lease (``STORYREEL_JOB_LEASE_S``)."""
    return JobStore(open_store(settings).sessions, lease=timedelta(seconds=settings.job_lease_s))


def submit(kind: str, project_id: str, request: dict, *, user_id: int | None = None, workspace: Path | None = None) -> JobView:
    """Record a ``kind`` job (``make | regenerate | render``) of ``project_id`` with the verb's fields
    ``request`` (JSON values; a file input relative to the workspace) and put it on the queue.
    Raises :class:`InputError` for an unknown kind, :class:`JobConflict` when the project has an active job."""
    if kind not in KINDS:
        raise InputError(f"unknown job kind {kind!r}", field="kind", hint=f"use one of {', '.join(KINDS)}")
    settings = settings_for(workspace)
    jobs = job_store(settings)
    active = jobs.active_for_project(project_id)
    if active is not None:
        raise JobConflict(active)
    job = jobs.create(user_id=user_id, project_id=project_id, kind=kind, request=request)
    open_store(settings).upsert_project(project_id, status="queued")
    _enqueue(settings, job.id)
    return job


def _enqueue(settings: Settings, job_id: str) -> None:
    from storyreel.jobs.queue import enqueue

    enqueue(settings, job_id)


def job(job_id: str, *, user_id: int | None = None, workspace: Path | None = None) -> JobView | None:
    """The job, or None when there is none — or it belongs to another user."""
    view = job_store(settings_for(workspace)).get(job_id)
    return view if view is not None and (user_id is None or view.user_id == user_id) else None


def jobs(*, user_id: int | None, project_id: str | None = None, limit: int = 50, workspace: Path | None = None) -> list[JobView]:
    """The user's jobs, newest first (optionally one project's)."""
    return job_store(settings_for(workspace)).for_user(user_id, limit=limit, project_id=project_id)


def active(project_id: str, *, workspace: Path | None = None) -> JobView | None:
    """The project's queued or running job, if any."""
    return job_store(settings_for(workspace)).active_for_project(project_id)


def cancel(job_id: str, *, user_id: int | None = None, workspace: Path | None = None) -> JobView | None:
    """Ask the job to stop: a queued job is canceled at once, a running one at its next checkpoint (between
    nodes, every half second of an encode, every poll of a vendor; a running ffmpeg is killed). Finished
    nodes stay cached. None when there is no such job of this user."""
    if job(job_id, user_id=user_id, workspace=workspace) is None:
        return None
    return job_store(settings_for(workspace)).request_cancel(job_id)


def resume(job_id: str, *, user_id: int | None = None, workspace: Path | None = None) -> JobView | None:
    """Queue an ended job again (interrupted, failed, canceled, cost limit): it continues from what is
    done, since the engine skips fresh nodes. Raises :class:`JobConflict` when another job of the project
    is active; returns the job unchanged when it is itself still active."""
    settings = settings_for(workspace)
    view = job(job_id, user_id=user_id, workspace=workspace)
    if view is None or view.state in ACTIVE:
        return view
    other = job_store(settings).active_for_project(view.project_id)
    if other is not None:
        raise JobConflict(other)
    view = job_store(settings).requeue(job_id)
    open_store(settings).upsert_project(view.project_id, status="queued")
    _enqueue(settings, job_id)
    return view


def events(job_id: str, *, after: int = 0, user_id: int | None = None, workspace: Path | None = None) -> list[dict] | None:
    """The job's events with id > ``after``, in order (state changes and finished nodes); None when the
    job is not this user's."""
    if job(job_id, user_id=user_id, workspace=workspace) is None:
        return None
    return job_store(settings_for(workspace)).events(job_id, after)
