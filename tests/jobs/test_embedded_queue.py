"""Jobs on the embedded queue (SqliteHuey in the workspace, consumer threads in this process): a real
``make`` from the dashboard's create call to ``done``; cancel mid-render and resume; a dead worker's job
``interrupted`` and delivered again, then ``failed`` after its last attempt; a stopping server gives its job back."""

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


def test_a_job_whose_worker_stopped_beating_is_delivered_again_then_failed(workspace: Path) -> None:
    """A running job whose worker stopped beating is ``interrupted`` and queued again (after the backoff, claimed once
    for the queue), while its attempts last; after the last one it is ``failed`` with the reason. A beating job is left
    alone; a worker whose lease was taken over is fenced: its beats, progress and end no longer count."""
    ws = Workspace.open(workspace)
    settings, store = ws.settings, ws.store
    store.upsert_project("lost-1", title="Lost", input_kind="script", input_name="x.txt", status="running")
    view = ws.jobs.create(user_id=None, project_id="lost-1", kind="make", request={})
    first = ws.jobs.start(view.id, "host:1:1")
    assert first == 1 and ws.jobs.start(view.id, "host:2:2") == 0  # taken: a second delivery does not run it twice
    with store.sessions.begin() as s:
        s.get(Job, view.id).heartbeat_at = utcnow() - timedelta(seconds=settings.job_lease_s + 1)
    seen = jobs.job(ws, view.id)
    assert seen.state == "queued" and seen.attempts == 1 and "queued again (attempt 2 of 3)" in seen.message
    assert store.project("lost-1").status == "queued"
    assert [e.get("state") for e in ws.jobs.events(view.id)] == ["queued", "running", "interrupted", "queued"]
    assert ws.jobs.due() == []  # the backoff is not over
    with store.sessions.begin() as s:
        s.get(Job, view.id).redeliver_at = utcnow()
    assert ws.jobs.due() == [view.id] and ws.jobs.due() == []  # claimed once
    second = ws.jobs.start(view.id, "host:2:2")
    assert second == 2
    assert not ws.jobs.beat(view.id, first) and ws.jobs.beat(view.id, second)  # the old worker is fenced
    assert not ws.jobs.finish(view.id, "done", generation=first) and jobs.job(ws, view.id).state == "running"
    for attempt in (2, 3):
        with store.sessions.begin() as s:
            s.get(Job, view.id).heartbeat_at = utcnow() - timedelta(seconds=settings.job_lease_s + 1)
        ws.jobs.reap()
        if attempt == 2:
            with store.sessions.begin() as s:
                s.get(Job, view.id).redeliver_at = utcnow()
            assert ws.jobs.due() == [view.id] and ws.jobs.start(view.id, "host:3:3") == 3
    failed = jobs.job(ws, view.id)
    assert failed.state == "failed" and "3 times" in failed.message and "STORYREEL_JOB_MAX_ATTEMPTS=3" in failed.message
    assert store.project("lost-1").status == "failed"
    assert jobs.resume(ws, view.id).state == "queued" and jobs.job(ws, view.id).attempts == 0  # a person's resume starts afresh

    fresh = ws.jobs.create(user_id=None, project_id="lost-2", kind="make", request={})
    ws.jobs.start(fresh.id, "host:4:4")
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
    stopped = jobs.job(ws, job.id)  # given back to the queue for the next worker (the server's next start)
    assert stopped.state == "queued" and "the server or worker stopped: queued again" in stopped.message, stopped
    assert took < 10, f"stopping took {took:.1f} s"
    assert not _ffmpeg_children()
