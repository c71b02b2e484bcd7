"""The dashboard with its embedded consumer running real jobs: progress over SSE, the video with range
requests and subtitles, an inline edit that makes exactly one shot's nodes stale and an update that
re-runs only those, the profile counters, search and delete."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app
from tests.conftest import INPUTS
from tests.web.conftest import api_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def made(tmp_path_factory):  # noqa: ANN201
    """A dashboard with one worker thread and alice's finished video of the ad brief."""
    workspace = tmp_path_factory.mktemp("web") / "ws"
    app = create_app(workspace, workers=1)
    with TestClient(app):
        alice = api_client(app, "alice")
        created = alice.post("/api/projects", json={"text": (INPUTS / "ad-brief.txt").read_text(encoding="utf-8"), "title": "Tide & Stone"})
        assert created.status_code == 201, created.text
        body = created.json()
        _wait(alice, body["job_id"])
        yield app, alice, body["id"], body["job_id"], workspace


def _wait(client: TestClient, job_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_the_job_reports_done_with_progress_and_stage(made) -> None:  # noqa: ANN001
    app, alice, pid, job_id, _ = made
    job = alice.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "done" and job["progress"] == 100.0 and job["stage"] and job["elapsed_s"] > 0
    project = alice.get(f"/api/projects/{pid}").json()
    assert project["project"]["status"] == "done" and project["project"]["duration_s"] > 10
    assert project["project"]["title"] == "Tide & Stone" and project["has_video"] and project["qc"]["passed"]
    shots = sum(len(ch["shots"]) for ch in project["storyboard"]["chapters"])
    assert project["voice"]["used"] == [{"provider": "local:espeak", "label": "Offline voice (espeak-ng)", "shots": shots}]  # every shot
    me = alice.get("/api/me").json()
    assert me["videos_made"] == 1 and me["total_cost_usd"] == 0.0


def test_the_event_stream_replays_the_job(made) -> None:  # noqa: ANN001
    _, alice, _, job_id, _ = made
    events = []
    with alice.stream("GET", f"/api/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.split(":", 1)[1])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "job" and kinds[-1] == "job" and events[-1][1]["state"] == "done"
    nodes = [e for k, e in events if k == "node"]
    assert nodes and nodes[-1]["progress"] <= 100 and {"render", "qc"} <= {e["stage"] for e in nodes}
    last_id = max(e["id"] for k, e in events if k in ("node", "state"))
    with alice.stream("GET", f"/api/jobs/{job_id}/events", headers={"Last-Event-ID": str(last_id)}) as response:
        later = [line for line in response.iter_lines() if line.startswith("event:")]
    assert later == ["event: job", "event: job"]  # nothing after the last event: the snapshot, then the end


def test_the_video_answers_range_requests_and_downloads_by_name(made) -> None:  # noqa: ANN001
    _, alice, pid, _, workspace = made
    data = (workspace / "projects" / pid / "video.mp4").read_bytes()
    whole = alice.get(f"/api/projects/{pid}/video")
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    part = alice.get(f"/api/projects/{pid}/video", headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206 and part.content == data[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(data)}"
    tail = alice.get(f"/api/projects/{pid}/video", headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == data[-500:]
    assert alice.get(f"/api/projects/{pid}/video", headers={"Range": f"bytes={len(data) + 10}-"}).status_code == 416
    download = alice.get(f"/api/projects/{pid}/video?download=1", headers={"Range": "bytes=0-9"})
    assert download.status_code == 206 and f'filename="storyreel_{pid}.mp4"' in download.headers["content-disposition"]
    vtt = alice.get(f"/api/projects/{pid}/subtitles.vtt")
    assert vtt.headers["content-type"].startswith("text/vtt") and vtt.text.startswith("WEBVTT")
    thumb = alice.get(f"/api/projects/{pid}/thumbnail")
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    shot = alice.get(f"/api/projects/{pid}").json()["storyboard"]["chapters"][0]["shots"][0]["shot_id"]
    assert alice.get(f"/api/projects/{pid}/images/{shot}").content[:8] == b"\x89PNG\r\n\x1a\n"


def test_search_filter_and_pages(made) -> None:  # noqa: ANN001
    _, alice, pid, _, _ = made
    assert [p["id"] for p in alice.get("/api/projects", params={"q": "tide"}).json()["items"]] == [pid]
    assert [p["id"] for p in alice.get("/api/projects", params={"q": "STONE", "status": "done"}).json()["items"]] == [pid]
    assert alice.get("/api/projects", params={"q": "granite countertop"}).json()["total"] in (0, 1)  # the brief's own words
    assert alice.get("/api/projects", params={"q": "no such words anywhere"}).json()["total"] == 0
    assert alice.get("/api/projects", params={"status": "failed"}).json()["total"] == 0
    assert alice.get("/api/projects", params={"q": "100%_"}).json()["total"] == 0  # LIKE wildcards are literal
    assert alice.get("/api/projects", params={"status": "bogus"}).status_code == 422


def test_an_edit_makes_one_shots_nodes_stale_and_the_update_reruns_only_those(made) -> None:  # noqa: ANN001
    _, alice, pid, _, _ = made
    board = alice.get(f"/api/projects/{pid}").json()["storyboard"]
    shots = [s["shot_id"] for ch in board["chapters"] for s in ch["shots"]]
    target = shots[1]
    edited = alice.patch(f"/api/projects/{pid}/shots/{target}", json={"narration": "Cut from one block of river stone, built for decades."})
    assert edited.status_code == 200
    stale = {n["node"] for n in edited.json()["stale"]}
    assert f"narration[{target}]" in stale and f"clip[{target}]" in stale and "render[video]" in stale and "qc[video]" in stale
    others = [s for s in shots if s != target]
    assert not any(f"[{s}]" in n for s in others for n in stale)  # no other shot's own nodes
    own = {f"{stage}[{target}]" for stage in ("image", "select", "narration", "audio_segment", "clip")}  # a b-roll image shows what the narration names
    around = {n for n in stale if n.startswith("segment[") and target in n[len("segment["):-1].split("+")}
    assert stale <= own | around | {"manifest[images]", "mix[audio]", "render[video]", "qc[video]"}, stale
    assert len(around) == 2  # the crossfades into and out of the shot
    changes = alice.get(f"/api/projects/{pid}/status").json()["changes"]  # the same, in words (issue 24 item 8)
    assert [s["text"] for s in changes["shots"]] == ["Shot 2 (narration changed): its image, voice and clip will be remade"]
    assert changes["whole"] == ["transitions", "soundtrack", "final video", "quality check"] and not changes["first_make"]
    assert changes["paid_calls"] == 0 and changes["estimate_usd"] == 0 and 0 < changes["seconds"] < 60
    assert changes["summary"].startswith("Then the transitions, soundtrack, final video and quality check will be remade — about ")
    assert changes["summary"].endswith(" s, no paid calls")
    update = alice.post(f"/api/projects/{pid}/make")
    assert update.status_code == 202
    assert alice.post(f"/api/projects/{pid}/make").status_code == 409  # one job per project at a time
    job = _wait(alice, update.json()["id"])
    assert job["state"] == "done", job["message"]
    ran = {e["node"] for e in alice_events(alice, job["id"]) if e.get("event") == "done"}
    assert ran <= stale, ran - stale  # nothing outside what the page showed as stale
    assert {f"narration[{target}]", f"clip[{target}]", "render[video]", "qc[video]"} <= ran  # dependency-stale nodes may turn
    # out fresh once their inputs re-ran with the same result (early cutoff: the segments' keys hold the shot's timing)
    assert alice.get(f"/api/projects/{pid}/status").json() == {"stale": [], "changes": {
        "shots": [], "whole": [], "seconds": 0, "paid_calls": 0, "estimate_usd": 0.0, "first_make": False, "summary": ""}}
    assert alice.get("/api/me").json()["videos_made"] == 1  # an update remakes the video: still one video (issue 24 item 11)


def alice_events(client: TestClient, job_id: str) -> list[dict]:
    events = []
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.split(":", 1)[1]))
    return events


def test_delete_removes_files_and_rows(made) -> None:  # noqa: ANN001
    app, alice, pid, _, workspace = made
    other = alice.post("/api/projects", json={"text": (INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8")}).json()
    first = alice.delete(f"/api/projects/{other['id']}")
    if first.status_code == 409:  # its job already runs: refused until it is canceled (a queued one is canceled for you)
        assert "cancel" in first.json()["detail"]
        alice.post(f"/api/jobs/{other['job_id']}/cancel")
        _wait(alice, other["job_id"])
        first = alice.delete(f"/api/projects/{other['id']}")
    assert first.status_code == 204
    assert not (workspace / "projects" / other["id"]).exists()
    assert alice.get(f"/api/projects/{other['id']}").status_code == 404
    assert alice.get(f"/api/jobs/{other['job_id']}").status_code == 404
    assert not [p for p in (workspace / "projects").iterdir() if p.name.startswith(".deleting")]
    assert alice.get(f"/api/projects/{pid}").status_code == 200
