"""Motion clips in the dashboard (issue 26): the new-video form offers the clip vendors whose key is set and the
number of clips per shot; a video made that way shows, per moving shot, a grid that plays every attempt (served
with range requests) with its scores and cost, the end frame sent, and a "Use this" that stores a person's pick —
for the owner only; a bad attempt number is refused next to the grid."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app
from tests.conftest import INPUTS
from tests.providers.video_fakes import TOKEN, FakeReplicate, vendor_mp4
from tests.web.conftest import api_client, browser_client, csrf_token

pytestmark = pytest.mark.e2e
MODEL = "replicate:kwaivgi/kling-v3-video"


def test_the_project_page_plays_each_shots_clip_attempts_and_takes_a_pick(httpserver, tmp_path, monkeypatch):  # noqa: ANN001
    from storyreel.api import Workspace
    from storyreel.jobs import service as jobs
    from storyreel.jobs.runner import run_job

    FakeReplicate(vendor_mp4(tmp_path / "v.mp4"), httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    for name, value in {"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN,
                        "STORYREEL_VIDEO_POLL_S": "0.05", "STORYREEL_HTTP_BACKOFF_S": "0.01"}.items():
        monkeypatch.setenv(name, value)
    workspace = tmp_path / "ws"
    app = create_app(workspace, workers=0)
    with TestClient(app):
        page = browser_client(app, "alice")
        form = page.get("/new").text
        assert f'<option value="{MODEL}"' in form and 'name="attempts"' in form and "runway:" not in form  # no Runway key: not offered
        fields = {"csrftoken": csrf_token(page), "text": (INPUTS / "ad-brief.txt").read_text(encoding="utf-8"), "title": "Tide & Stone",
                  "max_cost": "40", "clips": MODEL}
        refused = page.post("/new", data={**fields, "attempts": "9"})
        assert refused.status_code == 422 and "give 1 to 4 clips per shot" in refused.text
        created = page.post("/new", data={**fields, "attempts": "2"}, follow_redirects=False)
        assert created.status_code == 303, created.text
        pid = created.headers["location"].rsplit("/", 1)[1]
        assert run_job(jobs.active(Workspace.open(workspace), pid).id, workspace) == "done"

        root = workspace / "projects" / pid
        moving = sorted(p.name.removesuffix(".motion.json") for p in (root / "clips").glob("*.motion.json"))
        html = page.get(f"/projects/{pid}").text
        assert moving and len(re.findall(r"<video src=\"/api/projects/[^\"]+/clips/[^\"]+/attempts/\d", html)) == 2 * len(moving)
        assert html.count("end frame sent") == len(moving) and "Motion clip from <code>replicate:kwaivgi/kling-v3-video</code>" in html
        shot = moving[0]
        got = page.get(f"/api/projects/{pid}/clips/{shot}/attempts/2", headers={"Range": "bytes=0-99"})
        assert got.status_code == 206 and got.headers["content-type"] == "video/mp4" and got.content[4:8] == b"ftyp"
        assert page.get(f"/api/projects/{pid}/clips/{shot}/end").headers["content-type"] == "image/png"
        for bad in (f"{shot}/attempts/5", f"{shot}/attempts/0", "..%2Fstoryboard/attempts/1"):
            assert page.get(f"/api/projects/{pid}/clips/{bad}").status_code in (404, 422)

        record = json.loads((root / "clips" / f"{shot}.motion.json").read_text())
        other = next(a["attempt"] for a in record["attempts"] if a["attempt"] != record["chosen"])
        hx = {"HX-Request": "true"}
        wrong = page.post(f"/projects/{pid}/shots/{shot}/pick-clip", data={"csrftoken": csrf_token(page), "attempt": "3"}, headers=hx)
        assert wrong.status_code == 422 and "no clip attempt 3" in wrong.text
        card = page.post(f"/projects/{pid}/shots/{shot}/pick-clip", data={"csrftoken": csrf_token(page), "attempt": str(other)}, headers=hx)
        assert card.status_code == 200 and f"next update uses {other}" in card.text and card.headers["HX-Trigger"] == "storyboard-changed"
        board = json.loads((root / "storyboard.json").read_text())
        assert next(s for ch in board["chapters"] for s in ch["shots"] if s["shot_id"] == shot)["visual"]["selected_clip"] == other
        panel = page.get(f"/projects/{pid}/stale").text  # "Update video" re-renders with it, buying nothing
        assert "motion clip" in panel and "Update video" in panel

        mallory = api_client(app, "mallory")
        assert mallory.get(f"/api/projects/{pid}/clips/{shot}/attempts/1").status_code == 404
        assert mallory.post(f"/api/projects/{pid}/shots/{shot}/pick-clip", json={"attempt": 1}).status_code == 404
