"""Hostile input: every reproducer of issue 10 exits 0 or 2 with the field named — never a traceback —
and nothing is written outside the workspace."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e


def chapter_doc(**overrides) -> dict:
    doc = {"schema_version": "1.0", "episode_id": "ep-1", "title": "Hostile",
           "chapters": [{"chapter_id": "ch01", "title": "One", "narration": {"text": "First sentence here. Second one."},
                         "visuals": [{"type": "b_roll", "description": "A quiet harbour at dawn"}]}]}
    doc.update(overrides)
    return doc


def no_traceback(proc) -> None:  # noqa: ANN001
    assert "Traceback" not in proc.stderr, proc.stderr


def test_a_newline_terminated_episode_id_is_named(tmp_path, workspace):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(chapter_doc(episode_id="ep-1\n")))
    proc = run_cli("plan", str(path), workspace=workspace)
    no_traceback(proc)
    assert proc.returncode == 2 and "episode_id" in proc.stderr
    assert not (workspace / "projects").exists()


def test_long_chapter_ids_give_distinct_shot_ids(tmp_path, workspace):
    long_a, long_b = "a" * 61, "a" * 60 + "b"
    chapters = [{"chapter_id": cid, "title": cid[-3:], "narration": {"text": "One. Two."},
                 "visuals": [{"type": "b_roll", "description": "x"}, {"type": "b_roll", "description": "y"}]} for cid in (long_a, long_b)]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(chapter_doc(chapters=chapters)))
    out = cli_json("plan", str(path), workspace=workspace)
    board = json.loads(Path(out["storyboard_path"]).read_text())
    ids = [s["shot_id"] for c in board["chapters"] for s in c["shots"]]
    assert len(ids) == len(set(ids)) == 4 and all(len(i) <= 64 for i in ids)


@pytest.mark.parametrize("bad", ["../../x", "a b", "x\n", "-leading", "é"])
def test_an_invalid_project_id_is_refused_before_anything_is_written(workspace, bad):
    proc = run_cli("plan", str(INPUTS / "hare-and-tortoise.txt"), "--project-id", bad, workspace=workspace)
    no_traceback(proc)
    assert proc.returncode == 2 and "--project-id" in proc.stderr
    assert not (workspace / "projects").exists() and not (workspace.parent / "x").exists()


@pytest.mark.parametrize("verb", ["imagegen", "render", "status", "cost", "qc"])
def test_a_project_argument_cannot_leave_the_workspace(tmp_path, workspace, verb):
    outside = tmp_path / "dir"
    outside.mkdir()
    (outside / "storyboard.json").write_text("{}")
    proc = run_cli(verb, "../../../dir", workspace=workspace)
    no_traceback(proc)
    assert proc.returncode == 2
    assert sorted(p.name for p in outside.iterdir()) == ["storyboard.json"]


def test_a_one_word_text_of_501_characters_makes_a_project(tmp_path, workspace):
    path = tmp_path / "word.txt"
    path.write_text("w" * 501)
    out = cli_json("plan", str(path), workspace=workspace)
    board = json.loads(Path(out["storyboard_path"]).read_text())
    assert len(board["settings"]["title"]) <= 80


def test_control_and_bidi_characters_never_reach_files(tmp_path, workspace):
    path = tmp_path / "evil.txt"
    path.write_text("A \x1b[31mred\x1b[0m title\n\nThe \u202eeliforp\u202c hare ran\u2066 fast\u2069. He\x07 slept by the road.\n")
    out = cli_json("make", str(path), workspace=workspace)
    root = Path(out["video_path"]).parent
    for name in ("storyboard.json", "video.srt", "video.vtt"):
        text = (root / name).read_text()
        assert not any(ch in text for ch in "\x1b\x07\u202e\u202c\u2066\u2069"), name
    assert "red" in (root / "storyboard.json").read_text()


def test_a_symlinked_images_folder_is_refused(tmp_path, workspace):
    out = cli_json("plan", str(INPUTS / "ad-brief.txt"), workspace=workspace)
    root = Path(out["storyboard_path"]).parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "images").symlink_to(elsewhere, target_is_directory=True)
    proc = run_cli("make", str(INPUTS / "ad-brief.txt"), workspace=workspace)
    no_traceback(proc)
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_shot_named_like_a_stage_file_settles(tmp_path, workspace):
    script = tmp_path / "s.txt"
    script.write_text((INPUTS / "ad-brief.txt").read_text())
    out = cli_json("plan", str(script), workspace=workspace)
    path = Path(out["storyboard_path"])
    board = json.loads(path.read_text())
    board["chapters"][1]["shots"][0]["shot_id"] = "manifest"
    board["chapters"][2]["shots"][0]["shot_id"] = "requests"
    path.write_text(json.dumps(board, indent=2))
    first = cli_json("make", str(script), workspace=workspace)
    assert first["status"] == "done"
    manifest = json.loads((path.parent / "images" / "manifest.json").read_text())
    assert {e["shot_id"] for e in manifest["images"]} >= {"manifest", "requests"}
    status = cli_json("status", first["project_id"], workspace=workspace)
    assert all(n["state"] == "FRESH" for n in status["nodes"]), [n for n in status["nodes"] if n["state"] != "FRESH"]
    assert cli_json("make", str(script), workspace=workspace)["executed_count"] == 0


def test_nothing_outside_the_workspace_is_touched_by_a_hostile_chapter_file(tmp_path):
    workspace = tmp_path / "inner" / "ws"
    doc = chapter_doc(episode_id="..", chapters=[{"chapter_id": "../../../etc", "title": "x", "narration": {"text": "a"},
                                                  "visuals": [{"type": "b_roll", "description": "d"}]}])
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    proc = run_cli("make", str(path), workspace=workspace)
    no_traceback(proc)
    assert proc.returncode == 2
    after = sorted(str(p) for p in tmp_path.rglob("*") if not str(p).startswith(str(workspace)))
    assert after == [p for p in before if not p.startswith(str(workspace))]
    assert os.path.exists(path)
