"""The video editor's JSON and pages (issue 28 item 4): the timeline of a made video, edits saved at once as versions
with the preview queued as a job that leaves the project's status and delivered video alone, invalid edits refused
with the reason and nothing changed, Export as a make job (edits refused while it runs), two versions compared with
their videos from the build cache (range requests), and another user's project answering 404."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from storyreel.web.app import create_app
from tests.conftest import INPUTS
from tests.web.conftest import api_client

pytestmark = pytest.mark.e2e


def _run(workspace, job_id: str) -> str:  # noqa: ANN001
    from storyreel.jobs.runner import run_job

    return run_job(job_id, workspace)


def test_the_editor_edits_previews_exports_and_compares_versions(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from storyreel.api import Workspace
    from storyreel.jobs import service as jobs

    monkeypatch.setenv("STORYREEL_RESOLUTION", "360p")  # a draft size: the preview is 540p whatever the delivery
    workspace = tmp_path / "ws"
    app = create_app(workspace, workers=0)
    with TestClient(app):
        ada = api_client(app, "ada")
        created = ada.post("/api/projects", json={"text": (INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8")}).json()
        pid = created["id"]
        root = workspace / "projects" / pid
        assert _run(workspace, created["job_id"]) == "done"
        delivered = (root / "video.mp4").read_bytes()

        tl = ada.get(f"/api/projects/{pid}/timeline").json()
        assert [v["what"] for v in tl["versions"]] == ["as made"] and tl["versions"][0]["exported"]  # every make is a version
        assert not tl["can_undo"] and tl["video"] == {"exists": True, "current": True}
        assert [s["position"] for s in tl["shots"]] == list(range(1, len(tl["shots"]) + 1)) and all(s["spoken"] for s in tl["shots"])
        ends = [round(s["start_s"] + s["duration_s"], 3) for s in tl["shots"]]
        assert ends[-1] == pytest.approx(tl["duration_s"], abs=0.05) and all(abs(a - b["start_s"]) < 0.002 for a, b in zip(ends, tl["shots"][1:]))  # the slots tile the video

        second = tl["shots"][1]
        split = ada.post(f"/api/projects/{pid}/edits", json={"op": "split", "shot_id": second["shot_id"], "at": 3}).json()
        assert split["edited"].startswith("split") and split["timeline"]["version"] == 2 and split["timeline"]["can_undo"]
        ids = [s["shot_id"] for s in split["timeline"]["shots"]]
        assert f"{second['shot_id']}-b" in ids and not next(s for s in split["timeline"]["shots"] if s["shot_id"].endswith("-b"))["spoken"]
        assert split["job"]["kind"] == "preview"
        assert _run(workspace, split["job"]["id"]) == "done"
        after = ada.get(f"/api/projects/{pid}/timeline").json()
        assert after["preview"] == {"exists": True, "current": True} and after["video"]["current"] is False
        assert all(s["spoken"] for s in after["shots"])
        assert (root / "video.mp4").read_bytes() == delivered  # the delivered video waits for the export
        assert ada.get(f"/api/projects/{pid}").json()["project"]["status"] == "done"
        got = ada.get(f"/api/projects/{pid}/preview.mp4", headers={"Range": "bytes=0-99"})
        assert got.status_code == 206 and got.headers["content-type"] == "video/mp4"

        board = (root / "storyboard.json").read_bytes()
        for body, needle in (({"op": "merge", "shot_id": ids[0], "other": ids[3]}, "not right after it"),
                             ({"op": "split", "shot_id": ids[0], "at": 0.2}, "shorter than 1 s"),
                             ({"op": "move", "shot_id": "nope", "to": 1}, "no shot 'nope'"),
                             ({"op": "explode", "shot_id": ids[0]}, ""), ({"op": "split", "shot_id": ids[0], "at": -1}, "at"),
                             ({"op": "move", "shot_id": ids[0], "to": 0}, "to"), ({"op": "restore", "version": 999}, "no version 999"),
                             ({"op": "split", "shot_id": "../x", "at": 1}, "shot_id"), ({"op": "merge", "shot_id": ids[0]}, "merge needs"),
                             ({"op": "trim", "shot_id": ids[0], "in_s": 2, "out_s": 1}, "outside")):
            refused = ada.post(f"/api/projects/{pid}/edits", json=body)
            assert refused.status_code == 422 and needle in refused.text, (body, refused.text)
        assert (root / "storyboard.json").read_bytes() == board and jobs.active(Workspace.open(workspace), pid) is None

        export = ada.post(f"/api/projects/{pid}/export").json()
        assert export["kind"] == "make"
        busy = ada.post(f"/api/projects/{pid}/edits", json={"op": "undo"})
        assert busy.status_code == 409  # no edit while the export runs
        assert _run(workspace, export["id"]) == "done"
        assert ada.get(f"/api/projects/{pid}/timeline").json()["video"]["current"] is True

        merged = ada.post(f"/api/projects/{pid}/edits", json={"op": "merge", "shot_id": ids[0], "other": ids[1], "preview": False}).json()
        assert merged["timeline"]["version"] == 3 and merged["job"] is None and len(merged["timeline"]["shots"]) == len(ids) - 1
        cmp = ada.get(f"/api/projects/{pid}/versions/compare", params={"a": 1, "b": 3}).json()
        changed = {c["shot_id"]: c["what"] for c in cmp["changes"]}
        assert "words" in changed[ids[0]] and changed[ids[1]] == ["removed"] and changed[f"{second['shot_id']}-b"] == ["added"]
        assert cmp["a"]["video"] == "exported" and cmp["b"]["video"] is None
        first = ada.get(f"/api/projects/{pid}/versions/1/video", headers={"Range": "bytes=0-"})
        assert first.status_code == 206 and first.content == delivered  # version 1's video, kept by the build cache
        assert ada.get(f"/api/projects/{pid}/versions/3/video").status_code == 404
        assert ada.get(f"/api/projects/{pid}/versions/compare", params={"a": 1, "b": 9}).status_code == 422

        export = ada.post(f"/api/projects/{pid}/export").json()  # an export canceled before it starts: edits go on
        assert ada.post(f"/api/jobs/{export['id']}/cancel").json()["state"] == "canceled"
        assert ada.get(f"/api/projects/{pid}/timeline").json()["job"] is None
        undone = ada.post(f"/api/projects/{pid}/edits", json={"op": "undo", "preview": False}).json()
        assert undone["timeline"]["version"] == 2 and undone["timeline"]["can_redo"]

        mallory = api_client(app, "mallory")
        for method, url in (("get", "timeline"), ("post", "edits"), ("post", "export"), ("get", "preview.mp4"), ("get", "versions/1/video")):
            answer = getattr(mallory, method)(f"/api/projects/{pid}/{url}", **({"json": {"op": "undo"}} if method == "post" else {}))
            assert answer.status_code == 404, url

