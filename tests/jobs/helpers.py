"""Waiting on jobs and reading what a job ran."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

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


PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/13"


@pytest.fixture
def scale_env(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A fresh PostgreSQL schema and Redis database for this test; the env the test and its workers share."""
    psycopg = pytest.importorskip("psycopg")
    redis = pytest.importorskip("redis")
    schema = f"storyreel_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        client = redis.Redis.from_url(REDIS)
        client.flushdb()
    except (psycopg.OperationalError, redis.ConnectionError) as exc:
        pytest.skip(f"PostgreSQL or Redis not reachable on 127.0.0.1: {exc}")
    env = {"STORYREEL_DATABASE_URL": f"{PG}?options=-csearch_path%3D{schema}", "STORYREEL_QUEUE_URL": REDIS,
           "STORYREEL_JOB_LEASE_S": "3"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    client.flushdb()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
