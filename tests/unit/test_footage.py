"""A vendor clip as a shot's frames (media/footage.py): the length rule (played at its speed and cut, or slowed
at most 1.25× then held on its last frame), the 30 fps clock from the clip's own timestamps, and cover-fit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from storyreel.media.ffmpeg import ffmpeg_exe
from storyreel.media.footage import MAX_SLOWDOWN, FootageFrames, cover_fit, probe_duration, retime
from storyreel.media.motion import planes
from storyreel.media.timeline import KenBurns, ShotTiming


def _clip(path: Path, seconds: float, size: str = "320x180", rate: int = 24) -> Path:
    """A clip whose frame n is a flat grey of level 16 + 4·n (easy to tell apart), with a sound track."""
    frames = int(seconds * rate)
    expr = "geq=lum='16+4*N':cb=128:cr=128"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=black:size={size}:rate={rate}:d={seconds}",
                    "-f", "lavfi", "-i", "sine", "-vf", expr, "-frames:v", str(frames), "-c:v", "libx264", "-qp", "0",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def _timing(span: int) -> ShotTiming:
    return ShotTiming("s", 0, 0, span, 0, 0, 0.0, span / 30, KenBurns(1.0, 1.0))


def test_the_length_rule() -> None:
    assert retime(5.0, 120) == 1.0  # long enough: its own speed, cut
    assert retime(3.6, 120) == pytest.approx(0.9)  # 4 s needed: slowed to fit
    assert retime(2.0, 120) == pytest.approx(1 / MAX_SLOWDOWN)  # slowed at most 1.25×, then held


def test_frames_follow_the_clips_clock_and_hold_the_last_frame(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "c.mp4", 2.0)
    assert probe_duration(clip) == pytest.approx(2.0, abs=0.05)
    frames = FootageFrames(clip, _timing(120), 640, 360)  # 4 s needed from a 2 s clip: 0.8× then held
    assert frames.rate == pytest.approx(0.8)

    def level(k: int) -> float:
        y, _, _ = planes(frames.frame(k), 640, 360)
        return float(y.mean())

    # output frame k shows source time k/30 × 0.8 → source frame ⌊k × 0.8 × 24 / 30⌋ = ⌊0.64 k⌋
    for k in (0, 10, 30, 50):
        assert level(k) == pytest.approx(16 + 4 * int(k * 0.64 + 1e-9), abs=2.5), k
    last = level(119)
    assert last == pytest.approx(16 + 4 * 47, abs=2.5) and level(100) == pytest.approx(last, abs=0.5)  # held
    assert level(5) == pytest.approx(16 + 4 * 3, abs=2.5)  # going back restarts the decoder
    frames.close()


def test_cover_fit_crops_a_wide_clip_to_a_tall_frame() -> None:
    wide = np.zeros((180, 320, 3), dtype=np.uint8)
    wide[:, 150:170] = 255  # a centred white bar
    tall = cover_fit(wide, 360, 640)
    assert tall.shape == (640, 360, 3)
    assert tall[:, 170:190].mean() > 200 and tall[:, :100].mean() < 5  # the centre kept, the sides cropped


def test_an_in_point_starts_the_clip_later(tmp_path: Path) -> None:
    """A trimmed shot's clip starts at its in-point: frame 0 shows the source at ``start_s``; the rest of the clip is its
    length (4 s from a 5 s clip started at 1 s plays at its speed); an in-point past the end shows the last frame."""
    clip = _clip(tmp_path / "c.mp4", 5.0)
    frames = FootageFrames(clip, _timing(120), 640, 360, start_s=1.0)
    assert frames.rate == 1.0
    y, _, _ = planes(frames.frame(0), 640, 360)
    assert float(y.mean()) == pytest.approx(16 + 4 * 24, abs=2.5)  # source frame 24 = 1.0 s at 24 fps
    short = FootageFrames(clip, _timing(120), 640, 360, start_s=2.5)  # 2.5 s left for 4 s: slowed 1.25×, then held
    assert short.rate == pytest.approx(0.8)
    past = FootageFrames(clip, _timing(30), 640, 360, start_s=99)
    whole = FootageFrames(clip, _timing(150), 640, 360)
    assert np.array_equal(past.frame(0), whole.frame(149))  # the clip's last frame
    for f in (frames, short, past, whole):
        f.close()
