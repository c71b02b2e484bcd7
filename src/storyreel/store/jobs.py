"""Job state in storyreel's own tables (the queue only delivers work): ``jobs`` and ``job_events``.

A running job's worker beats (``heartbeat_at``) every few seconds; a job still ``running`` whose beat is
older than the lease is ``interrupted`` (its worker died) — decided when jobs are read, so no process has
to be alive to notice. Such a job is **redelivered**: queued again (``redeliver_at``, after a backoff that doubles
at each attempt) until it has been started ``max_attempts`` times, then ``failed`` with the reason; any live worker's
dispatcher (:meth:`JobStore.due`, :mod:`storyreel.jobs.queue`) puts it back on the queue, and the engine skips every
node that finished. Each start takes a new lease **generation**: beats, progress and the end of a worker whose lease
was taken over no longer count (:meth:`JobStore.beat` answers False and the worker stops), so a job never runs as two.
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
QUIET_KINDS = frozenset({"preview"})
"""Job kinds that leave the project's status alone (:data:`storyreel.jobs.runner.QUIET`)."""
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
    attempts: int = 0
    generation: int = 0

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(job.id, job.user_id, job.project_id, job.kind, job.state, round(job.progress, 1), job.stage, job.node,
                   job.message, round(job.cost_usd, 6), job.cancel_requested, job.worker, _aware(job.created_at), _aware(job.started_at),
                   _aware(job.finished_at), dict(job.request or {}), job.attempts or 0, job.generation or 0)

    def as_dict(self) -> dict:
        elapsed = None
        if self.started_at:
            elapsed = round(((self.finished_at or utcnow()) - self.started_at).total_seconds(), 1)
        return {"id": self.id, "project_id": self.project_id, "kind": self.kind, "state": self.state, "progress": self.progress,
                "stage": self.stage, "node": self.node, "message": self.message, "cost_usd": self.cost_usd,
                "cancel_requested": self.cancel_requested, "worker": self.worker, "elapsed_s": elapsed, "attempts": self.attempts,
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

    def __init__(self, sessions: sessionmaker[Session], lease: timedelta = LEASE, *, max_attempts: int = 3,
                 backoff_s: float = 2.0) -> None:
        self.sessions = sessions
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s

    @classmethod
    def open(cls, settings: Settings) -> JobStore:
        """The jobs of the database ``settings`` name, with the lease ``STORYREEL_JOB_LEASE_S`` and the redelivery rule
        ``STORYREEL_JOB_MAX_ATTEMPTS`` / ``STORYREEL_JOB_RETRY_BACKOFF_S``."""
        return cls(database(settings), lease=timedelta(seconds=settings.job_lease_s), max_attempts=settings.job_max_attempts,
                   backoff_s=settings.job_retry_backoff_s)

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

    def running_on(self, worker: str) -> list[JobView]:
        """The jobs running now on the worker process ``worker`` (``host:pid``; a job names ``host:pid:thread``)."""
        with self.sessions() as s:
            rows = s.scalars(select(Job).where(Job.state == "running", Job.worker.like(f"{worker}:%")).order_by(Job.started_at)).all()
            return [JobView.of(j) for j in rows]

    def active_for_project(self, project_id: str) -> JobView | None:
        with self.sessions() as s:
            job = s.scalars(select(Job).where(Job.project_id == project_id, Job.state.in_(ACTIVE))
                            .order_by(Job.created_at.desc())).first()
            if job is None or not self._lapsed(job):
                return JobView.of(job) if job else None
            lapsed = job.id
        self.reap(job_ids=[lapsed])
        return self.active_for_project(project_id)

    def start(self, job_id: str, worker: str) -> int:
        """Mark a queued job running on ``worker`` under a new lease generation, which it returns (0: the job was not
        queued any more — canceled meanwhile, or already taken by another worker)."""
        with self.sessions.begin() as s:
            taken = s.execute(update(Job).where(Job.id == job_id, Job.state == "queued").values(
                state="running", worker=worker, started_at=utcnow(), heartbeat_at=utcnow(), finished_at=None, message=None,
                redeliver_at=None, attempts=Job.attempts + 1, generation=Job.generation + 1))
            if taken.rowcount != 1:
                return 0
            job = s.get(Job, job_id)
            s.add(JobEvent(job_id=job_id, kind="state", data={"state": "running", "worker": worker, "attempt": job.attempts}))
            return job.generation

    def beat(self, job_id: str, generation: int | None = None) -> bool:
        """Renew the lease of the running job; False when it is not this worker's any more (another generation holds it,
        or it ended): the worker must stop."""
        with self.sessions.begin() as s:
            q = update(Job).where(Job.id == job_id, Job.state == "running")
            if generation is not None:
                q = q.where(Job.generation == generation)
            return s.execute(q.values(heartbeat_at=utcnow())).rowcount == 1

    def progress(self, job_id: str, *, progress: float, stage: str | None, node: str | None, event: dict | None = None,
                 cost_usd: float | None = None, generation: int | None = None) -> None:
        """Record progress (and renew the lease); ignored from a worker whose generation was taken over."""
        with self.sessions.begin() as s:
            values: dict = {"progress": progress, "stage": stage, "node": node, "heartbeat_at": utcnow()}
            if cost_usd is not None:
                values["cost_usd"] = cost_usd
            q = update(Job).where(Job.id == job_id)
            if generation is not None:
                q = q.where(Job.generation == generation, Job.state == "running")
            if s.execute(q.values(**values)).rowcount and event is not None:
                s.add(JobEvent(job_id=job_id, kind="node", data={**event, "progress": round(progress, 1)}))

    def finish(self, job_id: str, state: str, message: str | None = None, *, cost_usd: float | None = None,
               video_made: bool = False, generation: int | None = None) -> bool:
        """End a job; in the same transaction the owner's profile gains the job's cost and, when
        ``video_made`` (the project's first video: an update remakes it), one video (seed 004 epic 5: the
        counters never disagree with the jobs). With ``generation``: only while that generation holds the job (False
        otherwise — a worker that lost its lease ends nothing)."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None or generation is not None and (job.generation != generation or job.state != "running"):
                return False
            job.state, job.message, job.finished_at = state, message, utcnow()
            if state == "done":
                job.progress = 100.0
            if cost_usd is not None:
                job.cost_usd = cost_usd
            if job.user_id is not None and (video_made or job.cost_usd):
                s.execute(update(User).where(User.id == job.user_id).values(
                    videos_made=User.videos_made + (1 if video_made else 0), total_cost_usd=User.total_cost_usd + job.cost_usd))
            s.add(JobEvent(job_id=job_id, kind="state", data={"state": state, "message": message, "progress": round(job.progress, 1)}))
            return True

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
        """Resume a job that ended (interrupted, failed, canceled, cost limit): queued again, progress kept, its attempts
        counted afresh (a person's resume is a new start)."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.state in ACTIVE:
                return JobView.of(job) if job else None
            job.state, job.cancel_requested, job.message, job.finished_at = "queued", False, None, None
            job.attempts, job.redeliver_at = 0, None
            s.add(JobEvent(job_id=job_id, kind="state", data={"state": "queued", "resumed": True}))
            return JobView.of(job)

    def events(self, job_id: str, after: int = 0, limit: int = 200) -> list[dict]:
        with self.sessions() as s:
            rows = s.scalars(select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.id > after).order_by(JobEvent.id).limit(limit)).all()
            return [{"id": r.id, "at": _aware(r.at).isoformat(), "kind": r.kind, **(r.data or {})} for r in rows]

    _last_reap = 0.0  # monotonic time of this process's last reap (lists reap at most every ``every_s``)

    def reap(self, lease: timedelta | None = None, *, every_s: float = 0.0, job_ids: list[str] | None = None) -> int:
        """Mark running jobs whose worker stopped beating ``interrupted`` (only ``job_ids`` when given) and queue them
        again for redelivery, or fail them after their last attempt; returns how many. With ``every_s`` > 0, skip when this process reaped less than ``every_s`` seconds
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
            stale = s.scalars(lapsed.with_for_update(skip_locked=True)).all()
            for job in stale:
                self._redeliver(s, job, "the worker stopped (crash or restart)")
            return len(stale)

    def release(self, job_id: str, generation: int, why: str) -> bool:
        """A worker that is shutting down gives its running job back: queued again at once for another worker (or failed
        after its last attempt), as if its lease had run out. False when the job is not this generation's any more."""
        with self.sessions.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.state != "running" or job.generation != generation:
                return False
            self._redeliver(s, job, why, backoff=False)
            return True

    def _redeliver(self, s: Session, job: Job, why: str, *, backoff: bool = True) -> None:
        """``job`` lost its worker: ``interrupted``, then queued again after the backoff while attempts remain, else
        ``failed`` with the reason; the project's status follows (not for quiet kinds)."""
        s.add(JobEvent(job_id=job.id, kind="state", data={"state": "interrupted", "worker": job.worker}))
        attempts = job.attempts or 0
        if attempts < self.max_attempts:
            delay = self.backoff_s * 2 ** max(0, attempts - 1) if backoff else 0.0
            job.state, job.redeliver_at = "queued", utcnow() + timedelta(seconds=delay)
            job.message = f"{why}: queued again (attempt {attempts + 1} of {self.max_attempts})"
            status = ProjectStatus.QUEUED
            s.add(JobEvent(job_id=job.id, kind="state", data={"state": "queued", "redelivered": True, "attempt": attempts + 1,
                                                               "after_s": round(delay, 1)}))
        else:
            job.state, job.finished_at = "failed", utcnow()
            job.message = (f"{why}, {attempts} times (STORYREEL_JOB_MAX_ATTEMPTS={self.max_attempts}); "
                           "resume to try again from what is done")
            status = ProjectStatus.FAILED
            s.add(JobEvent(job_id=job.id, kind="state", data={"state": "failed", "message": job.message}))
        if job.kind not in QUIET_KINDS:
            s.execute(update(Project).where(Project.id == job.project_id).values(status=status.value))

    def due(self, limit: int = 20) -> list[str]:
        """Claim the redelivered jobs whose wait is over (each claimed once, by one caller): their IDs, to put on the queue."""
        claimed = []
        with self.sessions.begin() as s:
            ready = s.scalars(select(Job.id).where(Job.state == "queued", Job.redeliver_at.is_not(None), Job.redeliver_at <= utcnow())
                              .limit(limit)).all()
            for job_id in ready:
                if s.execute(update(Job).where(Job.id == job_id, Job.redeliver_at.is_not(None)).values(redeliver_at=None)).rowcount:
                    claimed.append(job_id)
        return claimed

    def delete_for_project(self, project_id: str) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(Job).where(Job.project_id == project_id))
