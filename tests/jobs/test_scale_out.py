"""Scale-out: ``storyreel worker`` processes on the machine's Redis (RedisHuey, STORYREEL_QUEUE_URL) with
projects, runs, ledger and jobs in the machine's PostgreSQL (STORYREEL_DATABASE_URL), each test in its
own schema. A worker killed with SIGKILL mid-job leaves the job ``interrupted`` once its lease runs out;
resume on a new worker finishes it without re-running finished nodes."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyreel.api import Workspace, library
from storyreel.jobs import service as jobs
from tests.conftest import DELIVERY, INPUTS
from tests.jobs.helpers import successful_runs, wait_for

pytestmark = pytest.mark.e2e

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


def _worker(workspace: Path, env: dict) -> subprocess.Popen:
    log = open(workspace.parent / f"worker-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "storyreel", "worker", "--workspace", str(workspace)],
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_worker_process_on_redis_and_postgresql_runs_the_job(workspace: Path, scale_env: dict) -> None:
    worker = _worker(workspace, scale_env)
    try:
        ws = Workspace.open(workspace)
        project, job = jobs.create_project(ws, text=(INPUTS / "ad-brief.txt").read_text(encoding="utf-8"), user_id=None)
        assert ws.store.sessions.kw["bind"].dialect.name == "postgresql"
        done = wait_for(job.id, workspace)
        assert done.state == "done", done.message
        assert done.worker and done.worker.split(":")[1] == str(worker.pid)  # the separate process ran it
        assert (workspace / "projects" / project["id"] / "video.mp4").stat().st_size > 100_000
        assert not (workspace / "queue.db").exists()  # the queue is Redis, not the workspace's SQLite
    finally:
        _stop(worker)


def test_a_killed_worker_leaves_the_job_interrupted_and_resume_finishes_it(workspace: Path, scale_env: dict) -> None:
    scale_env = {**scale_env, **DELIVERY}  # 1080p: the kill lands mid-encode (at 360p the job may finish first)
    worker = _worker(workspace, scale_env)
    ws = Workspace.open(workspace)
    project, job = jobs.create_project(ws, text=(INPUTS / "ad-brief.txt").read_text(encoding="utf-8"), title="Tide & Stone", user_id=None)
    try:
        wait_for(job.id, workspace, until=lambda v: v.stage == "clip" or v.state not in ("queued", "running"))
        time.sleep(0.5)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed = wait_for(job.id, workspace, timeout=20)
        assert killed.state == "interrupted", killed.message
        assert library.owned(ws, project["id"], None).status == "interrupted"
        sessions = ws.store.sessions
        before = successful_runs(sessions, project["id"])
        assert any(stage == "image" for stage, _ in before) and not any(stage == "render" for stage, _ in before)
        worker = _worker(workspace, scale_env)
        assert jobs.resume(ws, job.id).state == "queued"
        done = wait_for(job.id, workspace)
        assert done.state == "done", done.message
        after = successful_runs(sessions, project["id"])
        rerun = set(before) & set(after[len(before):])
        assert not rerun, f"finished nodes ran again: {sorted(rerun)}"
        assert ("render", "video") in after or any(stage == "render" for stage, _ in after)
    finally:
        _stop(worker)
