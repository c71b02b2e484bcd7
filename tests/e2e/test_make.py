"""The main job end to end through the real CLI on the real inputs, inspecting the real outputs.

The four real inputs are made once at the tests' 360p render profile (:data:`tests.conftest.DELIVERY` explains
it), and two — a 16:9 script and a 9:16 prompt — once more at the 1080p delivery size, whose spec they are
checked against. Both with the product's default voice (:data:`tests.conftest.NEURAL`: Piper for English,
espeak-ng for the Turkish chapters), not the suite's quick one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from storyreel.core.artifact import frame_size, load_storyboard
from storyreel.media.ffmpeg import ffmpeg_exe
from storyreel.media.probe import probe
from storyreel.media.timeline import build_timeline

from ..conftest import DELIVERY, INPUTS, NEURAL, cli_json, run_cli

pytestmark = pytest.mark.e2e

INPUT_FILES = ["hare-and-tortoise.txt", "gettysburg-address.txt", "ad-brief.txt", "chapters-bitcoin-tr.json"]
DELIVERED = ["hare-and-tortoise.txt", "ad-brief.txt"]  # 16:9 and 9:16


def _make_all(ws: Path, names: list[str], env: dict | None = None) -> dict[str, dict]:
    """``make`` of each input in ``ws``, two at a time with one encoder each: their single-threaded parts
    (startup, narration, the audio pass, QC) overlap, and two processes on one workspace is what the project
    locks are for."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        made = pool.map(lambda name: cli_json("make", str(INPUTS / name), workspace=ws,
                                              env={"STORYREEL_WORKERS": "1", **NEURAL, **(env or {})}, process=True), names)
        return dict(zip(names, made))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One workspace with all four real inputs made once at the tests' render profile (360p)."""
    ws = tmp_path_factory.mktemp("ws")
    return ws, _make_all(ws, INPUT_FILES)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    """A 16:9 script and a 9:16 prompt made at the 1080p delivery size."""
    ws = tmp_path_factory.mktemp("delivered")
    return ws, _make_all(ws, DELIVERED, DELIVERY)


def _timeline(result):
    root = result["storyboard_path"].rsplit("/", 1)[0]
    board = load_storyboard(__import__("pathlib").Path(result["storyboard_path"]))
    durations = {
        s.shot_id: json.loads(open(f"{root}/audio/{s.shot_id}.json", encoding="utf-8").read())["duration_s"]
        for _, s in board.shots()
    }
    return board, build_timeline(board, durations)


def _frames(video, times, tmp_path):
    images = []
    for i, t in enumerate(times):
        out = tmp_path / f"f{i}.png"
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-ss", f"{t:.2f}", "-i", video, "-frames:v", "1", str(out)], check=True)
        images.append(Image.open(out).convert("RGB"))
    return images


def _check_spec(result: dict, resolution: str) -> None:
    """H.264 High yuv420p BT.709 at 30 fps, +faststart, AAC 48 kHz, the timeline's frames and durations, the
    exact frame size of ``resolution``, and a passing QC report."""
    assert result["status"] == "done"
    facts = probe(__import__("pathlib").Path(result["video_path"]))
    v, a = facts.video, facts.audio
    board, tl = _timeline(result)
    assert (v.width, v.height) == frame_size(board.settings.aspect_ratio, resolution)
    assert (v.codec, v.profile, v.pix_fmt, v.fps) == ("h264", "High", "yuv420p", 30.0)
    assert (v.color_primaries, v.color_trc, v.colorspace) == ("bt709", "bt709", "bt709")
    assert facts.faststart
    assert a is not None and (a.codec, a.sample_rate) == ("aac", 48000)
    assert v.frames == tl.total_frames
    assert abs(facts.container_duration_s - tl.duration_s) < 0.5
    assert abs(a.duration_s - tl.duration_s) < 1 / 30
    qc = json.loads((__import__("pathlib").Path(result["video_path"]).parent / "qc.json").read_text())
    assert qc["passed"] is True, [c for c in qc["checks"] if c["passed"] is False]


@pytest.mark.parametrize("name", DELIVERED)
def test_output_matches_the_delivery_spec(delivered, name):
    _check_spec(delivered[1][name], "1080p")


@pytest.mark.parametrize("name", INPUT_FILES)
def test_every_input_makes_a_video_to_the_spec_at_its_resolution(made, name):
    _check_spec(made[1][name], "360p")


@pytest.mark.parametrize(("name", "voice"), [("hare-and-tortoise.txt", "local:piper"), ("gettysburg-address.txt", "local:piper"),
                                             ("ad-brief.txt", "local:piper"), ("chapters-bitcoin-tr.json", "local:espeak")])
