"""ffmpeg argv builders, the runners and the encoder choice. ffmpeg comes from the ``imageio-ffmpeg`` wheel.

libx264 segments are encoded in this process (:mod:`storyreel.media.encoder`); with a hardware encoder a
segment is one ffmpeg process fed raw BT.709 limited-range yuv420p frames on stdin (rendered by
:mod:`storyreel.media.motion`) that composites the overlay/subtitle layers, applies fades, probes and encodes
(:func:`encode_args`). Every segment uses identical encoder settings so the final concat is a stream copy
(RENDER-NOTES.md: per-shot segments in parallel measured 1.11× the encode floor).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from storyreel.core.cancel import checkpoint
from storyreel.core.errors import ProviderError

if TYPE_CHECKING:
    import numpy as np


class MediaError(ProviderError):
    """ffmpeg failed; the message carries the tail of its log."""


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled by imageio-ffmpeg (``IMAGEIO_FFMPEG_EXE`` overrides)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_version() -> str:
    """The ffmpeg build's version string (``ffmpeg -version``), read once per binary and modification time."""
    exe = ffmpeg_exe()
    return _version_of(exe, os.stat(exe).st_mtime_ns)


@lru_cache(maxsize=1)
def pyav_version() -> str:
    """The PyAV release whose bundled FFmpeg and x264 encode libx264 segments in this process
    (:mod:`storyreel.media.encoder`)."""
    from importlib.metadata import version

    return version("av")


@lru_cache(maxsize=4)
def _version_of(exe: str, _mtime_ns: int) -> str:
    out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, check=False).stdout
    first = out.splitlines()[0] if out else ""
    return first.split(" Copyright")[0].removeprefix("ffmpeg version ").strip() or "unknown"


def wait_checking(proc: subprocess.Popen, interval_s: float = 0.5) -> int:
    """Wait for ``proc`` to exit and return its exit code, calling :func:`checkpoint` every ``interval_s``
    so a cancelled job stops waiting (the caller kills the process).

    On Linux the wait is a ``poll`` on the process's pidfd, which returns the moment it exits;
    ``Popen.wait(timeout=…)`` polls with sleeps that grow to 50 ms instead, so each run ended up to 50 ms
    after ffmpeg did — noticeable on the short runs of the audio pass (three per shot)."""
    import select

    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux ≥ 5.3: Popen's own timed wait
        while True:
            try:
                return proc.wait(timeout=interval_s)
            except subprocess.TimeoutExpired:
                checkpoint()
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll(interval_s * 1000):
            checkpoint()
    finally:
        os.close(fd)
    return proc.wait()


def run_ffmpeg(args: list[str], *, what: str) -> str:
    """Run ``ffmpeg -hide_banner -nostdin -loglevel error -y <args>``; returns stderr.
    Raises :class:`MediaError` with the log tail on a non-zero exit."""
    return _run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], None, what)


def run_ffmpeg_stdin(args: list[str], data: bytes, *, what: str) -> str:
    """:func:`run_ffmpeg` with ``data`` on ffmpeg's standard input (``-i pipe:0`` in ``args``)."""
    return _run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], data, what)


def _run(argv: list[str], data: bytes | None, what: str) -> str:
    import threading

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL if data is None else subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        feeder = None
        if data is not None:
            def feed() -> None:
                try:
                    proc.stdin.write(data)
                except (BrokenPipeError, OSError):  # ffmpeg stopped reading: its exit code says why
                    pass
                finally:
                    try:
                        proc.stdin.close()
                    except OSError:
                        pass

            feeder = threading.Thread(target=feed, name="sr-ffmpeg-stdin", daemon=True)
            feeder.start()
        try:
            code = wait_checking(proc)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if feeder is not None:
                feeder.join()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if code != 0:
        tail = "\n".join(stderr.strip().splitlines()[-8:])
        raise MediaError(f"ffmpeg failed while {what} (exit {code}):\n{tail}")
    return stderr


