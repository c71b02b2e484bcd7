"""Waiting on jobs and reading what a job ran."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from storyreel.api import Workspace
from storyreel.jobs import service as jobs
from storyreel.store.models import Run

END = ("done", "failed", "canceled", "interrupted", "cost_limit")


def wait_for(job_id: str, workspace: Path, states: tuple[str, ...] = END, timeout: float = 240.0, until=None):  # noqa: ANN001, ANN201
    """Poll the job until its state is one of ``states`` (or ``until(view)`` holds); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        view = jobs.job(Workspace.open(workspace), job_id)
        if view is not None and (until(view) if until else view.state in states):
            return view
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {states}: {view}")


def successful_runs(sessions, project_id: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(stage, unit) of every successful node run of the project, in order (repeats show re-runs)."""
    with sessions() as s:
        rows = s.execute(select(Run.stage, Run.unit).where(Run.project_id == project_id, Run.status == "success").order_by(Run.id)).all()
    return [tuple(r) for r in rows]