def test_the_default_voice_is_piper_for_english_and_espeak_for_turkish(made, name, voice):
    """Each shot's narration sidecar names its voice and where its word timings come from (issue 25 item 5)."""
    root = Path(made[1][name]["storyboard_path"]).parent
    board = load_storyboard(root / "storyboard.json")
    sidecars = [json.loads((root / "audio" / f"{s.shot_id}.json").read_text(encoding="utf-8")) for _, s in board.shots()]
    assert {s["provider"].split("/")[0] for s in sidecars} == {voice} and {s["cost_usd"] for s in sidecars} == {0.0}
    expected = {("en_US-joe-medium", "model-alignment")} if voice == "local:piper" else {("tr", "engine-events")}
    assert {(s["voice"], s["timing"]) for s in sidecars} == expected


def test_ad_brief_gives_a_vertical_video(made):
    ws, results = made
    facts = probe(__import__("pathlib").Path(results["ad-brief.txt"]["video_path"]))
    assert (facts.video.width, facts.video.height) == (360, 640)
    board = load_storyboard(__import__("pathlib").Path(results["ad-brief.txt"]["storyboard_path"]))
    assert board.plan.framework in ("AIDA", "PAS", "BAB")
    assert facts.container_duration_s >= 19.0  # "A 20-second … ad"


