"""Fan-out of one make across workers (issue 29 item 4) on the machine's Redis and PostgreSQL and a real S3 API on
loopback (moto's server mode): two ``storyreel worker`` processes, each with its own workspace folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyreel.api import Workspace
from storyreel.jobs import fanout
from storyreel.jobs import service as jobs
from tests.conftest import DELIVERY, INPUTS
from tests.jobs.helpers import s3_env, scale_env, successful_runs, wait_for  # noqa: F401 - the fixtures
from tests.jobs.test_scale_out import _ready, _stop, _worker

pytestmark = pytest.mark.e2e





def test_one_make_is_fanned_out_across_two_workers_and_makes_the_same_video(tmp_path: Path, scale_env: dict, s3_env) -> None:  # noqa: ANN001
    """Two workers with their own folders; one takes the make and offers its images, narration, clips, crossfades and
    audio segments to both: each worker runs some, the coordinator adopts the other's (fetched by digest from the
    bucket), and the video is byte for byte the one a single machine makes of the same text."""
    from storyreel.store.models import NodeTask

    env = {**scale_env, **s3_env[0]}
    text = (INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8")
    workers = [_worker(tmp_path / "a" / "ws", env), _worker(tmp_path / "b" / "ws", env)]
    try:
        _ready(*workers)
        ws = Workspace.open(tmp_path / "web" / "ws")
        deadline = time.monotonic() + 30
        while len(fanout.registry(ws).live()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(fanout.registry(ws).live()) == 2
        project, job = jobs.create_project(ws, text=text, user_id=None)
        done = wait_for(job.id, tmp_path / "web" / "ws", timeout=300)
        assert done.state == "done", done.message
        with ws.store.sessions() as s:
            tasks = s.query(NodeTask).filter(NodeTask.project_id == project["id"]).all()
        by_worker: dict[str, set[str]] = {}
        for t in tasks:
            assert t.state == "done", (t.stage, t.unit, t.state, t.result)
            by_worker.setdefault(t.worker.split(":")[1], set()).add(t.stage)
        assert set(by_worker) == {str(w.pid) for w in workers}, by_worker  # both ran nodes of the one make
        helper = next(pid for pid in by_worker if pid != done.worker.split(":")[1])
        assert by_worker[helper] & {"clip", "segment", "audio_segment"}, by_worker
        maker = tmp_path / ("a" if done.worker.split(":")[1] == str(workers[0].pid) else "b") / "ws"
        fanned = (maker / "projects" / project["id"] / "video.mp4").read_bytes()
        assert json.loads((maker / "projects" / project["id"] / "qc.json").read_text())["passed"]
        runs = successful_runs(ws.store.sessions, project["id"])
        assert len(runs) == len(set(runs)), "a node ran twice"
    finally:
        for w in workers:
            _stop(w)
    # every clip, crossfade and audio segment made again on this one machine gives the same bytes
    alone = subprocess.run([sys.executable, "-m", "storyreel", "render", project["id"], "--force", "--json", "--workspace", str(maker)],
                           env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert {n.split("[")[0] for n in json.loads(alone.stdout)["executed_nodes"]} >= {"clip", "segment", "audio_segment", "render"}
    assert (maker / "projects" / project["id"] / "video.mp4").read_bytes() == fanned


def test_a_helper_killed_mid_node_leaves_its_node_to_the_coordinator(tmp_path: Path, scale_env: dict, s3_env) -> None:  # noqa: ANN001
    """The helper is SIGKILLed while it runs a node of the other worker's make: once its task's lease runs out the
    task is offered again, the coordinator runs it, and the make ends ``done`` with QC passed — no person involved."""
    from storyreel.store.models import NodeTask

    env = {**scale_env, **s3_env[0], **DELIVERY}  # 1080p: a node lasts long enough to be killed in
    workers = [_worker(tmp_path / "a" / "ws", env), _worker(tmp_path / "b" / "ws", env)]
    web = tmp_path / "web" / "ws"
    try:
        _ready(*workers)
        ws = Workspace.open(web)
        deadline = time.monotonic() + 30
        while len(fanout.registry(ws).live()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        project, job = jobs.create_project(ws, text=(INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8"), user_id=None)
        coordinator = wait_for(job.id, web, until=lambda v: v.worker is not None or v.state not in ("queued", "running")).worker.split(":")[1]
        helper = next(w for w in workers if str(w.pid) != coordinator)
        victim_task = None
        deadline = time.monotonic() + 120
        while victim_task is None and time.monotonic() < deadline:
            with ws.store.sessions() as s:
                victim_task = s.query(NodeTask).filter(NodeTask.project_id == project["id"], NodeTask.state == "running",
                                                       NodeTask.worker.like(f"%:{helper.pid}:%")).first()
            time.sleep(0.05)
        assert victim_task is not None, "the helper never ran a node"
        helper.send_signal(signal.SIGKILL)
        helper.wait()
        done = wait_for(job.id, web, timeout=300)
        assert done.state == "done", done.message
        with ws.store.sessions() as s:
            task = s.get(NodeTask, victim_task.id)
        assert task.state == "done" and task.worker.split(":")[1] == coordinator and task.generation >= 2
        maker = tmp_path / ("a" if coordinator == str(workers[0].pid) else "b") / "ws" / "projects" / project["id"]
        assert json.loads((maker / "qc.json").read_text())["passed"]
    finally:
        for w in workers:
            _stop(w)