# H.264 encoders, in the order ``auto`` tries them. Hardware encoders take a constant-quality value in
# place of x264's CRF; the mapping keeps roughly the same visual quality target.
HARDWARE_ENCODERS = ("h264_nvenc", "h264_qsv", "h264_videotoolbox")
ENCODERS = ("libx264", *HARDWARE_ENCODERS)


@dataclass(frozen=True)
class Encoding:
    """H.264 settings shared by every segment (identical settings make the concat a stream copy).

    ``codec`` is ``libx264`` (default preset ``veryfast``, CRF 20) or a hardware encoder from
    :data:`HARDWARE_ENCODERS`; ``threads`` is x264's thread count per segment process.

    ``x264_params`` trims what the preset keeps in memory: veryfast looks 10 frames ahead and plans up to 3
    B-frames, and x264 holds every frame in flight with its half-pel planes. A 3-frame lookahead with one
    B-frame holds ≈ 85 MB less per 1080p encoder (268 → 182 MB peak) and encodes ≈ 18 % faster, for the
    same file size (1.96 against 1.95 MB) and SSIM 0.9907 against 0.9913 — measured on 450 frames of three
    real Ken Burns shots at CRF 20 on this machine (docs/performance.md "Memory").
    """

    preset: str = "veryfast"
    crf: int = 20
    threads: int = 1
    fps: int = 30
    codec: str = "libx264"
    x264_params: str = "rc-lookahead=3:bframes=1"

    def codec_args(self) -> list[str]:
        if self.codec == "h264_nvenc":
            return ["-c:v", "h264_nvenc", "-preset", "p5", "-rc", "vbr", "-cq", str(self.crf), "-b:v", "0", "-bf", "0"]
        if self.codec == "h264_qsv":
            return ["-c:v", "h264_qsv", "-global_quality", str(self.crf), "-bf", "0"]
        if self.codec == "h264_videotoolbox":
            return ["-c:v", "h264_videotoolbox", "-q:v", str(max(1, min(100, 100 - 2 * self.crf)))]
        return ["-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-threads", str(self.threads),
                *(["-x264-params", self.x264_params] if self.x264_params else [])]

    def video_args(self) -> list[str]:
        return [
            *self.codec_args(), "-profile:v", "high", "-pix_fmt", "yuv420p", "-r", str(self.fps),
            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
            "-video_track_timescale", str(self.fps * 512), "-an",
        ]

    def identity(self) -> dict:
        """What changes the encoded bytes (part of node keys; not ``threads``): codec, preset, CRF, frame
        rate, profile and the build doing the encoding (libx264 runs in-process through PyAV, hardware
        encoders in the ffmpeg binary)."""
        software = self.codec == "libx264"
        return {"codec": self.codec, "preset": self.preset, "crf": self.crf, "fps": self.fps, "profile": "high",
                "x264": self.x264_params if software else None,
                "ffmpeg": f"pyav {pyav_version()}" if software else ffmpeg_version()}


def _encoder_works(codec: str) -> bool:
    """True when ``codec`` can encode one small frame here (a hardware encoder compiled into ffmpeg
    fails at this point when the device or driver is missing)."""
    argv = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
        "color=c=gray:size=256x256:rate=30", "-frames:v", "1", *Encoding(codec=codec).codec_args(),
        "-pix_fmt", "yuv420p", "-f", "null", "-",
    ]
    try:
        return subprocess.run(argv, capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def choose_encoder(setting: str, cache_dir: Path | None = None) -> str:
    """The H.264 encoder for ``setting``: ``auto`` takes the first hardware encoder that works here and
    falls back to ``libx264``; a named encoder is used as is. The ``auto`` answer is cached in
    ``cache_dir/encoder.json`` per ffmpeg binary (probing costs a few hundred ms).

    Raises :class:`ValueError` for an unknown encoder name.
    """
    if setting != "auto":
        if setting not in ENCODERS:
            raise ValueError(f"unknown video encoder {setting!r}; use auto or one of {', '.join(ENCODERS)}")
        return setting
    exe = ffmpeg_exe()
    stamp = f"{exe}:{os.stat(exe).st_mtime_ns}"
    cache = cache_dir / "encoder.json" if cache_dir else None
    if cache and cache.exists():
        try:
            data = json.loads(cache.read_text())
            if data.get("ffmpeg") == stamp and data.get("encoder") in ENCODERS:
                return str(data["encoder"])
        except (OSError, ValueError):
            pass
    chosen = next((c for c in HARDWARE_ENCODERS if _encoder_works(c)), "libx264")
    if cache:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"ffmpeg": stamp, "encoder": chosen}))
        except OSError:
            pass
    return chosen


