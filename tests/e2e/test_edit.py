"""Editing verbs on a made video (issue 28, first slice): on the fable, split a shot at a word boundary, move one,
duplicate, delete and merge — each re-makes only the nodes of the shots it touched, their crossfades and the assembly, and QC
passes after each; invalid edits exit 2 naming the reason and change nothing; every edit is a version that ``undo``,
``redo`` and ``restore`` walk (the storyboard restored exactly)."""

from __future__ import annotations

import json

import pytest

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e
FABLE = str(INPUTS / "hare-and-tortoise.txt")


def _shots(root) -> list[str]:  # noqa: ANN001
    board = json.loads((root / "storyboard.json").read_text())
    return [s["shot_id"] for ch in board["chapters"] for s in ch["shots"]]


def _touched(result: dict) -> set[str]:
    return {n.split("[")[1].rstrip("]") for n in result["executed_nodes"] if n.split("[")[0] in ("image", "narration", "clip")}


def test_edits_remake_only_what_they_touch_and_walk_the_versions(tmp_path) -> None:
    ws = tmp_path / "ws"
    made = cli_json("make", FABLE, "--resolution", "360p", workspace=ws)
    pid, root = made["project_id"], ws / "projects" / made["project_id"]
    original = (root / "storyboard.json").read_bytes()
    first, first_video = _shots(root), (root / "video.mp4").read_bytes()
    versions = (root / "history" / "versions.json").read_bytes()  # the make recorded version 1, with its video
    assert [v["what"] for v in json.loads(versions)["versions"]] == ["as made"] and json.loads(versions)["versions"][0]["video"]
    refused = run_cli("edit", pid, "merge", "ch01-s01", "ch02-s02", workspace=ws)
    assert refused.returncode == 2 and (root / "history" / "versions.json").read_bytes() == versions  # a refused edit writes nothing

    split = cli_json("edit", pid, "split", "ch01-s02", "--at", "3", workspace=ws)
    assert split["status"] == "done" and _touched(split) == {"ch01-s02", "ch01-s02-b"}
    assert "render[video]" in split["executed_nodes"] and json.loads((root / "qc.json").read_text())["passed"]
    board = json.loads((root / "storyboard.json").read_text())
    halves = [s for ch in board["chapters"] for s in ch["shots"] if s["shot_id"].startswith("ch01-s02")]
    narration = json.loads(original)["chapters"][0]["shots"][1]["narration"]
    assert " ".join(h["narration"] for h in halves) == narration  # cut at a word boundary, nothing lost
    assert halves[0]["visual"] == halves[1]["visual"]

    moved = cli_json("edit", pid, "move", "ch02-s02", "--to", "2", workspace=ws)
    assert _shots(root)[1] == "ch02-s02" and _touched(moved) <= {"ch02-s02", "ch01-s01", "ch01-s02"}
    duplicated = cli_json("edit", pid, "duplicate", "ch03-s01", workspace=ws)
    assert "ch03-s01-copy" in _shots(root) and _touched(duplicated) == {"ch03-s01-copy"}
    deleted = cli_json("edit", pid, "delete", "ch03-s01-copy", workspace=ws)
    assert "ch03-s01-copy" not in _shots(root) and _touched(deleted) == set()
    assert json.loads((root / "qc.json").read_text())["passed"]

    before = (root / "storyboard.json").read_bytes()
    for args, needle in ((("merge", "ch01-s01", "ch01-s03"), "not right after it"), (("split", "ch01-s01", "--at", "0.2"), "shorter than 1 s"),
                         (("split", "ch01-s01", "--at", "99"), "outside ch01-s01"), (("move", "ch01-s01", "--to", "99"), "outside the video"),
                         (("delete", "nope"), "no shot 'nope'"), (("explode", "ch01-s01"), "is not an edit"), (("split", "ch01-s01"), "needs --at")):
        bad = run_cli("edit", pid, *args, workspace=ws)
        assert bad.returncode == 2 and needle in bad.stderr, (args, bad.stderr)
    assert (root / "storyboard.json").read_bytes() == before  # nothing changed

    listed = cli_json("versions", pid, workspace=ws)["versions"]
    assert [v["what"].split()[0] for v in listed] == ["as", "split", "moved", "duplicated", "deleted"] and listed[-1]["current"]
    assert listed[-1]["video"]  # each rendered version names its video
    undone = cli_json("undo", pid, "--no-render", workspace=ws)
    assert undone["rendered"] is False and "ch03-s01-copy" in _shots(root)
    cli_json("redo", pid, "--no-render", workspace=ws)
    assert "ch03-s01-copy" not in _shots(root)
    restored = cli_json("restore", pid, "1", workspace=ws)
    assert (root / "storyboard.json").read_bytes() == original and _shots(root) == first and restored["status"] == "done"
    # nothing is made again: every node of version 1 comes back from the build cache, the video byte for byte
    assert restored["executed_nodes"] == [] and "render[video]" in restored["restored_nodes"], restored
    assert (root / "video.mp4").read_bytes() == first_video
    assert cli_json("versions", pid, workspace=ws)["versions"][-1]["what"] == "restore 1"
    merged = cli_json("edit", pid, "merge", "ch01-s02", "ch01-s03", workspace=ws)  # narration joined, the first's picture
    assert _touched(merged) == {"ch01-s02"} and "render[video]" in merged["executed_nodes"], merged["executed_nodes"]
    assert "ch01-s03" not in _shots(root) and json.loads((root / "qc.json").read_text())["passed"]
    nothing = run_cli("redo", pid, workspace=ws)
    assert nothing.returncode == 2 and "nothing to redo" in nothing.stderr


