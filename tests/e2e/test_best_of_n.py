"""Best-of-N through the real CLI: ``make --candidates 3``, ``quality --json``, ``pick``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from storyreel.core.artifact import load_storyboard

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    result = cli_json("make", str(INPUTS / "hare-and-tortoise.txt"), "--candidates", "3", workspace=ws)
    return ws, result, Path(result["storyboard_path"]).parent


def test_three_candidates_per_shot_are_made_scored_and_one_is_selected(made):
    ws, result, root = made
    board = load_storyboard(root / "storyboard.json")
    report = cli_json("quality", result["project_id"], workspace=ws)
    assert [s["shot_id"] for s in report["shots"]] == [s.shot_id for _, s in board.shots()]
    for shot in report["shots"]:
        unit = shot["shot_id"]
        assert [c["index"] for c in shot["candidates"]] == [1, 2, 3] and shot["picked_by"] == "auto"
        files = [root / c["path"] for c in shot["candidates"]]
        assert len({_digest(f) for f in files}) == 3  # three different pictures
        for f in files:
            with Image.open(f) as im:
                assert im.size == (640, 360)  # drawn at the frame size (the tests' 360p profile)
        best = max(shot["candidates"], key=lambda c: (c["total"], -c["index"]))
        assert shot["selected"] == best["index"]
        assert all(0 <= v <= 100 for c in shot["candidates"] for v in c["scores"]["technical"].values())
        assert _digest(root / "images" / f"{unit}.png") == _digest(root / best["path"])
    assert report["override_rate"] == 0.0
    manifest = json.loads((root / "images" / "manifest.json").read_text())
    assert [e["candidate"] for e in manifest["images"]] == [s["selected"] for s in report["shots"]]


def test_pick_changes_exactly_that_shots_clip_segments_and_render_and_survives_a_make(made):
    ws, result, root = made
    report = cli_json("quality", result["project_id"], workspace=ws)
    shot = report["shots"][2]  # a b-roll shot in the middle: two crossfades
    unit, other = shot["shot_id"], next(c["index"] for c in shot["candidates"] if c["index"] != shot["selected"])
    clips = {p.name: _digest(p) for p in (root / "clips").glob("*.mp4")}
    video = _digest(root / "video.mp4")
    picked = cli_json("pick", result["project_id"], unit, str(other), workspace=ws)
    shots = [s["shot_id"] for s in report["shots"]]
    before, after = shots[1], shots[3]
    assert sorted(picked["executed_nodes"]) == sorted([
        f"select[{unit}]", f"clip[{unit}]", f"segment[{before}+{unit}]", f"segment[{unit}+{after}]", "render[video]", "qc[video]",
        "manifest[images]"])
    changed = {name for name, digest in clips.items() if _digest(root / "clips" / name) != digest}
    assert changed == {f"{unit}.mp4", f"{before}+{unit}.mp4", f"{unit}+{after}.mp4"}
    assert _digest(root / "video.mp4") != video
    assert _digest(root / "images" / f"{unit}.png") == _digest(root / "images" / unit / f"{other}.png")
    again = cli_json("quality", result["project_id"], workspace=ws)
    row = next(s for s in again["shots"] if s["shot_id"] == unit)
    assert row["selected"] == other and row["picked_by"] == "user"
    # the pick is in the storyboard: a second make changes nothing, the pick stays
    second = cli_json("make", str(INPUTS / "hare-and-tortoise.txt"), "--candidates", "3", workspace=ws)
    assert second["executed_count"] == 0
    assert load_storyboard(root / "storyboard.json").shot(unit)[1].visual.selected_candidate == other


def test_a_pick_of_a_missing_candidate_or_shot_is_bad_input_and_writes_nothing(made):
    ws, result, root = made
    before = (root / "storyboard.json").read_bytes()
    for args, needle in ((["ch01-s01", "7"], "has no candidate 7"), (["nope", "1"], "no shot 'nope'"),
                         (["ch01-s01", "first"], "not a candidate number"), (["../etc", "1"], "not a shot ID")):
        proc = run_cli("pick", result["project_id"], *args, workspace=ws)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert (root / "storyboard.json").read_bytes() == before


def test_a_reference_image_makes_its_shots_candidates_scored_on_looking_like_it(made, tmp_path):
    """Issue 13 item 5, offline: the hare gets a reference image (the rabbit artwork, drawn alone); the shots
    that show it are re-made with their consistency group's seeds, drawn with it (local:cards takes reference images
    since issue 27: every candidate shows the supplied picture), and each candidate is scored against it."""
    from storyreel.providers.image.art import art_image, match_subjects

    ws, result, root = made
    art = art_image(match_subjects("the hare", "en")[0].art, 600)
    ref = Image.new("RGBA", art.size, (255, 255, 255, 255))
    ref.alpha_composite(art)
    ref.convert("RGB").save(tmp_path / "hare.png")
    shots = ["ch01-s02", "ch02-s01"]
    said = cli_json("reference", result["project_id"], "hare", str(tmp_path / "hare.png"), "--name", "Hare", "--shots", ",".join(shots),
                    workspace=ws)  # like every command, --json gives one object on stdout
    assert said == {"project_id": result["project_id"], "entity_id": "hare", "reference": "hare.png", "shots": shots}
    board = load_storyboard(root / "storyboard.json")
    assert board.entity("hare").reference == "hare.png" and (root / "assets" / "references" / "hare.png").is_file()
    again = cli_json("imagegen", result["project_id"], workspace=ws)  # images and selection only: no re-encode needed here
    assert sorted(r["shot_id"] for r in again["shots"] if r["ran"]) == sorted(shots)  # only the hare's shots (their seeds changed)
    record = json.loads((root / "images" / "ch01-s02" / "scores.json").read_text())
    consistency = {c["index"]: c["scores"]["consistency"]["total"] for c in record["candidates"]}
    assert len(consistency) == 3 and all(0 <= v <= 100 for v in consistency.values())
    assert max(consistency.values()) - min(consistency.values()) < 20, consistency  # all three show the same picture
    drawn = json.loads((root / "images" / "ch01-s02" / "1.meta.json").read_text())
    assert drawn["metadata"]["references"] == ["Hare (character)"], drawn["metadata"]
    metas = [json.loads((root / "images" / s / "1.meta.json").read_text()) for s in shots]
    assert metas[0]["seed"] == metas[1]["seed"]  # one consistency group, one seed per candidate number


def test_a_bad_reference_is_bad_input_and_writes_nothing(made, tmp_path):
    ws, result, root = made
    before = (root / "storyboard.json").read_bytes()
    (tmp_path / "notes.txt").write_text("not an image")
    Image.new("RGB", (64, 64)).save(tmp_path / "ok.png")
    for args, needle in (([str(tmp_path / "notes.txt")], "not an image"), ([str(tmp_path / "ok.png"), "--shots", "nope"], "no shot 'nope'"),
                         ([str(tmp_path / "missing.png")], "no such file")):
        proc = run_cli("reference", result["project_id"], "fox", *args, workspace=ws)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    proc = run_cli("reference", result["project_id"], "../fox", str(tmp_path / "ok.png"), workspace=ws)
    assert proc.returncode == 2 and "ENTITY" in proc.stderr
    assert (root / "storyboard.json").read_bytes() == before
    assert not (root / "assets" / "references" / "fox.png").exists()
