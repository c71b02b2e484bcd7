"""Offline scores of vendor clips (providers/scorer/clip_metrics.py): a clip that starts from the shot's image and
moves scores above a dark frozen one; each dimension says why."""

from __future__ import annotations

import subprocess
from pathlib import Path

from storyreel.media.ffmpeg import ffmpeg_exe
from storyreel.providers.scorer.clip_metrics import score_clip

from ..providers.video_fakes import vendor_mp4


def test_a_moving_clip_from_the_image_beats_a_frozen_dark_one(tmp_path: Path) -> None:
    moving = tmp_path / "moving.mp4"
    vendor_mp4(moving, size="320x180", seconds=2)
    frozen = tmp_path / "frozen.mp4"
    vendor_mp4(frozen, size="320x180", seconds=2, frozen=True)
    start = tmp_path / "start.png"  # the shot's image: the moving clip's first frame
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(moving), "-frames:v", "1", str(start)], check=True)
    good, bad = score_clip(moving, start), score_clip(frozen, start)
    assert good["subject_consistency"] > 80 > bad["subject_consistency"]
    assert good["dynamic_degree"] > 0 and bad["dynamic_degree"] == 0
    assert bad["frozen_frames"] > 0.9 and bad["black_frames"] > 0.9 and good["frozen_frames"] == 0
    assert good["total"] > 40 and bad["total"] == 0
    assert score_clip(moving, start) == good  # deterministic