def forget_encoder(cache_dir: Path) -> None:
    """Drop the cached ``auto`` choice and record ``libx264`` (after a hardware encoder failed mid-render,
    so the next run falls back to software for every segment, keeping the concat uniform)."""
    exe = ffmpeg_exe()
    (cache_dir / "encoder.json").write_text(
        json.dumps({"ffmpeg": f"{exe}:{os.stat(exe).st_mtime_ns}", "encoder": "libx264", "reason": "hardware encode failed"})
    )


@dataclass(frozen=True)
class Layer:
    """An RGBA image composited at (x, y) on frames [first, last] of a segment."""

    path: Path
    x: int
    y: int
    first: int
    last: int


_BT709_TAGS = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
# an RGBA layer (PNG) to yuva420p with the BT.709 limited-range matrix of the tagged main input, converted
# once (a layer is one frame; tests/unit/test_encode_colour.py checks the decoded colours)
_LAYER_TO_YUVA = "format=rgba,scale=out_color_matrix=bt709:out_range=tv,format=yuva420p"


def encode_args(
    layers: list[Layer], out: Path, enc: Encoding, width: int, height: int, frames: int,
    fade_in: int = 0, fade_out: int = 0, probes: Sequence[str] = (),
) -> list[str]:
    """argv for one segment fed ``frames`` raw yuv420p frames (``width × height``, BT.709 limited range,
    from :mod:`storyreel.media.motion`) on stdin: overlay the RGBA ``layers`` on their frame ranges, fade
    from black over the first ``fade_in`` / to black over the last ``fade_out`` frames, tag BT.709 and
    encode. The frames are never converted or rescaled; only the layers are, once each. ``probes`` are
    pass-through measuring filters (e.g. ``blackdetect``) run on the final frames just before the encoder;
    they log at info level, which :func:`encode_frames` returns."""
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-r", str(enc.fps), "-i", "pipe:0"]
    for layer in layers:
        args += ["-i", str(layer.path)]
    graph = [f"[0:v]settb=1/{enc.fps},setpts=N,{_BT709_TAGS}[v0]"]
    for i, layer in enumerate(layers, start=1):
        graph.append(f"[{i}:v]{_LAYER_TO_YUVA}[l{i}]")
        graph.append(
            f"[v{i - 1}][l{i}]overlay=x={layer.x}:y={layer.y}:format=yuv420:eval=init"
            f":enable='between(n,{layer.first},{layer.last})'[v{i}]"
        )
    post = []
    if fade_in:
        post.append(f"fade=t=in:start_frame=0:nb_frames={fade_in}")
    if fade_out:
        post.append(f"fade=t=out:start_frame={frames - fade_out}:nb_frames={fade_out}")
    post.append(f"format=yuv420p,{_BT709_TAGS}")
    post.extend(probes)
    graph.append(f"[v{len(layers)}]" + ",".join(post) + "[out]")
    return [*args, "-filter_complex", ";".join(graph), "-map", "[out]", "-frames:v", str(frames), *enc.video_args(), str(out)]


@dataclass(frozen=True)
class Encoded:
    """What :func:`encode_frames` did: frames written, and ffmpeg's info-level log (probe filter output)."""

    frames: int
    log: str


def _error_tail(log: str) -> str:
    lines = log.strip().splitlines()
    errors = [ln for ln in lines if "[error]" in ln or "[fatal]" in ln]
    return "\n".join((errors or lines)[-8:])