@pytest.mark.parametrize("name", INPUT_FILES)
def test_frames_are_neither_black_nor_blank(made, name, tmp_path):
    _, results = made
    result = results[name]
    _, tl = _timeline(result)
    times = [(s.start + s.slot / 2) / 30 for s in tl.shots]
    frames = _frames(result["video_path"], times, tmp_path)
    for t, frame in zip(times, frames):
        grey = np.asarray(frame.convert("L"), dtype=np.float32)
        assert grey.mean() > 20, f"black frame at {t:.1f}s"
        assert grey.std() > 10, f"blank frame at {t:.1f}s"
    sheet = Image.new("RGB", (4 * 480, ((len(times) + 3) // 4) * 480))
    for i, frame in enumerate(frames):
        frame.thumbnail((480, 480))
        sheet.paste(frame, ((i % 4) * 480, (i // 4) * 480))
    sheet.save(tmp_path / "contact-sheet.png")


def test_turkish_subtitles_keep_their_letters(made):
    _, results = made
    root = results["chapters-bitcoin-tr.json"]["storyboard_path"].rsplit("/", 1)[0]
    srt = open(f"{root}/video.srt", encoding="utf-8").read()
    vtt = open(f"{root}/video.vtt", encoding="utf-8").read()
    for ch in "ğşıİçöü":
        assert ch in srt, ch
    assert vtt.startswith("WEBVTT") and "öğreneceğiz" in vtt
    board = load_storyboard(__import__("pathlib").Path(results["chapters-bitcoin-tr.json"]["storyboard_path"]))
    assert board.chapters[4].title == "Cüzdan Kullanımı"


def test_thumbnail_and_sidecars_exist(delivered):
    _, results = delivered
    root = results["hare-and-tortoise.txt"]["storyboard_path"].rsplit("/", 1)[0]
    thumb = Image.open(f"{root}/thumbnail.jpg")
    assert thumb.size == (1280, 720)
    assert "The Hare and the Tortoise." in open(f"{root}/video.srt", encoding="utf-8").read()


def test_second_make_executes_no_node(made):
    ws, results = made
    again = cli_json("make", str(INPUTS / "hare-and-tortoise.txt"), workspace=ws, env=NEURAL)
    assert again["executed_count"] == 0
    assert again["video_path"] == results["hare-and-tortoise.txt"]["video_path"]
    human = run_cli("make", str(INPUTS / "hare-and-tortoise.txt"), workspace=ws, check=True, env=NEURAL)
    assert "0 nodes executed" in human.stderr


def test_a_no_op_make_goes_through_the_verb_runner_without_loading_the_engine(made):
    """``api.make`` — the CLI's only way in — answers a repeated request from its stamp (the runner's step 0)
    before the engine, the stages or the database are imported."""
    import subprocess
    import sys

    ws, results = made
    code = ("import json, sys; from pathlib import Path; from storyreel import api; "
            f"r = api.make(input_path=Path({str(INPUTS / 'hare-and-tortoise.txt')!r}), workspace=Path({str(ws)!r}), resolution='360p'); "
            "heavy = [m for m in ('sqlalchemy', 'storyreel.engine.executor', 'storyreel.stages.pipeline', 'cv2', 'av') if m in sys.modules]; "
            "print(json.dumps({'executed': r.executed, 'video': str(r.video_path), 'heavy': heavy}))")
    env = {**__import__("os").environ, **NEURAL}
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout)
            for _ in range(2)]
    # the first run may find the stamp made in another environment (it then evaluates, finds nothing to do, and
    # stamps again); the second is answered from the stamp
    assert runs[0]["executed"] == [] and runs[1] == {"executed": [], "video": results["hare-and-tortoise.txt"]["video_path"], "heavy": []}


def test_a_deleted_video_is_rebuilt_not_answered_from_the_stamp(made):
    """A no-op make is answered from the up-to-date stamp only while every file it recorded is intact."""
    ws, results = made
    video = __import__("pathlib").Path(results["ad-brief.txt"]["video_path"])
    video.unlink()
    again = cli_json("make", str(INPUTS / "ad-brief.txt"), workspace=ws, env=NEURAL)
    # the video comes back from the build cache, byte for byte (same key): nothing is made again
    assert again["restored_nodes"] == ["render[video]"] and again["executed_nodes"] == []
    assert video.is_file()
    assert cli_json("make", str(INPUTS / "ad-brief.txt"), workspace=ws, env=NEURAL)["executed_count"] == 0


def test_editing_one_shot_reruns_only_its_nodes(made):
    ws, results = made
    project = results["gettysburg-address.txt"]["project_id"]
    path = __import__("pathlib").Path(results["gettysburg-address.txt"]["storyboard_path"])
    data = json.loads(path.read_text(encoding="utf-8"))
    shots = [s for c in data["chapters"] for s in c["shots"]]
    idx = next(i for i, s in enumerate(shots) if s["visual"]["type"] == "b_roll" and 0 < i < len(shots) - 1)
    target, prev_id, next_id = shots[idx]["shot_id"], shots[idx - 1]["shot_id"], shots[idx + 1]["shot_id"]
    shots[idx]["narration"] = "We are met here, on a great battle-field of that war, to remember."
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")

    status = cli_json("status", project, workspace=ws, env=NEURAL)
    stale = {n["node"]: n for n in status["nodes"] if n["state"] != "FRESH"}
    assert stale[f"narration[{target}]"]["causes"] == ["PARAMS"]
    assert stale[f"narration[{target}]"]["stale_causes"] == [{"category": "PARAMS", "nodes": []}]
    assert stale[f"narration[{target}]"]["state"] == "STALE"
    assert stale[f"clip[{target}]"]["causes"] == [f"DEPENDENCY:narration[{target}],select[{target}]"]  # waits for both
    for node in status["nodes"]:
        assert set(node) >= {"stage", "unit", "state", "causes"}

    expected = {  # a b-roll shot shows what its narration names: its image is drawn again, and the manifest lists it
        f"narration[{target}]", f"image[{target}]", f"select[{target}]", "manifest[images]", f"clip[{target}]", f"segment[{prev_id}+{target}]",
        f"segment[{target}+{next_id}]", f"audio_segment[{target}]", "mix[audio]", "render[video]", "qc[video]",
    }  # the soundtrack: this shot's audio segment encoded again, the others' packets spliced as they are
    assert set(stale) == expected
    rerun = cli_json("make", str(INPUTS / "gettysburg-address.txt"), workspace=ws, env=NEURAL)
    assert set(rerun["executed_nodes"]) == expected
    after = cli_json("status", project, workspace=ws, env=NEURAL)
    assert all(n["state"] == "FRESH" for n in after["nodes"])
    assert "to remember" in open(path.parent / "video.srt", encoding="utf-8").read()


def test_list_shows_every_project(made):
    ws, results = made
    listed = {p["project_id"] for p in cli_json("list", workspace=ws)["projects"]}
    assert listed == {r["project_id"] for r in results.values()}


def test_b_roll_shows_what_the_narration_names(made):
    """Issue 14: on the four real inputs at least 70 % of b-roll shots show a subject their narration names,
    and the fable shows its hare and its tortoise."""
    _, results = made
    shown, total, fable = 0, 0, set()
    for name, result in results.items():
        root = Path(result["storyboard_path"]).parent
        board = load_storyboard(Path(result["storyboard_path"]))
        for _, shot in board.shots():
            if shot.visual.type != "b_roll":
                continue
            meta = json.loads((root / "images" / f"{shot.shot_id}.meta.json").read_text())
            total += 1
            if meta.get("subjects"):
                shown += 1
                assert meta["art_license"]["license"] == "CC BY-SA 4.0" and "OpenMoji" in meta["art_license"]["attribution"]
                if name == "hare-and-tortoise.txt":
                    fable.update(meta["subjects"])
    assert total >= 15 and shown / total >= 0.7, (shown, total)
    assert {"rabbit", "turtle"} <= fable


def test_contact_sheet_shows_every_shot_at_both_ends_of_its_move_and_mid_narration(made, tmp_path):
    """scripts/contact_sheet.py on a made project: one row per shot, three frames in play order, none dark."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("contact_sheet", Path(__file__).resolve().parents[2] / "scripts" / "contact_sheet.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    _, results = made
    result = results["hare-and-tortoise.txt"]
    project = Path(result["storyboard_path"]).parent
    _, tl = _timeline(result)
    ends = tool.move_ends(project)
    assert [e[0] for e in ends] == [s.shot_id for s in tl.shots]
    for (_, first, mid, last), s in zip(ends, tl.shots):
        assert s.start - s.pre <= first <= mid <= last < s.start + s.slot + s.post
    frames = tool.frames_at(project / "video.mp4", {k for _, *ks in ends for k in ks})
    assert all(np.asarray(frames[k].convert("L")).mean() > 20 for _, *ks in ends for k in ks)  # past the fades
    sheet = tool.sheet(project, thumb=240)
    assert sheet.size == (3 * 240 + 24, len(ends) * (135 + 22 + 6))
