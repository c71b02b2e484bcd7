"""The workers of a deployment and the node tasks they share (issue 29 item 4: one make fanned out across workers).

- :class:`WorkerRegistry` — each ``storyreel worker`` registers (``host:pid``, its concurrency), beats every couple of
  seconds and leaves when it stops; a worker not seen within the job lease is not counted.
- :class:`NodeTaskStore` — a node of a running make offered to every worker. The coordinating executor and any helper
  claim it at most once (an UPDATE from ``queued``, bumping the lease ``generation``, as jobs are claimed); the holder
  beats while it runs; its ``finish`` counts only under its generation (a helper thought dead that comes back ends
  nothing); a running task whose holder stopped beating is queued again for whoever is alive.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storyreel.store.models import NodeTask, Worker


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


class WorkerRegistry:
    """The ``workers`` rows. ``lease``: a worker unseen for longer is gone."""

    def __init__(self, sessions: sessionmaker[Session], lease: timedelta) -> None:
        self.sessions = sessions
        self.lease = lease

    def beat(self, name: str, concurrency: int) -> None:
        """Register ``name`` (``host:pid``) or say it is alive."""
        with self.sessions.begin() as s:
            if s.execute(update(Worker).where(Worker.name == name).values(seen_at=utcnow(), concurrency=concurrency)).rowcount:
                return
        try:
            with self.sessions.begin() as s:
                s.add(Worker(name=name, concurrency=concurrency, started_at=utcnow(), seen_at=utcnow()))
        except IntegrityError:
            pass  # registered meanwhile by this worker's other thread

    def leave(self, name: str) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(Worker).where(Worker.name == name))

    def live(self) -> dict[str, int]:
        """Every worker seen within the lease: name → concurrency."""
        cutoff = utcnow() - self.lease
        with self.sessions() as s:
            rows = s.execute(select(Worker.name, Worker.concurrency, Worker.seen_at)).all()
        return {name: conc for name, conc, seen in rows if _aware(seen) >= cutoff}


class NodeTaskStore:
    """The ``node_tasks`` rows (short transactions). ``lease``: a running task unbeaten for longer is queued again."""

    def __init__(self, sessions: sessionmaker[Session], lease: timedelta) -> None:
        self.sessions = sessions
        self.lease = lease

    def create(self, *, project_id: str, stage: str, unit: str, key: str, inputs: dict[str, str], forcing: bool, base: int = 0) -> str:
        task_id = str(uuid.uuid4())
        with self.sessions.begin() as s:
            s.add(NodeTask(id=task_id, project_id=project_id, stage=stage, unit=unit, key=key, inputs=dict(inputs),
                           forcing=forcing, base=base, state="queued", created_at=utcnow()))
        return task_id

    def claim(self, task_id: str, worker: str) -> int:
        """Take a queued task: its new lease generation, or 0 when it is not queued (taken, done or canceled)."""
        with self.sessions.begin() as s:
            taken = s.execute(update(NodeTask).where(NodeTask.id == task_id, NodeTask.state == "queued").values(
                state="running", worker=worker, heartbeat_at=utcnow(), generation=NodeTask.generation + 1))
            if taken.rowcount != 1:
                return 0
            return int(s.scalar(select(NodeTask.generation).where(NodeTask.id == task_id)))

    def beat(self, task_id: str, generation: int) -> bool:
        """Renew the holder's lease; False when the task is no longer its own (taken over, or canceled)."""
        with self.sessions.begin() as s:
            return bool(s.execute(update(NodeTask).where(NodeTask.id == task_id, NodeTask.generation == generation,
                                                         NodeTask.state == "running").values(heartbeat_at=utcnow())).rowcount)

    def finish(self, task_id: str, generation: int, state: str, result: dict) -> bool:
        """End the task as ``done`` or ``failed`` with ``result``; False (nothing written) when not the holder."""
        with self.sessions.begin() as s:
            return bool(s.execute(update(NodeTask).where(NodeTask.id == task_id, NodeTask.generation == generation,
                                                         NodeTask.state == "running")
                                  .values(state=state, result=result, finished_at=utcnow())).rowcount)

    def get(self, task_id: str) -> NodeTask | None:
        with self.sessions() as s:
            return s.get(NodeTask, task_id)

    def requeue_lapsed(self, task_id: str) -> bool:
        """Queue a running task again when its holder has not beaten within the lease; True when it was."""
        cutoff = utcnow() - self.lease
        with self.sessions.begin() as s:
            return bool(s.execute(update(NodeTask).where(NodeTask.id == task_id, NodeTask.state == "running",
                                                         NodeTask.heartbeat_at < cutoff)
                                  .values(state="queued", worker=None)).rowcount)

    def cancel(self, task_id: str) -> None:
        """Withdraw a task nobody finished (the make stopped): a queued one is never taken, a running one's holder stops."""
        with self.sessions.begin() as s:
            s.execute(update(NodeTask).where(NodeTask.id == task_id, NodeTask.state.in_(("queued", "running")))
                      .values(state="canceled", finished_at=utcnow()))

    def canceled(self, task_id: str) -> bool:
        with self.sessions() as s:
            return s.scalar(select(NodeTask.state).where(NodeTask.id == task_id)) == "canceled"

    def forget(self, project_id: str, older_than: timedelta = timedelta(days=1)) -> int:
        """Delete the project's ended tasks older than ``older_than`` (they are only a coordination record: the runs
        table keeps the provenance). Returns how many went."""
        with self.sessions.begin() as s:
            return s.execute(delete(NodeTask).where(NodeTask.project_id == project_id,
                                                    NodeTask.state.in_(("done", "failed", "canceled")),
                                                    NodeTask.created_at < utcnow() - older_than)).rowcount
