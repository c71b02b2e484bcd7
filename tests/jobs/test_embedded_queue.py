"""Jobs on the embedded queue (SqliteHuey in the workspace, consumer threads in this process): a real
``make`` from the dashboard's create call to ``done``; cancel mid-render and resume; a dead worker's job
shown ``interrupted``."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from storyreel.api import Workspace, library
from storyreel.jobs import service as jobs
from storyreel.jobs.queue import EmbeddedConsumer
from storyreel.media.probe import probe
from storyreel.store.files import ProjectPaths
from storyreel.store.jobs import utcnow
from storyreel.store.models import Job
from tests.conftest import DELIVERY, INPUTS
from tests.jobs.helpers import successful_runs, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def consumer(workspace: Path):
    running = EmbeddedConsumer(Workspace.open(workspace).settings, workers=1)
    running.start()
    yield running
    running.stop()


def test_a_job_from_the_dashboard_call_makes_the_video(workspace: Path, consumer: EmbeddedConsumer) -> None:
    ws = Workspace.open(workspace)
    text = (INPUTS / "ad-brief.txt").read_text(encoding="utf-8")
    project, job = jobs.create_project(ws, text=text, user_id=None)
    assert job.state == "queued" and project["status"] == "queued"
    assert library.storyboard(ws, project["id"], None) is not None  # planned at once (free planner)
    done = wait_for(job.id, workspace)
    assert done.state == "done", done.message
    assert done.progress == 100.0 and done.message.startswith("video ready")
    events = jobs.events(ws, job.id)
    states = [e["state"] for e in events if e["kind"] == "state"]
    assert states == ["queued", "running", "done"]
    nodes = [e for e in events if e["kind"] == "node"]
    progress = [e["progress"] for e in nodes]
    assert progress == sorted(progress) and 0 < progress[0] < 50  # monotonic, from the first node on
    assert {e["stage"] for e in nodes} >= {"image", "narration", "clip", "segment", "render", "qc"}
    row = ws.store.project(project["id"])
    assert row.status == "done" and row.duration_s and abs(row.duration_s - 20) < 6
    facts = probe(ProjectPaths(workspace, project["id"]).video)
    assert facts.video and (facts.video.width, facts.video.height) == (360, 640)  # the brief asks for vertical 9:16 (tests' 360p)


def _ffmpeg_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


@pytest.fixture
def delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1080p delivery size: encodes long enough for a stop to land in the middle of one (at the tests' 360p
    a whole make can finish between two looks at its progress)."""
    for name, value in DELIVERY.items():
        monkeypatch.setenv(name, value)


def test_cancel_stops_a_render_promptly_and_resume_finishes_without_redoing(workspace: Path, delivery: None,
                                                                            consumer: EmbeddedConsumer) -> None:
    ws = Workspace.open(workspace)
    text = (INPUTS / "ad-brief.txt").read_text(encoding="utf-8")
    project, job = jobs.create_project(ws, text=text, title="Tide & Stone", user_id=None)
    wait_for(job.id, workspace, until=lambda v: v.stage == "clip" or v.state != "running" and v.state != "queued")
    time.sleep(0.5)  # an encode is under way
    asked = time.monotonic()
    assert jobs.cancel(ws, job.id).cancel_requested
    stopped = wait_for(job.id, workspace, timeout=30)
    latency = time.monotonic() - asked
    assert stopped.state == "canceled", stopped.message
    assert latency < 5.0, f"cancel took {latency:.1f} s"
    assert not _ffmpeg_children()  # the encoder was killed, not left running
    sessions = ws.store.sessions
    before = successful_runs(sessions, project["id"])
    assert any(stage == "image" for stage, _ in before) and not any(stage == "render" for stage, _ in before)
    assert library.owned(ws, project["id"], None).status == "canceled"
    leftovers = [p for p in ProjectPaths(workspace, project["id"]).root.rglob("*") if ".tmp" in p.name]
    assert not leftovers  # no half-written segment

    resumed = jobs.resume(ws, job.id)
    assert resumed.state == "queued"
    done = wait_for(job.id, workspace)
    assert done.state == "done", done.message
    after = successful_runs(sessions, project["id"])
    assert after[: len(before)] == before
    rerun = set(before) & set(after[len(before):])
    assert not rerun, f"finished nodes ran again: {sorted(rerun)}"


def test_a_job_whose_worker_stopped_beating_is_interrupted(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    settings, store = ws.settings, ws.store
    store.upsert_project("lost-1", title="Lost", input_kind="script", input_name="x.txt", status="running")
    view = ws.jobs.create(user_id=None, project_id="lost-1", kind="make", request={})
    with store.sessions.begin() as s:
        row = s.get(Job, view.id)
        row.state, row.heartbeat_at = "running", utcnow() - timedelta(seconds=settings.job_lease_s + 1)
    seen = jobs.job(ws, view.id)
    assert seen.state == "interrupted" and "resume" in seen.message
    assert store.project("lost-1").status == "interrupted"
    fresh = ws.jobs.create(user_id=None, project_id="lost-2", kind="make", request={})
    with store.sessions.begin() as s:
        s.get(Job, fresh.id).state, s.get(Job, fresh.id).heartbeat_at = "running", utcnow()
    assert jobs.job(ws, fresh.id).state == "running"  # a beating job is left alone


def test_stopping_the_server_interrupts_its_running_job_within_seconds(workspace: Path, delivery: None) -> None:
    ws = Workspace.open(workspace)
    running = EmbeddedConsumer(ws.settings, workers=1)
    running.start()
    text = (INPUTS / "ad-brief.txt").read_text(encoding="utf-8")
    _, job = jobs.create_project(ws, text=text, user_id=None)
    wait_for(job.id, workspace, until=lambda v: v.stage == "clip" or v.state not in ("queued", "running"))
    t0 = time.monotonic()
    running.stop()  # what Ctrl-C on `storyreel serve` does
    took = time.monotonic() - t0
    stopped = jobs.job(ws, job.id)
    assert stopped.state == "interrupted" and "resume" in stopped.message, stopped
    assert took < 10, f"stopping took {took:.1f} s"
    assert not _ffmpeg_children()
