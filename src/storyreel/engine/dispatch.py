"""Fan-out: the executor offers the nodes of a stage to other workers (issue 29 item 4).

A job runner that knows of other live workers installs a :class:`Dispatcher` for the length of a verb
(:func:`dispatching`); the executor then sizes a fanning stage's pool to its own slots plus the helpers' and, for each
pending node of a stage with ``fans_out``, *offers* it (a task every worker may claim once), then either claims it
itself when one of its own slots is free or waits for a helper's outcome — work stealing, so a make never waits on a
busy or dead helper: a helper that stops beating has its task queued again. A helper runs the node with
:meth:`storyreel.engine.executor.Executor.run_node` (its own copy of the project, the same recipe key checked) and its
outcome — the node's state, data version and outputs by digest — is adopted by the coordinator as if the node had run
here. Without a dispatcher, or with no other live worker, nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from storyreel.engine.graph import Node, Recipe


class Dispatcher(Protocol):
    """What the executor needs of a fan-out transport (the job queue's is :class:`storyreel.jobs.fanout.QueueDispatch`)."""

    def helpers(self) -> int:
        """Job slots of the other live workers now (0: run everything here)."""

    def prepare(self, project_id: str) -> None:
        """Before the first offer of a verb: make the project's current files reachable to the helpers."""

    def offer(self, project_id: str, node: Node, recipe: Recipe, forcing: bool) -> str:
        """Offer ``node`` to every worker; returns the task's ID."""

    def claim(self, task_id: str) -> int:
        """Take the task here: its lease generation, or 0 when a helper took it (or it ended)."""

    def done(self, task_id: str, generation: int) -> None:
        """The task ran here (its run is recorded)."""

    def outcome(self, task_id: str) -> dict[str, Any] | None:
        """A helper's outcome once the task ended (``{"state": "done"|"failed", "result": {...}, "worker": …}``);
        ``{"state": "queued"}`` when it is on offer again (its helper stopped beating: it is queued again here); else
        None (queued or running)."""

    def withdraw(self, task_id: str) -> None:
        """The make stopped: nobody should start the task any more."""


DISPATCH: ContextVar[Dispatcher | None] = ContextVar("storyreel_dispatch", default=None)


@contextmanager
def dispatching(dispatcher: Dispatcher | None) -> Iterator[None]:
    """Executors created or evaluating in this context (and the threads they start) offer fanning nodes to ``dispatcher``."""
    token = DISPATCH.set(dispatcher)
    try:
        yield
    finally:
        DISPATCH.reset(token)
