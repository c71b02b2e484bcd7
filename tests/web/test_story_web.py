"""Story mode in the dashboard (issue 27): the new-video form tells a premise as a story; the project page shows the
lore and plot options side by side with the one in use, the components' sheets and the scenes' stage pictures; "Use
this" keeps a pick (page and JSON) and the stale panel then names the steps that depend on it, never the lore; an
option not made is refused; another user sees none of it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app
from tests.web.conftest import api_client, browser_client, csrf_token

pytestmark = pytest.mark.e2e
PREMISE = "A fox and a crow argue over a piece of cheese in the forest"


def test_a_story_from_the_form_shows_its_options_components_and_stages(tmp_path) -> None:
    from storyreel.api import Workspace
    from storyreel.jobs import service as jobs
    from storyreel.jobs.runner import run_job

    workspace = tmp_path / "ws"
    app = create_app(workspace, workers=0)
    with TestClient(app):
        page = browser_client(app, "alice")
        assert 'name="kind" value="story"' in page.get("/new").text
        created = page.post("/new", data={"csrftoken": csrf_token(page), "text": PREMISE, "kind": "story"}, follow_redirects=False)
        assert created.status_code == 303, created.text
        pid = created.headers["location"].rsplit("/", 1)[1]
        assert run_job(jobs.active(Workspace.open(workspace), pid).id, workspace) == "done"

        html = page.get(f"/projects/{pid}").text
        assert html.count('<li class="option') == 6 and html.count("In use") == 2 and "Use this" in html
        assert "Characters, props and places" in html and f"/api/projects/{pid}/story/components/crow" in html
        assert f"/api/projects/{pid}/story/stages/scene-1" in html
        sheet = page.get(f"/api/projects/{pid}/story/components/crow")
        assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
        assert page.get(f"/api/projects/{pid}/story/stages/scene-2").headers["content-type"] == "image/png"
        assert page.get(f"/api/projects/{pid}/story/components/nobody").status_code == 404

        picked = page.post(f"/projects/{pid}/story/pick", data={"csrftoken": csrf_token(page), "step": "narrative", "option": "2"},
                           follow_redirects=False)
        assert picked.status_code == 303 and picked.headers["location"].endswith("#story")
        root = workspace / "projects" / pid
        assert json.loads((root / "story" / "picks.json").read_text())["narrative"] == 2
        stale = page.get(f"/projects/{pid}/stale").text
        assert "scenes[story]" in stale or "scenes" in stale
        assert "lore[story]" not in stale
        wrong = page.post(f"/projects/{pid}/story/pick", data={"csrftoken": csrf_token(page), "step": "lore", "option": "7"})
        assert wrong.status_code == 422 and "lore has no option 7" in wrong.text

        mallory = api_client(app, "mallory")
        assert mallory.get(f"/api/projects/{pid}/story/components/crow").status_code == 404
        assert mallory.post(f"/api/projects/{pid}/story/pick", json={"step": "lore", "option": 2}).status_code == 404
