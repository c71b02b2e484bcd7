"""Job state in storyreel's own tables (the queue only delivers work): ``jobs`` and ``job_events``.

A running job's worker beats (``heartbeat_at``) every few seconds; a job still ``running`` whose beat is
older than the lease is ``interrupted`` (its worker died) — decided when jobs are read, so no process has
to be alive to notice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.errors import StoryreelError
from storyreel.core.settings import Settings
from storyreel.core.vocabulary import ProjectStatus
from storyreel.store.db import database
from storyreel.store.models import Job, JobEvent, Project, User

LEASE = timedelta(seconds=30)
ACTIVE = ("queued", "running")
STATES = ("queued", "running", "done", "failed", "canceled", "interrupted", "cost_limit")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=timezone.utc) if at is not None and at.tzinfo is None else at


@dataclass(frozen=True)
class JobView:
    """A job as the API shows it."""

    id: str
    user_id: int | None
    project_id: str
    kind: str
    state: str
    progress: float
    stage: str | None
    node: str | None
    message: str | None
    cost_usd: float
    cancel_requested: bool
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    request: dict

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(job.id, job.user_id, job.project_id, job.kind, job.state, round(job.progress, 1), job.stage, job.node,
                   job.message, round(job.cost_usd, 6), job.cancel_requested, job.worker, _aware(job.created_at), _aware(job.started_at),
                   _aware(job.finished_at), dict(job.request or {}))

    def as_dict(self) -> dict:
        elapsed = None
        if self.started_at:
            elapsed = round(((self.finished_at or utcnow()) - self.started_at).total_seconds(), 1)
        return {"id": self.id, "project_id": self.project_id, "kind": self.kind, "state": self.state, "progress": self.progress,
                "stage": self.stage, "node": self.node, "message": self.message, "cost_usd": self.cost_usd,
                "cancel_requested": self.cancel_requested, "worker": self.worker, "elapsed_s": elapsed,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


class JobConflict(StoryreelError):
    """The project already has a queued or running job (HTTP 409)."""

    def __init__(self, job: JobView) -> None:
        super().__init__(f"project {job.project_id} already has a {job.state} job ({job.id}); wait for it or cancel it")
        self.job = job


class JobStore:
    """Queries over ``jobs`` and ``job_events`` (short transactions). ``lease``: how long a running job's
    worker may go without beating before the job counts as interrupted."""

    def __init__(self, sessions: sessionmaker[Session], lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.lease = lease

    @classmethod
    def open(cls, settings: Settings) -> JobStore:
        """The jobs of the database ``settings`` name, with the lease ``STORYREEL_JOB_LEASE_S``."""
        return cls(database(settings), lease=timedelta(seconds=settings.job_lease_s))

    def create(self, *, user_id: int | None, project_id: str, kind: str, request: dict) -> JobView:
        job = Job(id=str(uuid.uuid4()), user_id=user_id, project_id=project_id, kind=kind, request=request, state="queued")
        with self.sessions.begin() as s:
            s.add(job)
            s.flush()
            s.add(JobEvent(job_id=job.id, kind="state", data={"state": "queued"}))
            view = JobView.of(job)
        return view

    def get(self, job_id: str) -> JobView | None:
        with self.sessions() as s:
            job = s.get(Job, job_id)
            if job is None:
                return None
            if not self._lapsed(job):
                return JobView.of(job)
        self.reap(job_ids=[job_id])
        return self.get(job_id)

    def _lapsed(self, job: Job) -> bool:
        """Running, and its worker has not beaten within the lease."""
        beat = _aware(job.heartbeat_at)
        return job.state == "running" and beat is not None and beat < utcnow() - self.lease

    def for_user(self, user_id: int | None, *, limit: int = 50, project_id: str | None = None) -> list[JobView]:
        self.reap(every_s=2.0)
        with self.sessions() as s:
            q = select(Job).where(Job.user_id == user_id)
            if project_id is not None:
                q = q.where(Job.project_id == project_id)
            return [JobView.of(j) for j in s.scalars(q.order_by(Job.created_at.desc()).limit(limit)).all()]

    def active_for_project(self, project_id: str) -> JobView | None:
        with self.sessions() as s:
            job = s.scalars(select(Job).where(Job.project_id == project_id, Job.state.in_(ACTIVE))
                            .order_by(Job.created_at.desc())).first()
            if job is None or not self._lapsed(job):
                return JobView.of(job) if job else None
            lapsed = job.id
        self.reap(job_ids=[lapsed])
        return self.active_for_project(project_id)

    def start(self, job_id: str, worker: str) -> bool:
        """Mark a queued (or interrupted, resumed) job running; False when it was canceled meanwhile."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.state not in ("queued",):
                return False
            job.state, job.worker, job.started_at, job.heartbeat_at = "running", worker, utcnow(), utcnow()
            job.finished_at, job.message = None, None
            s.add(JobEvent(job_id=job_id, kind="state", data={"state": "running", "worker": worker}))
            return True

    def beat(self, job_id: str) -> None:
        with self.sessions.begin() as s:
            s.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(heartbeat_at=utcnow()))

    def progress(self, job_id: str, *, progress: float, stage: str | None, node: str | None, event: dict | None = None,
                 cost_usd: float | None = None) -> None:
        with self.sessions.begin() as s:
            values: dict = {"progress": progress, "stage": stage, "node": node, "heartbeat_at": utcnow()}
            if cost_usd is not None:
                values["cost_usd"] = cost_usd
            s.execute(update(Job).where(Job.id == job_id).values(**values))
            if event is not None:
                s.add(JobEvent(job_id=job_id, kind="node", data={**event, "progress": round(progress, 1)}))

    def finish(self, job_id: str, state: str, message: str | None = None, *, cost_usd: float | None = None,
               video_made: bool = False) -> None:
        """End a job; in the same transaction the owner's profile gains the job's cost and, when
        ``video_made`` (the project's first video: an update remakes it), one video (seed 004 epic 5: the
        counters never disagree with the jobs)."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None:
                return
            job.state, job.message, job.finished_at = state, message, utcnow()
            if state == "done":
                job.progress = 100.0
            if cost_usd is not None:
                job.cost_usd = cost_usd
            if job.user_id is not None and (video_made or job.cost_usd):
                s.execute(update(User).where(User.id == job.user_id).values(
                    videos_made=User.videos_made + (1 if video_made else 0), total_cost_usd=User.total_cost_usd + job.cost_usd))
            s.add(JobEvent(job_id=job_id, kind="state", data={"state": state, "message": message, "progress": round(job.progress, 1)}))

    def request_cancel(self, job_id: str) -> JobView | None:
        """Ask a job to stop: a queued one is canceled at once, a running one at its next checkpoint."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None:
                return None
            if job.state == "queued":
                job.state, job.finished_at, job.message = "canceled", utcnow(), "canceled before it started"
                s.add(JobEvent(job_id=job_id, kind="state", data={"state": "canceled"}))
            elif job.state == "running":
                job.cancel_requested = True
                s.add(JobEvent(job_id=job_id, kind="state", data={"state": "running", "cancel_requested": True}))
            return JobView.of(job)

    def cancel_requested(self, job_id: str) -> bool:
        with self.sessions() as s:
            return bool(s.scalar(select(Job.cancel_requested).where(Job.id == job_id)))

    def requeue(self, job_id: str) -> JobView | None:
        """Resume a job that ended (interrupted, failed, canceled, cost limit): queued again, progress kept."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.state in ACTIVE:
                return JobView.of(job) if job else None
            job.state, job.cancel_requested, job.message, job.finished_at = "queued", False, None, None
            s.add(JobEvent(job_id=job_id, kind="state", data={"state": "queued", "resumed": True}))
            return JobView.of(job)

    def events(self, job_id: str, after: int = 0, limit: int = 200) -> list[dict]:
        with self.sessions() as s:
            rows = s.scalars(select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.id > after).order_by(JobEvent.id).limit(limit)).all()
            return [{"id": r.id, "at": _aware(r.at).isoformat(), "kind": r.kind, **(r.data or {})} for r in rows]

    _last_reap = 0.0  # monotonic time of this process's last reap (lists reap at most every ``every_s``)

    def reap(self, lease: timedelta | None = None, *, every_s: float = 0.0, job_ids: list[str] | None = None) -> int:
        """Mark running jobs whose worker stopped beating ``interrupted`` (only ``job_ids`` when given);
        returns how many. With ``every_s`` > 0, skip when this process reaped less than ``every_s`` seconds
        ago (lists need not ask on every request; reading one job checks that job itself)."""
        now = time.monotonic()
        if every_s and now - JobStore._last_reap < every_s:
            return 0
        if job_ids is None:
            JobStore._last_reap = now
        cutoff = utcnow() - (lease or self.lease)
        lapsed = select(Job).where(Job.state == "running", Job.heartbeat_at < cutoff)
        if job_ids is not None:
            lapsed = lapsed.where(Job.id.in_(job_ids))
        with self.sessions() as s:  # a read first: readers do not queue for the write lock when nothing is stale
            if s.scalar(lapsed.with_only_columns(Job.id).limit(1)) is None:
                return 0
        with self.sessions.begin() as s:
            stale = s.scalars(lapsed).all()
            for job in stale:
                job.state, job.finished_at, job.message = "interrupted", utcnow(), "the worker stopped (crash or restart); resume to continue"
                s.execute(update(Project).where(Project.id == job.project_id).values(status=ProjectStatus.INTERRUPTED.value))
                s.add(JobEvent(job_id=job.id, kind="state", data={"state": "interrupted"}))
            return len(stale)

    def delete_for_project(self, project_id: str) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(Job).where(Job.project_id == project_id))
