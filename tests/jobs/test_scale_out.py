"""Scale-out: ``storyreel worker`` processes on the machine's Redis (RedisHuey, STORYREEL_QUEUE_URL) with
projects, runs, ledger and jobs in the machine's PostgreSQL (STORYREEL_DATABASE_URL), each test in its
own schema; with STORYREEL_STORAGE_URL on a real S3 API on loopback (moto's server mode) each worker and the dashboard
has a workspace folder of its own — no shared disk. Three videos made from the API by two workers and served from the
bucket with range requests; a worker killed with SIGKILL mid-job: once its lease runs out the job is delivered again and
the other worker finishes it without re-running finished nodes, with no person involved."""

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
from tests.jobs.helpers import bucket_keys, s3_env, scale_env, successful_runs, wait_for  # noqa: F401 - the fixtures
from tests.web.conftest import api_client

pytestmark = pytest.mark.e2e

def _worker(workspace: Path, env: dict) -> subprocess.Popen:
    workspace.parent.mkdir(parents=True, exist_ok=True)
    log_path = workspace.parent / f"worker-{time.monotonic_ns()}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "storyreel", "worker", "--workspace", str(workspace)],
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def _ready(*workers: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until every worker has said it is consuming (its first log line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("storyreel worker: queue" in w.log_path.read_text(errors="replace") for w in workers):
            return
        assert all(w.poll() is None for w in workers), [w.log_path.read_text(errors="replace")[-2000:] for w in workers]
        time.sleep(0.1)
    raise AssertionError("the workers did not start")


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


def test_two_workers_with_their_own_disks_make_three_videos_served_from_the_bucket(tmp_path: Path, scale_env: dict, s3_env) -> None:  # noqa: ANN001
    """The dashboard (its own workspace, no consumer) takes three projects through the JSON API; two workers, each with
    its own workspace folder, make them through Redis, PostgreSQL and the bucket; every deliverable is then served by
    the dashboard from the bucket — the local copies removed first — with working range requests."""
    from fastapi.testclient import TestClient

    from storyreel.web.app import create_app

    env = {**scale_env, **s3_env[0]}
    client = s3_env[1]
    web = tmp_path / "web" / "ws"
    workers = [_worker(tmp_path / "a" / "ws", env), _worker(tmp_path / "b" / "ws", env)]
    try:
        _ready(*workers)
        app = create_app(web, workers=0)
        with TestClient(app):
            ada = api_client(app, "ada")
            created = [ada.post("/api/projects", json={"text": (INPUTS / name).read_text(encoding="utf-8")}).json()
                       for name in ("ad-brief.txt", "hare-and-tortoise.txt", "gettysburg-address.txt")]
            done = [wait_for(c["job_id"], web, timeout=300) for c in created]
            assert [d.state for d in done] == ["done"] * 3, [(d.state, d.message) for d in done]
            ran = {d.worker.split(":")[1] for d in done}
            assert ran == {str(w.pid) for w in workers}, ran  # both made videos
            for c, d in zip(created, done):
                pid = c["id"]
                maker = tmp_path / ("a" if d.worker.split(":")[1] == str(workers[0].pid) else "b") / "ws" / "projects" / pid
                other = tmp_path / ("b" if maker.parts[-4] == "a" else "a") / "ws" / "projects" / pid
                # nothing shared but the bucket: the other worker holds at most what it fetched to help (no deliverable)
                assert (maker / "video.mp4").is_file() and not (other / "video.mp4").exists()
                keys = bucket_keys(client, env, f"projects/{pid}/")
                video = client.get_object(Bucket="storyreel-test", Key=env["STORYREEL_STORAGE_URL"].split("/", 3)[3] + f"/projects/{pid}/video.mp4")["Body"].read()
                assert keys[f"projects/{pid}/video.mp4"] == len(video) == (maker / "video.mp4").stat().st_size
                assert ada.get(f"/api/projects/{pid}").json()["project"]["status"] == "done"
                for name in ("video.mp4", "video.vtt", "thumbnail.jpg"):  # served from the bucket, not a local copy
                    (web / "projects" / pid / name).unlink(missing_ok=True)
                whole = ada.get(f"/api/projects/{pid}/video")
                assert whole.status_code == 200 and whole.content == video and whole.headers["accept-ranges"] == "bytes"
                part = ada.get(f"/api/projects/{pid}/video", headers={"Range": "bytes=1000-1999"})
                assert part.status_code == 206 and part.content == video[1000:2000]
                assert part.headers["content-range"] == f"bytes 1000-1999/{len(video)}"
                tail = ada.get(f"/api/projects/{pid}/video", headers={"Range": "bytes=-500"})
                assert tail.status_code == 206 and tail.content == video[-500:]
                assert ada.get(f"/api/projects/{pid}/video", headers={"Range": f"bytes={len(video) + 10}-"}).status_code == 416
                vtt = ada.get(f"/api/projects/{pid}/subtitles.vtt")
                assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
                assert ada.get(f"/api/projects/{pid}/thumbnail").content[:3] == b"\xff\xd8\xff"
                assert ada.get(f"/api/projects/{pid}/qc").json()["passed"]
    finally:
        for w in workers:
            _stop(w)


def test_a_killed_workers_job_is_delivered_again_and_finished_by_the_other(tmp_path: Path, scale_env: dict, s3_env) -> None:  # noqa: ANN001
    """Two workers, each with its own workspace folder (the bucket is all they share); the one running the job is
    killed with SIGKILL mid-encode. Once its lease runs out the job is ``interrupted``, queued again and finished by the
    other worker with no person involved; no node that had finished runs again (the other fetches their outputs from the
    bucket); the job's events show ``running → interrupted → queued → running → done`` with both workers named."""
    scale_env = {**scale_env, **s3_env[0], **DELIVERY, "STORYREEL_JOB_RETRY_BACKOFF_S": "0.5"}  # 1080p: the kill lands mid-encode
    workspace = tmp_path / "web" / "ws"
    workers = [_worker(tmp_path / "a" / "ws", scale_env), _worker(tmp_path / "b" / "ws", scale_env)]
    _ready(*workers)
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


def _health_url(proc: subprocess.Popen, timeout: float = 60.0) -> str:
    import re

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"health on (http://[\d.]+:\d+)", proc.log_path.read_text(errors="replace"))
        if found:
            return found.group(1)
        assert proc.poll() is None, proc.log_path.read_text(errors="replace")[-2000:]
        time.sleep(0.1)
    raise AssertionError("the worker did not start its health endpoint")


def test_a_workers_health_endpoint_says_what_it_runs_and_what_fails(tmp_path: Path, scale_env: dict) -> None:
    """``storyreel worker --concurrency 2 --health-port 0``: /healthz 200 while its consumer runs, /readyz 200 listing the
    job it runs (its stage and progress) when the database and the queue answer; a worker whose queue does not answer
    is alive but not ready (503 naming the queue); an unknown path 404."""
    import httpx

    workspace = tmp_path / "ws"

    def worker(env: dict) -> subprocess.Popen:
        workspace.parent.mkdir(parents=True, exist_ok=True)
        log_path = tmp_path / f"worker-{time.monotonic_ns()}.log"
        proc = subprocess.Popen([sys.executable, "-m", "storyreel", "worker", "--concurrency", "2", "--health-port", "0",
                                 "--workspace", str(workspace)], env={**os.environ, **env},
                                stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115 - closed with the process
        proc.log_path = log_path  # type: ignore[attr-defined]
        return proc

    good = worker(scale_env)
    try:
        url = _health_url(good)
        live = httpx.get(f"{url}/healthz", timeout=10)
        assert live.status_code == 200 and live.json()["status"] == "ok" and live.json()["concurrency"] == 2
        assert live.json()["worker"].endswith(f":{good.pid}")
        assert httpx.get(f"{url}/nope", timeout=10).status_code == 404
        ws = Workspace.open(workspace)
        project, job = jobs.create_project(ws, text=(INPUTS / "ad-brief.txt").read_text(encoding="utf-8"), user_id=None)
        seen = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and seen is None:
            ready = httpx.get(f"{url}/readyz", timeout=10).json()
            seen = next((r for r in ready["running"] if r["id"] == job.id), None)
            if jobs.job(ws, job.id).state == "done":
                break
            time.sleep(0.05)
        assert seen is not None and seen["project"] == project["id"] and seen["kind"] == "make", ready
        assert "postgresql" in ready["checks"]["database"] and "Redis" in ready["checks"]["queue"]
        assert wait_for(job.id, workspace).state == "done"
        assert httpx.get(f"{url}/readyz", timeout=10).json()["running"] == []
    finally:
        _stop(good)

    lost = worker({**scale_env, "STORYREEL_QUEUE_URL": "redis://127.0.0.1:1/0"})
    try:
        url = _health_url(lost)
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["queue"].startswith("failed"), ready.json()
    finally:
        _stop(lost)
