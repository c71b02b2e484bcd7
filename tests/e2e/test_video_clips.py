"""AI motion end to end (issue 26): ``storyreel make`` on the ad brief with ``--clips replicate:kwaivgi/kling-v3-video``
against a loopback Replicate (``video_fakes``): the 9:16 video's moving shots show the vendor's clips (fitted to
the frame and the 30 fps clock, the vendor's sound dropped), QC passes, the ledger holds every clip's cost and
equals the vendor's bill; a cap below one clip makes zero paid video requests; ``--clips local`` afterwards
re-renders with Ken Burns moves and buys nothing."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from storyreel.media.grade import Grade

from ..conftest import INPUTS, cli_json, run_cli
from ..providers.video_fakes import TOKEN, FakeReplicate, vendor_mp4

pytestmark = pytest.mark.e2e

AD = str(INPUTS / "ad-brief.txt")
CLIPS = ("--clips", "replicate:kwaivgi/kling-v3-video")


def _env(httpserver) -> dict:
    return {"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN, "STORYREEL_VIDEO_POLL_S": "0.05",
            "STORYREEL_HTTP_BACKOFF_S": "0.01"}


def _frame(path: Path, t: float) -> np.ndarray:
    """The RGB frame of ``path`` on screen at ``t`` seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        last = None
        for frame in container.decode(stream):
            if frame.pts * frame.time_base > t:
                break
            last = frame
        return last.to_ndarray(format="rgb24").astype(np.float32)


