"""Colour matching of vendor footage (media/grade.py): a clip with a blue cast, matched to a warm still, takes
the still's mean colour (CIEDE2000 after ≪ before), the same map on every frame, nothing blown up."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from storyreel.media.ffmpeg import ffmpeg_exe
from storyreel.media.grade import MAX_SCALE, Grade, lab_stats, match


def test_a_blue_clip_takes_the_colours_of_a_warm_still(tmp_path: Path) -> None:
    clip = tmp_path / "blue.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24", "-t", "2", "-vf",
                    "colorbalance=bs=0.6:bm=0.5:rs=-0.4", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)
    still = tmp_path / "warm.png"
    rng = np.random.default_rng(7)
    warm = np.clip(rng.normal((190, 120, 70), 25, size=(180, 320, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(warm).save(still)
    grade, colour = match(clip, still)
    assert colour["before"] > 15 and colour["after"] < 0.3 * colour["before"], colour
    assert all(1 / MAX_SCALE <= s <= MAX_SCALE for s in grade.scale)
    frame = np.asarray(Image.open(still).convert("RGB"))
    assert np.array_equal(grade.apply(frame), grade.apply(frame))  # a pure per-pixel map: no flicker
    ref_mean, _ = lab_stats(warm)
    assert abs(float(lab_stats(grade.apply(warm))[0][0]) - float(ref_mean[0])) < 40  # L* stays in range


def test_the_identity_grade_changes_nothing() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    assert np.abs(Grade((50.0, 0.0, 0.0), (1.0, 1.0, 1.0), (50.0, 0.0, 0.0)).apply(rgb).astype(int) - rgb).max() <= 1
