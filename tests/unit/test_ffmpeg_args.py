"""ffmpeg argv/script builders and the encoder choice."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from storyreel.media import ffmpeg
from storyreel.media.ffmpeg import Encoding, choose_encoder, concat_list


def test_concat_durations_do_not_drift_over_many_segments():
    files = [(Path(f"/p/s{i}.mp4"), 7 + i % 5) for i in range(1000)]
    script = concat_list(files, 30)
    durations = [float(d) for d in re.findall(r"^duration (\S+)$", script, re.M)]
    assert script.startswith("ffconcat version 1.0") and len(durations) == 1000
    total_frames = 0
    running_us = 0
    for (_, frames), d in zip(files, durations):
        total_frames += frames
        running_us += round(d * 1_000_000)
        # the running start time is the exact frame time to within half a microsecond (≪ one 1/15360 s tick)
        assert abs(running_us - total_frames * 1_000_000 / 30) <= 0.5


@pytest.mark.parametrize("folder", ["plain", "a b", "it's", "q'uo'te $x;#"])
def test_unsafe_characters_in_paths_are_not_interpreted(tmp_path, folder):
    """The concat script names segments in folders with spaces, quotes and shell characters, and ffmpeg
    reads exactly those files."""
    import av

    where = tmp_path / folder
    where.mkdir()
    parts = []
    for i, frames in enumerate((6, 9)):
        seg = where / f"seg {i}'.mp4"
        ffmpeg.run_ffmpeg(["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=30:duration={frames / 30}", "-pix_fmt", "yuv420p",
                           "-c:v", "libx264", "-frames:v", str(frames), str(seg)], what="test segment")
        parts.append((seg, frames))
    listing = where / "list.txt"
    listing.write_text(concat_list(parts, 30))
    out = tmp_path / "joined.mp4"
    ffmpeg.run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out)], what="test concat")
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 15


def test_encoder_choice_falls_back_to_libx264_and_caches(tmp_path, monkeypatch):
    calls = []

    def works(codec: str) -> bool:
        calls.append(codec)
        return False

    monkeypatch.setattr(ffmpeg, "_encoder_works", works)
    assert choose_encoder("auto", tmp_path) == "libx264"
    assert calls == list(ffmpeg.HARDWARE_ENCODERS)
    assert json.loads((tmp_path / "encoder.json").read_text())["encoder"] == "libx264"
    calls.clear()
    assert choose_encoder("auto", tmp_path) == "libx264" and calls == []  # cached, no probing


def test_a_working_hardware_encoder_is_preferred_until_it_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(ffmpeg, "_encoder_works", lambda codec: codec == "h264_qsv")
    assert choose_encoder("auto", tmp_path) == "h264_qsv"
    ffmpeg.forget_encoder(tmp_path)
    assert choose_encoder("auto", tmp_path) == "libx264"


def test_named_encoders_and_their_quality_flags():
    assert choose_encoder("libx264") == "libx264"
    with pytest.raises(ValueError, match="unknown video encoder"):
        choose_encoder("h265_magic")
    assert Encoding(codec="h264_nvenc", crf=21).codec_args()[:2] == ["-c:v", "h264_nvenc"]
    assert "-cq" in Encoding(codec="h264_nvenc").codec_args()
    x264 = Encoding(threads=2).video_args()
    assert x264[x264.index("-crf") + 1] == "20" and x264[x264.index("-threads") + 1] == "2"
    assert Encoding(threads=1).identity() == Encoding(threads=2).identity()  # threads do not change the key


def test_the_probe_really_encodes():
    assert ffmpeg._encoder_works("libx264")


def test_a_canceled_job_kills_the_ffmpeg_it_waits_for():
    """``run_ffmpeg`` checks the job's stop every 0.5 s and kills the process (the render's concat and
    audio passes are single long ffmpeg runs)."""
    import time

    import pytest

    from storyreel.core.cancel import Canceled, watching
    from storyreel.media.ffmpeg import run_ffmpeg

    t0 = time.monotonic()
    with watching(lambda: time.monotonic() - t0 > 0.3), pytest.raises(Canceled):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "60", "-f", "null", "-"], what="a long pass")
    assert time.monotonic() - t0 < 3.0  # not the 60 s the pass would take


@pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_GETPIPE_SZ"), reason="F_SETPIPE_SZ is Linux-only")
def test_the_frame_pipe_is_widened_so_a_frame_crosses_in_few_writes(tmp_path):
    """The encoder's stdin holds PIPE_BYTES (1 MiB) instead of the default 64 KiB, and frames still arrive intact."""
    import fcntl
    import os

    import numpy as np

    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=False) as pipe:
            assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) < ffmpeg.PIPE_BYTES
            ffmpeg._widen_pipe(pipe)
            assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) == ffmpeg.PIPE_BYTES
    finally:
        os.close(read_fd)
        os.close(write_fd)
    # a real encode through the widened pipe: every frame arrives, and what comes out is what went in
    frames = [np.concatenate([np.full(64 * 48, 16 + 20 * i, np.uint8), np.full(64 * 48 // 2, 128, np.uint8)]) for i in range(10)]
    out = tmp_path / "grey.mp4"
    args = ffmpeg.encode_args([], out, Encoding(crf=1), 64, 48, len(frames))
    assert ffmpeg.encode_frames(iter(frames), args, what="test").frames == 10
    import av

    with av.open(str(out)) as c:
        lumas = [int(f.to_ndarray()[:48].mean().round()) for f in c.decode(video=0)]  # yuv420p: Y rows first
    assert all(abs(got - want) <= 1 for got, want in zip(lumas, [16 + 20 * i for i in range(10)], strict=True))


def test_wait_checking_returns_the_exit_code_and_stops_a_canceled_wait():
    """The pidfd wait hands back the child's exit code; a job stopped while it waits raises ``Canceled``
    within one check interval (the caller then kills the child)."""
    import subprocess
    import sys

    from storyreel.core.cancel import Canceled, watching
    from storyreel.media.ffmpeg import wait_checking

    assert wait_checking(subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])) == 3
    assert wait_checking(subprocess.Popen([sys.executable, "-c", "pass"])) == 0
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with watching(lambda: True), pytest.raises(Canceled):
            wait_checking(slow, interval_s=0.05)
        assert slow.poll() is None  # still running: killing it is the caller's job
    finally:
        slow.kill()
        slow.wait()


def test_the_cli_entry_point_ends_with_the_commands_exit_code_and_flushed_output(tmp_path):
    """``python -m storyreel`` leaves through ``os._exit`` after the command: stdout is complete, stderr
    carries the error, and the exit code is the command's (0, and 2 for bad input)."""
    import json
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "storyreel", "schema", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["title"]
    bad = subprocess.run([sys.executable, "-m", "storyreel", "make", str(tmp_path / "missing.txt"), "--json",
                          "--workspace", str(tmp_path / "ws")], capture_output=True, text=True)
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["exit_code"] == 2 and "missing.txt" in bad.stderr.replace("\n", "")  # Rich wraps long paths
