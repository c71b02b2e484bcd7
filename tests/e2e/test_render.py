"""``storyreel render`` and ``storyreel qc`` through the real CLI on a real input (the 20 s ad brief)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from storyreel.core.artifact import load_storyboard
from storyreel.media.audio import read_wav
from storyreel.media.timeline import build_timeline

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e

CLIP_NODES = ("clip[", "segment[")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    ws = tmp_path_factory.mktemp("render-ws")
    made = cli_json("make", str(INPUTS / "ad-brief.txt"), workspace=ws)
    root = Path(made["storyboard_path"]).parent
    return ws, made["project_id"], root


def _timeline(root: Path):
    board = load_storyboard(root / "storyboard.json")
    durations = {s.shot_id: json.loads((root / "audio" / f"{s.shot_id}.json").read_text())["duration_s"] for _, s in board.shots()}
    return build_timeline(board, durations)


def _frame_hashes(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [hashlib.sha1(f.to_ndarray(format="gray").tobytes()).hexdigest() for f in container.decode(video=0)]


def test_make_writes_a_passing_qc_report(project):
    _, _, root = project
    report = json.loads((root / "qc.json").read_text())
    assert report["passed"] is True
    names = {c["name"] for c in report["checks"] if c["passed"] is True}
    assert names >= {"video_codec", "color_tags", "faststart", "frame_rate", "duration", "av_sync", "loudness",
                     "true_peak", "black_frames", "subtitle_safe_area", "subtitle_timing", "text_layout"}
    black = next(c for c in report["checks"] if c["name"] == "black_frames")
    assert "per segment and on the soundtrack" in black["measured"]  # QC decoded neither the video nor its audio again
    probe = json.loads((root / "audio" / "narration-mix.qc.json").read_text())
    loudness = next(c for c in report["checks"] if c["name"] == "loudness")
    assert loudness["measured"] == f"{probe['integrated_lufs']:.1f} LUFS"
    assert black["measured"].startswith("0.00–")  # the start of the fade from black, which is allowed


def test_concat_is_a_stream_copy_of_the_segments_in_order(project):
    """Every decoded frame of video.mp4 equals the frame of the segment file it came from."""
    _, _, root = project
    tl = _timeline(root)
    video = _frame_hashes(root / "video.mp4")
    assert len(video) == tl.total_frames
    offset = 0
    for _, unit in tl.segments():
        seg = _frame_hashes(root / "clips" / f"{unit}.mp4")
        assert video[offset: offset + len(seg)] == seg, f"segment {unit} differs at frame {offset}"
        offset += len(seg)
    assert offset == tl.total_frames


def test_narration_starts_on_its_frame_across_segment_boundaries(project):
    """A/V sync: each shot's voice onset in the final audio sits where the timeline puts it (± 1 frame)."""
    _, _, root = project
    tl = _timeline(root)
    with av.open(str(root / "video.mp4")) as container:
        audio = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
    rate = 48000
    for s in tl.shots:
        own, own_rate = read_wav(root / "audio" / f"{s.shot_id}.wav")
        own_onset = np.argmax(np.abs(own) > 0.05 * np.abs(own).max()) / own_rate
        expected = s.start / tl.fps + s.narration_offset_s + own_onset
        lo = int((s.start / tl.fps) * rate)
        window = np.abs(audio[lo: lo + int(s.slot / tl.fps * rate)])
        onset = (lo + np.argmax(window > 0.05 * window.max())) / rate
        assert abs(onset - expected) <= 1 / tl.fps, f"{s.shot_id}: voice at {onset:.3f}s, timeline {expected:.3f}s"


def test_render_is_incremental_and_keeps_its_options(project):
    ws, pid, root = project
    assert cli_json("render", pid, workspace=ws)["executed_count"] == 0  # all cached

    changed = cli_json("render", pid, "--crf", "23", workspace=ws)
    ran = changed["executed_nodes"]
    tl = _timeline(root)
    assert sum(n.startswith(CLIP_NODES) for n in ran) == len(tl.segments())  # every segment re-encoded
    assert {"render[video]", "qc[video]"} <= set(ran)
    assert not any(n.startswith(("image[", "narration[")) for n in ran)
    assert json.loads((root / "options.json").read_text())["crf"] == 23
    # make keeps the project's render options: nothing to redo
    assert cli_json("make", str(INPUTS / "ad-brief.txt"), workspace=ws)["executed_count"] == 0

    forced = cli_json("render", pid, "--force", workspace=ws)["executed_nodes"]
    assert sum(n.startswith(CLIP_NODES) for n in forced) == len(tl.segments())


def test_music_bed_reruns_only_the_audio_pass(project, tmp_path):
    ws, pid, root = project
    music = tmp_path / "bed.wav"
    from storyreel.media.ffmpeg import run_ffmpeg

    run_ffmpeg(["-f", "lavfi", "-i", "anoisesrc=d=8:c=brown:a=0.3", "-ac", "2", str(music)], what="music")
    ran = cli_json("render", pid, "--music", str(music), workspace=ws)["executed_nodes"]
    assert set(ran) == {"mix[audio]", "render[video]", "qc[video]"}
    assert (root / "assets" / "music.wav").exists()
    assert json.loads((root / "qc.json").read_text())["passed"] is True
    back = cli_json("render", pid, "--no-music", workspace=ws)  # the mix without music was made before: from the build cache
    assert back["executed_nodes"] == [] and set(back["restored_nodes"]) == {"mix[audio]", "render[video]", "qc[video]"}


def test_render_refuses_stale_sources_and_bad_options(project, tmp_path):
    ws, pid, root = project
    bad = run_cli("render", pid, "--preset", "warp9", workspace=ws)
    assert bad.returncode == 2 and "--preset" in bad.stderr
    assert run_cli("render", "no-such-project", workspace=ws).returncode == 2
    missing = run_cli("render", pid, "--music", str(tmp_path / "nope.mp3"), workspace=ws)
    assert missing.returncode == 2 and "--music" in missing.stderr

    copy = tmp_path / "ws2"
    shutil.copytree(ws, copy)
    board = copy / "projects" / pid / "storyboard.json"
    data = json.loads(board.read_text())
    data["chapters"][0]["shots"][0]["narration"] = "A completely different opening line for the ad."
    board.write_text(json.dumps(data, ensure_ascii=False))
    stale = run_cli("render", pid, workspace=copy)
    assert stale.returncode == 2
    assert "narration[" in stale.stderr and "storyreel make" in stale.stderr


def test_qc_command_on_project_and_on_a_broken_file(project, tmp_path):
    ws, pid, root = project
    report = cli_json("qc", pid, workspace=ws)
    assert report["passed"] is True
    broken = tmp_path / "quiet.mp4"
    from storyreel.media.ffmpeg import run_ffmpeg

    run_ffmpeg(["-i", str(root / "video.mp4"), "-c:v", "copy", "-af", "volume=-20dB", "-c:a", "aac", "-ar", "48000", str(broken)], what="quiet copy")
    proc = run_cli("qc", str(broken), "--json", workspace=ws)
    assert proc.returncode == 1
    failed = {c["name"] for c in json.loads(proc.stdout)["checks"] if c["passed"] is False}
    assert "loudness" in failed and "faststart" in failed
    human = run_cli("qc", str(broken), workspace=ws)
    assert "loudness" in human.stderr and human.returncode == 1