def test_the_timeline_exports_as_opentimelineio(tmp_path) -> None:
    """``storyreel export --format otio``: one clip per shot in video order with the video's total length (to the frame),
    the narration on its own track, the subtitles as markers, media that resolve; ``otioz`` bundles the media."""
    import av
    import opentimelineio as otio

    ws = tmp_path / "ws"
    made = cli_json("make", FABLE, "--resolution", "360p", workspace=ws)
    pid, root = made["project_id"], ws / "projects" / made["project_id"]
    written = cli_json("export", pid, "--output", str(tmp_path / "fable.otio"), workspace=ws)
    timeline = otio.adapters.read_from_file(written["path"])
    video = timeline.video_tracks()[0]
    assert [c.name for c in video] == _shots(root)
    with av.open(str(root / "video.mp4")) as container:
        frames = container.streams.video[0].frames
    assert abs(video.duration().value - frames) <= 1 and abs(timeline.duration().to_frames() - frames) <= 1
    assert all(c.media_reference.target_url == (root / "video.mp4").resolve().as_uri() for c in video)
    narration = [c for c in timeline.audio_tracks()[0] if isinstance(c, otio.schema.Clip)]
    assert len(narration) == len(_shots(root)) and all(otio.url_utils.filepath_from_url(c.media_reference.target_url) for c in narration)
    assert timeline.tracks.markers and all(m.name for m in timeline.tracks.markers)
    bundle = cli_json("export", pid, "--format", "otioz", workspace=ws)
    assert bundle["path"].endswith(".otioz") and otio.adapters.read_from_file(bundle["path"]).video_tracks()[0][0].media_reference.target_url == "media/video.mp4"
    bad = run_cli("export", pid, "--format", "edl", workspace=ws)
    assert bad.returncode == 2 and "not an export format" in bad.stderr