PIPE_BYTES = 1 << 20
"""Pipe buffer asked for (Linux ``F_SETPIPE_SZ``; 1 MiB is the unprivileged maximum,
``/proc/sys/fs/pipe-max-size``): a 1080p yuv420p frame (3 MB) then crosses in 3 writes instead of 48 of the
default 64 KiB, with as many fewer wake-ups of the encoder."""


def _widen_pipe(pipe) -> None:  # noqa: ANN001
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        pass  # not Linux, or the limit is lower here: the default buffer works, only slower


def encode_frames(frames: Iterable[np.ndarray], args: list[str], *, what: str) -> Encoded:
    """Run ffmpeg with ``args`` (from :func:`encode_args`) and stream ``frames`` to its stdin one at a
    time, so memory holds one frame. Returns the frames written and the log (``-loglevel level+info``,
    each line tagged with its level). Raises :class:`MediaError` with ffmpeg's error lines if it fails or
    exits early."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "level+info", "-y", *args]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        _widen_pipe(proc.stdin)
        written = 0
        try:
            for frame in frames:
                proc.stdin.write(memoryview(frame).cast("B"))  # a C-contiguous uint8 buffer
                written += 1
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        code = proc.wait()
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
        if code != 0:
            raise MediaError(f"ffmpeg failed while {what} (exit {code}):\n{_error_tail(text)}")
    return Encoded(written, text)


def _concat_quote(text: str) -> str:
    """Quote a path for the concat demuxer: inside single quotes nothing is special but the quote
    itself, written as ``'\\''`` (close, escaped quote, reopen) — ffmpeg-formats "concat", "Syntax"."""
    return "'" + text.replace("'", "'\\''") + "'"


def concat_list(files: list[tuple[Path, int]], fps: int) -> str:
    """A concat-demuxer script for (segment file, frame count) pairs, each with an explicit
    ``duration``. Without it the demuxer takes each file's container duration, which the MP4 edit list
    can round short by a few ticks (seen: 507/15360 s for a 512-tick frame), leaving one uneven frame
    step at the joint. Durations are given so that their running sum, in the demuxer's microseconds, is
    the exact frame time rounded once — no drift however many segments."""
    lines, frames_before = [], 0
    for path, frames in files:
        start_us = round(frames_before * 1_000_000 / fps)
        end_us = round((frames_before + frames) * 1_000_000 / fps)
        lines.append(f"file {_concat_quote(path.as_posix())}\nduration {(end_us - start_us) / 1_000_000:.6f}\n")
        frames_before += frames
    return "ffconcat version 1.0\n" + "".join(lines)


def aac_encode_args() -> list[str]:
    """The soundtrack's encoder: AAC-LC 192 kb/s, 48 kHz stereo (YouTube's recommended upload audio).

    Perceptual noise substitution is off: a decoder fills PNS bands from its own random generator, so the
    samples a segment decodes to would depend on every packet decoded before it, and the spliced
    soundtrack (media/soundtrack.py) could not be checked sample for sample; at 96 kb/s per channel the
    bands it would spare are coded anyway."""
    return ["-c:a", "aac", "-aac_coder", "fast", "-aac_pns", "0", "-b:a", "192k", "-ar", "48000", "-ac", "2"]


def concat_mux_args(list_file: Path, audio: Path, out: Path, duration_s: float) -> list[str]:
    """argv for the final file: stream-copy concat of the segments and a stream copy of the finished
    soundtrack (``stages/mix.py``), cut to ``duration_s``, +faststart. Nothing is re-encoded."""
    return [
        "-f", "concat", "-safe", "0", "-i", str(list_file), "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "copy",
        "-t", f"{duration_s:.6f}", "-movflags", "+faststart", str(out),
    ]


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS has one (a worker pinned with ``taskset`` or a
    container's cpuset sees its own share, not the machine's), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads(workers: int) -> int:
    """x264 threads per worker so that threads × workers ≤ the cores this process may use (:func:`usable_cores`)."""
    return max(1, usable_cores() // max(1, workers))
