"""Scale-out: ``storyreel worker`` processes on the machine's Redis (RedisHuey, STORYREEL_QUEUE_URL) with
projects, runs, ledger and jobs in the machine's PostgreSQL (STORYREEL_DATABASE_URL), each test in its
own schema. A worker killed with SIGKILL mid-job: once its lease runs out the job is delivered again and the other
worker finishes it without re-running finished nodes, with no person involved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyreel.api import Workspace, library
from storyreel.jobs import service as jobs
from tests.conftest import DELIVERY, INPUTS
from tests.jobs.helpers import scale_env, successful_runs, wait_for  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

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


def test_a_killed_workers_job_is_delivered_again_and_finished_by_the_other(workspace: Path, scale_env: dict) -> None:
    """Two workers; the one running the job is killed with SIGKILL mid-encode. Once its lease runs out the job is
    ``interrupted``, queued again and finished by the other worker with no person involved; no node that had finished
    runs again; the job's events show ``running → interrupted → queued → running → done`` with both workers named."""
    scale_env = {**scale_env, **DELIVERY, "STORYREEL_JOB_RETRY_BACKOFF_S": "0.5"}  # 1080p: the kill lands mid-encode
    workers = [_worker(workspace, scale_env), _worker(workspace, scale_env)]
    ws = Workspace.open(workspace)
    project, job = jobs.create_project(ws, text=(INPUTS / "ad-brief.txt").read_text(encoding="utf-8"), title="Tide & Stone", user_id=None)
    try:
        running = wait_for(job.id, workspace, until=lambda v: v.stage == "clip" or v.state not in ("queued", "running"))
        assert running.state == "running", running
        time.sleep(0.5)
        victim = next(w for w in workers if str(w.pid) == running.worker.split(":")[1])
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        sessions = ws.store.sessions
        before = successful_runs(sessions, project["id"])
        assert any(stage == "image" for stage, _ in before) and not any(stage == "render" for stage, _ in before)
        done = wait_for(job.id, workspace, timeout=240)
        assert done.state == "done", done.message
        survivor = next(w for w in workers if w is not victim)
        assert done.worker.split(":")[1] == str(survivor.pid) and done.attempts == 2
        states = [(e["state"], e.get("worker", "").split(":")[1:2]) for e in ws.jobs.events(job.id) if e["kind"] == "state"]
        assert [st for st, _ in states] == ["queued", "running", "interrupted", "queued", "running", "done"], states
        assert states[1][1] == [str(victim.pid)] and states[4][1] == [str(survivor.pid)]
        assert library.owned(ws, project["id"], None).status == "done"
        after = successful_runs(sessions, project["id"])
        rerun = set(before) & set(after[len(before):])
        assert not rerun, f"finished nodes ran again: {sorted(rerun)}"
        assert any(stage == "render" for stage, _ in after)
    finally:
        for w in workers:
            _stop(w)