def test_trim_snaps_to_words_and_an_edited_timeline_imports_back(tmp_path) -> None:
    """``edit trim`` keeps whole words (the dropped ones leave the narration and the subtitles, and the edit says so);
    an exported timeline imported unchanged changes nothing; one with a clip trimmed and two swapped changes exactly
    those shots, and a clip that is no shot is listed, not dropped silently."""
    import opentimelineio as otio

    ws = tmp_path / "ws"
    made = cli_json("make", FABLE, "--resolution", "360p", workspace=ws)
    pid, root = made["project_id"], ws / "projects" / made["project_id"]
    narration = json.loads((root / "audio" / "ch02-s01.json").read_text())
    original = next(s for ch in json.loads((root / "storyboard.json").read_text())["chapters"] for s in ch["shots"]
                    if s["shot_id"] == "ch02-s01")["narration"]
    trimmed = cli_json("edit", pid, "trim", "ch02-s01", "--in", "0", "--out", str(round(narration["duration_s"] - 0.3, 2)), workspace=ws)
    assert "dropping" in trimmed["edited"] and _touched(trimmed) == {"ch02-s01"}
    board = json.loads((root / "storyboard.json").read_text())
    kept = next(s for ch in board["chapters"] for s in ch["shots"] if s["shot_id"] == "ch02-s01")["narration"]
    assert original.startswith(kept) and len(kept) < len(original) and original[len(kept)] == " "  # whole words, the last dropped
    bad = run_cli("edit", pid, "trim", "ch02-s01", "--in", "0", "--out", "0.5", workspace=ws)
    assert bad.returncode == 2 and "shorter than 1 s" in bad.stderr

    exported = cli_json("export", pid, "--output", str(tmp_path / "cut.otio"), workspace=ws)["path"]
    same = cli_json("import", pid, exported, workspace=ws)
    assert same["executed_nodes"] == [] and same["edited"] == "nothing changed"
    timeline = otio.adapters.read_from_file(exported)
    track = timeline.video_tracks()[0]
    third = track[3]
    track.remove(third)
    track.insert(2, third)  # two shots swapped
    last = track[len(track) - 2]
    r = last.source_range
    last.source_range = otio.opentime.TimeRange(r.start_time, otio.opentime.RationalTime(round(r.duration.value * 0.6), r.duration.rate))
    track.append(otio.schema.Clip(name="b-roll from elsewhere"))
    otio.adapters.write_to_file(timeline, str(tmp_path / "edited.otio"))
    imported = cli_json("import", pid, str(tmp_path / "edited.otio"), workspace=ws)
    assert f"moved {third.name}" in imported["edited"] and f"trimmed {last.name}" in imported["edited"]
    assert "not mapped: clip 'b-roll from elsewhere'" in imported["edited"]
    assert _shots(root)[2] == third.name and _touched(imported) <= {third.name, last.name}
    assert json.loads((root / "qc.json").read_text())["passed"]


def test_an_edit_previews_at_540p_and_leaves_the_delivery_as_it_is(tmp_path) -> None:
    """``edit … --preview`` and ``storyreel preview``: the current version at 960×540 in ``preview/video.mp4`` from the
    project's own images, narration and soundtrack; the delivered video, its QC and the project's status are untouched;
    the preview and the delivery are nodes of their own (neither makes the other stale); an undo gives the earlier
    preview back from the build cache."""
    import av

    ws = tmp_path / "ws"
    made = cli_json("make", FABLE, "--resolution", "360p", workspace=ws)
    pid, root = made["project_id"], ws / "projects" / made["project_id"]
    delivered = (root / "video.mp4").read_bytes()
    first = cli_json("preview", pid, workspace=ws)
    assert first["video_path"] == str(root / "preview" / "video.mp4")
    assert first["executed_nodes"] and all("@preview" in n for n in first["executed_nodes"])  # nothing of the delivery ran again
    with av.open(first["video_path"]) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (960, 540) and container.streams.audio
        length = float(container.duration / av.time_base)
    assert abs(length - made_duration(root)) < 0.1
    seen = (root / "preview" / "video.mp4").read_bytes()

    split = cli_json("edit", pid, "split", "ch01-s02", "--at", "3", "--preview", workspace=ws)
    assert split["video_path"].endswith("preview/video.mp4") and "render@preview[video]" in split["executed_nodes"]
    assert not any(n.startswith(("render[", "qc[", "clip[", "segment[")) for n in split["executed_nodes"])
    assert {"narration[ch01-s02]", "narration[ch01-s02-b]", "mix[audio]"} <= set(split["executed_nodes"])  # the shared sources
    assert (root / "video.mp4").read_bytes() == delivered  # the delivery is left for the export
    assert cli_json("list", workspace=ws)["projects"][0]["status"] == "done"
    assert cli_json("preview", pid, workspace=ws)["executed_nodes"] == []

    undone = cli_json("undo", pid, "--preview", workspace=ws)
    assert undone["executed_nodes"] == [] and (root / "preview" / "video.mp4").read_bytes() == seen  # back from the cache
    assert cli_json("make", FABLE, "--resolution", "360p", workspace=ws)["executed_nodes"] == []
    assert cli_json("preview", pid, workspace=ws)["executed_nodes"] == []  # each is fresh beside the other


def made_duration(root) -> float:  # noqa: ANN001
    import av

    with av.open(str(root / "video.mp4")) as container:
        return float(container.duration / av.time_base)
