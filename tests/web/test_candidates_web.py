"""Best-of-N in the dashboard: a project made with three candidates per shot shows each shot's candidate
grid with scores and a side-by-side comparison, a person's pick (page and JSON API) is stored and makes
exactly that shot's nodes stale, and the quality page shows score distributions and the override rate."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app
from tests.conftest import INPUTS
from tests.web.conftest import browser_client, csrf_token

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def made(tmp_path_factory):  # noqa: ANN201
    """alice's ad (the real brief) with three candidates per shot, made by running its queued job to the end."""
    from storyreel.api import Workspace
    from storyreel.jobs import service as jobs
    from storyreel.jobs.runner import run_job

    workspace = tmp_path_factory.mktemp("cands") / "ws"
    app = create_app(workspace, workers=0)
    with TestClient(app):
        page = browser_client(app, "alice")
        form = {"csrftoken": csrf_token(page), "text": (INPUTS / "ad-brief.txt").read_text(encoding="utf-8"),
                "title": "Tide & Stone", "candidates": "3"}
        created = page.post("/new", data=form, follow_redirects=False)
        assert created.status_code == 303, created.text
        pid = created.headers["location"].rsplit("/", 1)[1]
        job = jobs.active(Workspace.open(workspace), pid)
        assert run_job(job.id, workspace) == "done"
        api = TestClient(app)
        token = api.post("/api/auth/token", json={"username": "alice", "password": "long enough password"}).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        yield app, page, api, pid


def test_the_quality_api_lists_candidates_scores_and_the_pick(made):
    _, _, api, pid = made
    q = api.get(f"/api/projects/{pid}/quality").json()
    assert q["with_choice"] == len(q["shots"]) and q["override_rate"] == 0.0
    for shot in q["shots"]:
        assert [c["index"] for c in shot["candidates"]] == [1, 2, 3] and shot["picked_by"] == "auto"
    criteria = {d["criterion"] for d in q["distribution"]}
    assert {"technical sharpness", "technical quality", "technical palette fit", "total"} <= criteria
    assert all(d["min"] <= d["median"] <= d["max"] and d["count"] == 3 * len(q["shots"]) for d in q["distribution"])


def test_candidate_images_are_served_and_only_those(made):
    _, _, api, pid = made
    got = api.get(f"/api/projects/{pid}/images/ch03-s01/candidates/2")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png" and got.content[:8] == b"\x89PNG\r\n\x1a\n"
    for bad in ("ch03-s01/candidates/9", "ch03-s01/candidates/0", "..%2Fstoryboard/candidates/1", "ch03-s01/candidates/x"):
        assert api.get(f"/api/projects/{pid}/images/{bad}").status_code in (404, 422)
    other = TestClient(made[0])
    other.post("/api/auth/register", json={"username": "mallory", "password": "long enough password"})
    token = other.post("/api/auth/token", json={"username": "mallory", "password": "long enough password"}).json()["access_token"]
    other.headers["Authorization"] = f"Bearer {token}"
    assert other.get(f"/api/projects/{pid}/images/ch03-s01/candidates/1").status_code == 404
    assert other.post(f"/api/projects/{pid}/shots/ch03-s01/pick", json={"candidate": 1}).status_code == 404


def test_the_project_page_shows_each_shots_candidates_with_scores(made):
    _, page, _, pid = made
    html = page.get(f"/projects/{pid}").text
    assert len(re.findall(r'<li class="cand', html)) == 3 * html.count('<article class="shot"')
    assert f"/api/projects/{pid}/images/ch03-s01/candidates/3" in html and "Compare side by side" in html
    assert "<meter" in html and "Use this" in html


def test_a_pick_on_the_page_is_stored_and_makes_that_shots_nodes_stale(made):
    app, page, api, pid = made
    before = api.get(f"/api/projects/{pid}/quality").json()
    shot = next(s for s in before["shots"] if s["shot_id"] == "ch02-s01")
    other = next(c["index"] for c in shot["candidates"] if c["index"] != shot["selected"])
    swapped = page.post(f"/projects/{pid}/shots/ch02-s01/pick", data={"csrftoken": csrf_token(page), "candidate": str(other)},
                        headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and f"next update uses {other}" in swapped.text
    assert swapped.headers["HX-Trigger"] == "storyboard-changed"
    from storyreel.core.artifact import load_storyboard

    board = load_storyboard(made[0].state.root / "projects" / pid / "storyboard.json")
    assert board.shot("ch02-s01")[1].visual.selected_candidate == other
    stale = {n["node"] for n in api.get(f"/api/projects/{pid}/status").json()["stale"]}
    assert {"select[ch02-s01]", "clip[ch02-s01]", "render[video]"} <= stale
    assert not any(n.startswith(("image[", "narration[")) for n in stale)
    assert not any(n.startswith(("select[", "clip[")) and "ch02-s01" not in n for n in stale)
    # a bad pick says why, next to the grid, and changes nothing
    bad = page.post(f"/projects/{pid}/shots/ch02-s01/pick", data={"csrftoken": csrf_token(page), "candidate": "7"},
                    headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "has no candidate 7" in bad.text
    # the JSON API: back to automatic
    auto = api.post(f"/api/projects/{pid}/shots/ch02-s01/pick", json={"candidate": None})
    assert auto.status_code == 200 and not any(n["node"] == "select[ch02-s01]" for n in auto.json()["stale"])


def test_the_quality_page_shows_distributions_and_the_override_rate(made):
    _, page, _, pid = made
    html = page.get(f"/projects/{pid}/quality").text
    assert "Score distributions" in html and "Override rate" in html and html.count("<meter") >= 5
    assert re.search(r"sharpness <span class=\"muted small\">technical</span>", html) and f'href="/projects/{pid}#shot-ch01-s01"' in html


def test_an_inline_edit_answers_the_shots_card(made):
    """The page's inline edit (HTMX) answers the shot's card: saved, or the message next to the field."""
    _, page, _, pid = made
    token = csrf_token(page)
    ok = page.post(f"/projects/{pid}/shots/ch01-s01", data={"csrftoken": token, "narration": "Tide & Stone. Made to last."},
                   headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "Saved." in ok.text and ok.headers["HX-Trigger"] == "storyboard-changed"
    bad = page.post(f"/projects/{pid}/shots/ch01-s01", data={"csrftoken": token, "narration": "   "}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text and bad.headers["HX-Reswap"] == "outerHTML"
