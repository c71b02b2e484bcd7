"""Fan-out over the job queue (issue 29 item 4): a make's independent nodes offered to every live worker.

- :class:`QueueDispatch` — the :class:`~storyreel.engine.dispatch.Dispatcher` a job runner installs for its verb: each
  offered node is a ``node_tasks`` row (:class:`~storyreel.store.fleet.NodeTaskStore`) and a ``storyreel.run_node``
  message on the queue; the helpers are the other workers of the registry (:class:`~storyreel.store.fleet.WorkerRegistry`).
- :func:`run_node_task` — what a consumer does with such a message: claim the task (at most one worker does), beat
  while it runs, run the node in its own workspace (:func:`storyreel.api.nodes.run_node`), end it with its outcome —
  or ``failed`` with the reason when it could not run it here, so the coordinator runs it itself.

The cost cap holds across workers because the ledger's reservations are rows of the one database, taken under the
project row's lock (:meth:`storyreel.store.ledger.CostLedger.reserve`); what one worker spends, the others see.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from storyreel import api
from storyreel.api import nodes
from storyreel.core.cancel import SHUTDOWN, Canceled, throttled, watching
from storyreel.engine.graph import Node, Recipe
from storyreel.store.fleet import NodeTaskStore, WorkerRegistry

log = logging.getLogger("storyreel.jobs")


def process_name() -> str:
    """``host:pid`` of this worker process (its name in the registry)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def thread_name() -> str:
    """``host:pid:thread``, as a job names the consumer running it."""
    return f"{process_name()}:{threading.get_native_id()}"


def registry(ws: api.Workspace) -> WorkerRegistry:
    return WorkerRegistry(ws.store.sessions, timedelta(seconds=ws.settings.job_lease_s))


def tasks(ws: api.Workspace) -> NodeTaskStore:
    return NodeTaskStore(ws.store.sessions, timedelta(seconds=ws.settings.job_lease_s))


class QueueDispatch:
    """Offers nodes of the job running in this process to the other registered workers; ``enqueue(task_id)`` puts a
    task's message on the queue (the consumer's own Huey, handed down by :mod:`storyreel.jobs.queue`)."""

    HELPERS_TTL_S = 2.0

    def __init__(self, ws: api.Workspace, enqueue: Callable[[str], None]) -> None:
        self.ws = ws
        self.enqueue = enqueue
        self.tasks = tasks(ws)
        self.registry = registry(ws)
        self.me = process_name()
        self.base = 0
        self._helpers = (0.0, 0)

    def helpers(self) -> int:
        at, count = self._helpers
        if time.monotonic() - at > self.HELPERS_TTL_S:
            count = sum(c for name, c in self.registry.live().items() if name != self.me)
            self._helpers = (time.monotonic(), count)
        return count

    def prepare(self, project_id: str) -> None:
        self.base = nodes.share(self.ws, project_id)

    def offer(self, project_id: str, node: Node, recipe: Recipe, forcing: bool) -> str:
        task_id = self.tasks.create(project_id=project_id, stage=node.stage, unit=node.unit, key=recipe.key,
                                    inputs=recipe.inputs, forcing=forcing, base=self.base)
        self.enqueue(task_id)
        return task_id

    def claim(self, task_id: str) -> int:
        return self.tasks.claim(task_id, thread_name())

    def done(self, task_id: str, generation: int) -> None:
        self.tasks.finish(task_id, generation, "done", {"status": "ran at the coordinator"})

    def outcome(self, task_id: str) -> dict[str, Any] | None:
        task = self.tasks.get(task_id)
        if task is None:
            return {"state": "failed", "result": {"message": "the task is gone"}, "worker": None}
        if task.state in ("done", "failed"):
            return {"state": task.state, "result": task.result or {}, "worker": task.worker}
        if task.state == "canceled":
            return {"state": "failed", "result": {"message": "withdrawn"}, "worker": task.worker}
        if task.state == "running" and self.tasks.requeue_lapsed(task_id):
            log.warning("node %s[%s]: its helper %s stopped beating; offered again", task.stage, task.unit, task.worker)
            self.enqueue(task_id)
            return {"state": "queued"}
        return None

    def withdraw(self, task_id: str) -> None:
        self.tasks.cancel(task_id)


_EVICTED_AT = {"at": 0.0}
EVICT_EVERY_S = 60.0
"""A helper judges its local copies at most this often (after node tasks); a job's worker after every job."""


def evict_copies(ws: api.Workspace, *, throttle: bool = False) -> None:
    """Keep this machine's project copies within ``STORYREEL_LOCAL_COPIES_MB`` (with shared storage; never raises)."""
    if throttle:
        if time.monotonic() - _EVICTED_AT["at"] < EVICT_EVERY_S:
            return
        _EVICTED_AT["at"] = time.monotonic()
    try:
        ws.evict_copies()
    except Exception:  # noqa: BLE001 - a full disk shows itself elsewhere; a job's outcome is not this
        log.warning("could not judge this machine's project copies", exc_info=True)


def keep_lease(beat: Callable[[], bool], every_s: float, stop: threading.Event, lost: threading.Event, what: str) -> threading.Thread:
    """Start a thread that calls ``beat()`` every ``every_s`` seconds until ``stop``; when it answers False (the lease was
    taken over: this worker was thought dead) it sets ``lost`` — the work stops at its next checkpoint and this worker
    writes nothing more of it. A beat that raises is logged and retried (the lease tolerates two missed beats)."""

    def run() -> None:
        while not stop.wait(every_s):
            try:
                if not beat():
                    lost.set()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease tolerates two
                log.warning("%s: heartbeat failed", what, exc_info=True)

    thread = threading.Thread(target=run, daemon=True, name=f"beat-{what[-8:]}")
    thread.start()
    return thread


def run_node_task(task_id: str, workspace: Path) -> str:
    """Run node task ``task_id`` here if it is still on offer; returns ``done``, ``failed``, ``skipped`` (taken by another
    worker, or ended), ``canceled`` or ``lost`` (taken over meanwhile). Never raises for the node's own failure."""
    ws = api.Workspace.open(workspace)
    store = tasks(ws)
    task = store.get(task_id)
    if task is None or task.state != "queued":
        return "skipped"
    generation = store.claim(task_id, thread_name())
    if not generation:
        return "skipped"
    stop, lost = threading.Event(), threading.Event()
    beating = keep_lease(lambda: store.beat(task_id, generation), ws.settings.job_lease_s / 3, stop, lost, f"node task {task_id}")
    withdrawn = throttled(lambda: store.canceled(task_id))
    try:
        with watching(lambda: SHUTDOWN.is_set() or lost.is_set() or withdrawn()):
            outcome = nodes.run_node(ws, task.project_id, task.stage, task.unit, key=task.key, inputs=dict(task.inputs or {}),
                                     forcing=bool(task.forcing), base=task.base or 0)
        state = "done"
    except Canceled:
        return "canceled"
    except Exception as exc:  # noqa: BLE001 - whatever kept it from running here, the coordinator runs it itself
        log.warning("node %s[%s] of %s could not run here: %s", task.stage, task.unit, task.project_id, exc, exc_info=True)
        state, outcome = "failed", {"message": f"{type(exc).__name__}: {str(exc)[:500]}"}
    finally:
        stop.set()
        beating.join(timeout=5)
    if lost.is_set() or not store.finish(task_id, generation, state, outcome):
        return "lost"
    evict_copies(ws, throttle=True)
    return state