def test_a_make_with_vendor_clips(httpserver, tmp_path: Path) -> None:
    mp4 = vendor_mp4(tmp_path / "vendor.mp4")
    fake = FakeReplicate(mp4, httpserver.url_for("/delivery/clip.mp4"))
    fake.frozen = vendor_mp4(tmp_path / "frozen.mp4", frozen=True)  # every odd seed: a dark frozen clip, a bad attempt
    fake.serve(httpserver)
    ws = tmp_path / "ws"

    capped = run_cli("make", AD, *CLIPS, "--max-cost", "0.5", workspace=ws, env=_env(httpserver))  # one clip is ≥ $0.90
    assert capped.returncode == 1 and "cost cap" in capped.stderr, capped.stderr
    assert fake.creates == []

    made = cli_json("make", AD, *CLIPS, "--attempts", "2", "--max-cost", "40", workspace=ws, env=_env(httpserver))
    assert made["status"] == "done"
    root = ws / "projects" / made["project_id"]
    report = json.loads((root / "qc.json").read_text())
    assert report["passed"] and report["colour"]["vendor_clips"] >= 1
    assert report["colour"]["spread_after"] < report["colour"]["spread_before"]  # the test pattern, graded toward the stills
    moving = sorted(n.split("[")[1].rstrip("]") for n in made["executed_nodes"] if n.startswith("motion["))
    assert moving and len(fake.creates) == 2 * len(moving)  # two paid attempts per moving shot, nothing bought twice
    assert len({json.dumps(c["input"], sort_keys=True) for c in fake.creates}) == len(fake.creates)  # each its own seed
    board = json.loads((root / "storyboard.json").read_text())
    kinds = {s["shot_id"]: s["visual"]["type"] for ch in board["chapters"] for s in ch["shots"]}
    assert all(kinds[s] not in board["settings"]["template_types"] for s in moving)
    for body in fake.creates:
        assert body["input"]["start_image"].startswith("data:image/png;base64,") and body["input"]["duration"] >= 3
    for shot in moving:
        record = json.loads((root / "clips" / f"{shot}.motion.json").read_text())
        assert record["provider"] == "replicate:kwaivgi/kling-v3-video" and record["cost_usd"] == pytest.approx(0.30 * record["duration_s"])
        attempts = {a["seed"] % 2: a for a in record["attempts"]}
        assert len(record["attempts"]) == 2 and attempts[1]["scores"]["frozen_frames"] > 0.9  # the dark frozen attempt
        assert attempts[0]["scores"]["total"] > attempts[1]["scores"]["total"] and record["chosen"] == attempts[0]["attempt"]
        assert record["chosen_by"] == "scores" and (root / "clips" / f"{shot}.motion-2.mp4").is_file()
        assert record["colour_delta_e"]["after"] < record["colour_delta_e"]["before"]  # graded toward the shot's still
    costs = cli_json("cost", made["project_id"], workspace=ws)
    assert costs["spent_usd"] == pytest.approx(fake.bill, abs=1e-6) and costs["uncertain_calls"] == 0

    with av.open(str(root / "video.mp4")) as container:
        v = container.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (360, 640) and round(float(v.average_rate)) == 30
        assert [s.codec_context.channels for s in container.streams.audio] == [2]  # the narration mix only
    # a moving shot's body shows the vendor's picture (its moving test pattern) at the vendor's own clock
    shot = moving[0]
    layout = json.loads((root / "clips" / f"{shot}.layout.json").read_text())
    grade = Grade(**json.loads((root / "clips" / f"{shot}.motion.json").read_text())["grade"])
    for i in (5, 20):
        t = (layout["body"][0] + i) / 30  # seconds into the vendor clip (it covers the shot: played at its speed)
        ours, theirs = _frame(root / "clips" / f"{shot}.mp4", i / 30 + 1e-3), _frame(tmp_path / "vendor.mp4", t + 1e-3)
        theirs = grade.apply(theirs.astype(np.uint8)).astype(np.float32)  # the vendor's frame, colour-matched
        top = slice(0, 200)  # above overlays and subtitles
        assert np.abs(ours[top] - theirs[top]).mean() < 12, i

    # a person prefers the other attempt: the pick wins, nothing is bought, only that shot is re-rendered
    record = json.loads((root / "clips" / f"{shot}.motion.json").read_text())
    other = next(a["attempt"] for a in record["attempts"] if a["attempt"] != record["chosen"])
    creates = len(fake.creates)
    wrong = run_cli("pick", made["project_id"], shot, "3", "--clip", workspace=ws, env=_env(httpserver))
    assert wrong.returncode == 2 and "no clip attempt 3" in wrong.stderr and "its attempts: 1, 2" in wrong.stderr
    picked = cli_json("pick", made["project_id"], shot, str(other), "--clip", workspace=ws, env=_env(httpserver))
    assert {n.split("[")[0] for n in picked["executed_nodes"]} >= {"motion", "clip", "render"} and len(fake.creates) == creates
    assert f"motion[{moving[1]}]" not in picked["executed_nodes"]
    record = json.loads((root / "clips" / f"{shot}.motion.json").read_text())
    assert record["chosen"] == other and record["chosen_by"] == "person"
    assert (root / "clips" / f"{shot}.motion.mp4").read_bytes() == (root / "clips" / f"{shot}.motion-{other}.mp4").read_bytes()

    # a trim at the start of a moving shot moves its clip's in-point: the clip and the assembly are made again, nothing bought
    from storyreel.api import Workspace, editor

    length = next(s["duration_s"] for s in editor.timeline(Workspace.open(ws).project(made["project_id"]))["shots"] if s["shot_id"] == shot)
    trimmed = cli_json("edit", made["project_id"], "trim", shot, "--in", "1", "--out", str(length), workspace=ws, env=_env(httpserver))
    board = json.loads((root / "storyboard.json").read_text())
    assert next(s for ch in board["chapters"] for s in ch["shots"] if s["shot_id"] == shot)["visual"]["clip_in_s"] == 1.0
    assert f"clip[{shot}]" in trimmed["executed_nodes"] and not any(n.startswith("motion_prompt[") for n in trimmed["executed_nodes"])
    assert len(fake.creates) == creates and json.loads((root / "qc.json").read_text())["passed"]  # the clip is pinned: not asked anew
    assert cli_json("cost", made["project_id"], workspace=ws)["spent_usd"] == pytest.approx(fake.bill, abs=1e-6)
    again_trimmed = cli_json("edit", made["project_id"], "trim", shot, "--in", "0.5", "--out", str(length - 1.5), workspace=ws,
                             env=_env(httpserver))
    assert f"motion[{shot}]" not in again_trimmed["executed_nodes"] and len(fake.creates) == creates  # pinned: the same node
    board = json.loads((root / "storyboard.json").read_text())
    assert next(s for ch in board["chapters"] for s in ch["shots"] if s["shot_id"] == shot)["visual"]["clip_in_s"] == 1.5

    again = cli_json("make", AD, "--clips", "local", workspace=ws, env=_env(httpserver))
    stages = {n.split("[")[0] for n in again["executed_nodes"]}
    assert "clip" in stages and "motion" not in stages and not stages & {"image", "narration", "plan"}, stages
    assert len(fake.creates) == 2 * len(moving)  # nothing bought
