"""Media QC: the checks a broadcaster or a video platform applies to a delivered file.

Every check yields a :class:`Check` with what was expected, what was measured and whether it passed
(``None`` = not applicable, e.g. timeline checks on a bare file). Sources of the rules:

* H.264 High, yuv420p, BT.709 primaries/transfer/matrix, ``+faststart``, AAC 48 kHz — YouTube's
  recommended upload encoding settings and ARCHITECTURE.md "Media".
* Loudness −16 LUFS ±1 LU integrated, true peak ≤ −1 dBTP — EBU R128 / ITU-R BS.1770 measurement with the
  online-platform target (AES TD1004); measured by ffmpeg ``ebur128`` (``peak=true``).
* No black frames (≥ 0.1 s of frames with 98 % of pixels under 10 % of the luma range — ffmpeg
  ``blackdetect``'s defaults, evaluated per frame with ``blackframe`` so runs can be joined across
  segments) outside the intended fade from/to black. In the pipeline each segment's frames are measured
  as they are encoded (``clips/<unit>.qc.json``) and the final file, a stream copy of those segments, is
  not decoded again; ``storyreel qc`` on a file decodes it.
* Text layout: every text box (the picture's, overlays', cues') inside the title-safe area and clear of
  every other at every frame of the camera move (:mod:`storyreel.media.layout`).
* Subtitles inside the graphics (title) safe area: 90 % of width and height, 5 % margins (EBU R 95,
  SMPTE ST 2046-1), and timed to the narration's word timings within 100 ms.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel

from storyreel.core.artifact import ALL_FRAME_SIZES
from storyreel.media.audio import parse_ebur128
from storyreel.media.ffmpeg import MediaError, ffmpeg_exe
from storyreel.media.probe import MediaFacts, probe
from storyreel.media.standards import (
    LOUDNESS_TOLERANCE_LU as LOUDNESS_TOLERANCE,
)
from storyreel.media.standards import (
    TARGET_LUFS as LOUDNESS_TARGET,
)
from storyreel.media.standards import (
    TITLE_SAFE_MARGIN,
)
from storyreel.media.standards import (
    TRUE_PEAK_MAX_DBTP as TRUE_PEAK_MAX,
)

SUBTITLE_TOLERANCE_S = 0.100
BLACK_MIN_S = 0.1
BLACK_PIXEL_TH = 0.10
BLACK_PICTURE_PCT = 98
# limited-range luma at or under 10 % of [16, 235] counts as black (blackdetect: pixel ≤ 16 + 0.10·219)
BLACK_LUMA_MAX = 16 + int(BLACK_PIXEL_TH * 219)


def blackframe_filter() -> str:
    """A pass-through filter that logs (info level) every black frame: ``frame:N pblack:P``."""
    return f"blackframe=amount={BLACK_PICTURE_PCT}:threshold={BLACK_LUMA_MAX + 1}"


def parse_black_frames(log: str) -> list[int]:
    """Indices (0-based, presentation order) of the frames :func:`blackframe_filter` logged as black."""
    return [int(n) for n in re.findall(r"\bframe:(\d+) pblack:", log)]


def black_runs(frames: list[int], fps: int) -> list[tuple[float, float]]:
    """Runs of consecutive black frames lasting ≥ ``BLACK_MIN_S``, as (start_s, end_s) with the end
    exclusive (the time the first non-black frame starts)."""
    runs: list[tuple[float, float]] = []
    ordered = sorted(set(frames))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        start, end = ordered[i], ordered[j] + 1
        if (end - start) / fps >= BLACK_MIN_S - 1e-9:
            runs.append((start / fps, end / fps))
        i = j + 1
    return runs


class Check(BaseModel):
    """One QC check. ``passed`` is None when the check does not apply to this file."""

    name: str
    passed: bool | None
    expected: str
    measured: str
    message: str = ""


class QcReport(BaseModel):
    """All checks of one file; ``passed`` is True when no applicable check failed."""

    path: str
    passed: bool
    checks: list[Check]
    colour: dict | None = None
    """With vendor clips: how far the shots' mean colours spread (median CIEDE2000 to their average) with the
    clips as the vendor made them (``spread_before``) and as graded (``spread_after``) — information, not a check."""

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    def summary(self) -> str:
        bad = self.failures()
        if not bad:
            return f"QC passed ({sum(c.passed is True for c in self.checks)} checks)"
        return "QC failed: " + "; ".join(f"{c.name}: {c.message}" for c in bad)


@dataclass(frozen=True)
class CueSpec:
    """A subtitle as delivered: text, start/end seconds on the video clock, its box (x, y, w, h) in
    pixels when burned in, and the narration words it covers as (start_s, end_s) on the video clock."""

    text: str
    start_s: float
    end_s: float
    box: tuple[int, int, int, int] | None
    words: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class QcSpec:
    """What the file should be. ``width``/``height`` None accepts any storyreel frame size;
    ``duration_s`` None skips the timeline check; ``cues`` None skips the subtitle checks; ``layouts`` (one
    layout record per shot, :mod:`storyreel.media.layout`) None skips ``text_layout``."""

    width: int | None = None
    height: int | None = None
    fps: int = 30
    duration_s: float | None = None
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    cues: list[CueSpec] | None = None
    srt_path: Path | None = None
    layouts: list[dict] | None = None
    extra: dict = field(default_factory=dict)


def _ok(name: str, passed: bool, expected: str, measured: str, message: str) -> Check:
    return Check(name=name, passed=passed, expected=expected, measured=measured, message="" if passed else message)


def _na(name: str, expected: str, why: str) -> Check:
    return Check(name=name, passed=None, expected=expected, measured="n/a", message=why)


def check_container(facts: MediaFacts) -> list[Check]:
    """Codec, profile, pixel format, colour tags, faststart and audio format."""
    v, a = facts.video, facts.audio
    checks = [
        _ok("video_codec", bool(v and v.codec == "h264" and (v.profile or "").startswith("High")), "H.264 High",
            f"{v.codec if v else 'no video'} {v.profile if v else ''}".strip(), "video must be H.264 High profile"),
        _ok("pixel_format", bool(v and v.pix_fmt == "yuv420p"), "yuv420p", str(v.pix_fmt if v else None),
            "pixel format must be yuv420p (4:2:0, 8-bit)"),
    ]
    tags = (v.color_primaries, v.color_trc, v.colorspace) if v else (None, None, None)
    checks.append(_ok("color_tags", all(t is not None and "709" in t for t in tags), "BT.709 primaries/transfer/matrix",
                      "/".join(str(t) for t in tags), "colour primaries, transfer and matrix must be tagged BT.709"))
    checks.append(_ok("faststart", facts.faststart, "moov before mdat (+faststart)", str(facts.faststart),
                      "the moov atom must precede the media data so playback starts before download ends"))
    checks.append(_ok("audio_format", bool(a and a.codec == "aac" and a.sample_rate == 48000), "AAC 48000 Hz",
                      f"{a.codec} {a.sample_rate} Hz" if a else "no audio", "audio must be AAC at 48 kHz"))
    return checks


def _video_pts(path: Path) -> tuple[list[int], Fraction]:
    import av

    with av.open(str(path)) as container:
        vs = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(vs) if p.pts is not None and p.size)
        return pts, vs.time_base


def check_geometry(path: Path, facts: MediaFacts, spec: QcSpec) -> list[Check]:
    """Exact resolution, constant frame rate (every frame step equals 1/fps), duration vs timeline and
    audio/video stream durations, each within one frame."""
    v, a = facts.video, facts.audio
    checks = []
    size = f"{v.width}x{v.height}" if v else "no video"
    if spec.width and spec.height:
        want = f"{spec.width}x{spec.height}"
        checks.append(_ok("resolution", size == want, want, size, f"resolution must be exactly {want}"))
    else:
        allowed = sorted(f"{w}x{h}" for w, h in ALL_FRAME_SIZES)
        checks.append(_ok("resolution", size in allowed, " | ".join(allowed), size, "resolution is not a storyreel output size"))
    frame = 1.0 / spec.fps
    pts, tb = _video_pts(path) if v else ([], Fraction(1))
    steps = {round(float((b - a_) * tb), 6) for a_, b in zip(pts, pts[1:])}
    cfr = bool(v) and abs(v.fps - spec.fps) < 1e-6 and all(abs(s - frame) < 1e-4 for s in steps)
    measured = f"{v.fps:g} fps, frame steps {sorted(steps)[:3]} s" if v else "no video"
    checks.append(_ok("frame_rate", cfr, f"constant {spec.fps} fps", measured, f"video must be constant {spec.fps} fps"))
    vdur = len(pts) * frame if v else 0.0
    if spec.duration_s is not None:
        checks.append(_ok("duration", abs(vdur - spec.duration_s) <= frame + 1e-6, f"{spec.duration_s:.3f} s ± 1 frame",
                          f"{vdur:.3f} s ({len(pts)} frames)", "video duration differs from the timeline by more than one frame"))
    else:
        checks.append(_na("duration", "timeline duration ± 1 frame", "no project timeline"))
    adur = a.duration_s if a else 0.0
    checks.append(_ok("av_sync", bool(a) and abs(adur - vdur) <= frame + 1e-6, "audio and video durations within 1 frame",
                      f"video {vdur:.3f} s, audio {adur:.3f} s", "audio and video stream durations differ by more than one frame"))
    return checks


@dataclass(frozen=True)
class SignalStats:
    """What one decode pass measures: EBU R128 integrated loudness (LUFS), true peak (dBTP) and black
    intervals [(start_s, end_s)]; ``black_source`` says how the black frames were found."""

    integrated_lufs: float | None
    true_peak_dbtp: float | None
    black: list[tuple[float, float]]
    black_source: str = "decoded"


def measure_signal(path: Path, has_video: bool, has_audio: bool, fps: int = 30) -> SignalStats:
    """Decode once: black frames (:func:`blackframe_filter`) on the video, ``ebur128`` (true peak) on
    the audio. Raises :class:`MediaError` if ffmpeg cannot read the file."""
    graph, maps = [], []
    if has_video:
        graph.append(f"[0:v]{blackframe_filter()}[v]")
        maps += ["-map", "[v]"]
    if has_audio:
        graph.append("[0:a]ebur128=peak=true:framelog=quiet[a]")
        maps += ["-map", "[a]"]
    if not graph:
        return SignalStats(None, None, [])
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "info", "-i", str(path),
            "-filter_complex", ";".join(graph), *maps, "-f", "null", "-"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MediaError(f"QC could not decode {path.name}:\n{proc.stderr[-600:]}")
    log = proc.stderr
    black = black_runs(parse_black_frames(log), fps) if has_video else []
    integrated, peak = parse_ebur128(log) if has_audio else (None, None)
    return SignalStats(integrated, peak, black)


def _level(value: float | None, decimals: int, unit: str) -> str:
    """A measured level as the report shows it: ``-16.2 LUFS``, ``-1.96 dBTP`` (the meter in-process gives
    more digits than mean anything), ``-inf dBTP`` for silence, ``none`` when nothing was measured."""
    return "none" if value is None else f"{value:.{decimals}f} {unit}"


def check_signal(stats: SignalStats, spec: QcSpec, duration_s: float) -> list[Check]:
    """Loudness, true peak and black frames (black allowed only inside the intended fades)."""
    checks = []
    lo, hi = LOUDNESS_TARGET - LOUDNESS_TOLERANCE, LOUDNESS_TARGET + LOUDNESS_TOLERANCE
    i = stats.integrated_lufs
    checks.append(_ok("loudness", i is not None and lo <= i <= hi, f"{LOUDNESS_TARGET:g} LUFS ± {LOUDNESS_TOLERANCE:g} LU",
                      _level(i, 1, "LUFS"), f"integrated loudness must be within {lo:g}…{hi:g} LUFS (EBU R128)"))
    tp = stats.true_peak_dbtp
    checks.append(_ok("true_peak", tp is not None and tp <= TRUE_PEAK_MAX, f"≤ {TRUE_PEAK_MAX:g} dBTP", _level(tp, 2, "dBTP"),
                      f"true peak must not exceed {TRUE_PEAK_MAX:g} dBTP"))
    slack = 1.0 / spec.fps + 0.05
    unintended = [
        (s, e) for s, e in stats.black
        if not (spec.fade_in_s and s <= slack and e <= spec.fade_in_s + slack)
        and not (spec.fade_out_s and s >= duration_s - spec.fade_out_s - slack)
    ]
    measured = (", ".join(f"{s:.2f}–{e:.2f} s" for s, e in stats.black) or "none") + f" ({stats.black_source})"
    checks.append(_ok("black_frames", not unintended, "no black except intended fades", measured,
                      "black frames at " + ", ".join(f"{s:.2f}–{e:.2f} s" for s, e in unintended)))
    return checks


def _srt_times(path: Path) -> list[tuple[float, float, str]]:
    def sec(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.replace(".", ",").split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    blocks = re.findall(r"(\d\d:\d\d:\d\d[,.]\d{3}) --> (\d\d:\d\d:\d\d[,.]\d{3})\s*\n(.*?)(?:\n\n|\Z)", path.read_text(encoding="utf-8"), re.S)
    return [(sec(a), sec(b), text.strip()) for a, b, text in blocks]


def check_subtitles(spec: QcSpec, width: int, height: int) -> list[Check]:
    """Burned-in cue boxes inside the title-safe area; cue times (burned in and in the SRT sidecar)
    within 100 ms of the first word's start and not ending before the last word's end − 100 ms."""
    if spec.cues is None:
        return [_na("subtitle_safe_area", "inside 90 % title-safe area", "no project cues"),
                _na("subtitle_timing", "within 100 ms of word timings", "no project cues")]
    mx, my = width * TITLE_SAFE_MARGIN, height * TITLE_SAFE_MARGIN
    outside = [
        c.text[:40] for c in spec.cues if c.box
        and (c.box[0] < mx - 0.5 or c.box[1] < my - 0.5 or c.box[0] + c.box[2] > width - mx + 0.5 or c.box[1] + c.box[3] > height - my + 0.5)
    ]
    checks = [_ok("subtitle_safe_area", not outside, f"boxes inside {int(mx)}..{width - int(mx)} x {int(my)}..{height - int(my)}",
                  f"{len(outside)} of {len(spec.cues)} cues outside", "cues outside the title-safe area: " + " | ".join(outside[:3]))]
    late = []
    for c in spec.cues:
        if c.words and (abs(c.start_s - c.words[0][0]) > SUBTITLE_TOLERANCE_S or c.end_s < c.words[-1][1] - SUBTITLE_TOLERANCE_S):
            late.append(f"{c.text[:30]!r} at {c.start_s:.2f}–{c.end_s:.2f} s vs words {c.words[0][0]:.2f}–{c.words[-1][1]:.2f} s")
    if spec.srt_path is not None:
        delivered = _srt_times(spec.srt_path) if spec.srt_path.exists() else []
        if len(delivered) != len(spec.cues):
            late.append(f"{spec.srt_path.name} has {len(delivered)} cues, expected {len(spec.cues)}")
        for (s, e, text), c in zip(delivered, spec.cues):
            if c.words and (abs(s - c.words[0][0]) > SUBTITLE_TOLERANCE_S or e < c.words[-1][1] - SUBTITLE_TOLERANCE_S):
                late.append(f"{spec.srt_path.name} {text[:30]!r} at {s:.2f}–{e:.2f} s vs words {c.words[0][0]:.2f}–{c.words[-1][1]:.2f} s")
    checks.append(_ok("subtitle_timing", not late, "cue start within 100 ms of its first word; ends after its last word",
                      f"{len(late)} mistimed", "; ".join(late[:3])))
    return checks


def check_layout(spec: QcSpec) -> list[Check]:
    """``text_layout``: no text box leaves the title-safe area and no two boxes collide at any frame of any
    shot's camera move (:func:`storyreel.media.layout.check_text_layout`)."""
    expected = "no overlapping boxes; text inside the title-safe area at every frame"
    if spec.layouts is None:
        return [_na("text_layout", expected, "no project layout records")]
    from storyreel.media.layout import check_text_layout

    passed, measured, failures = check_text_layout(spec.layouts)
    return [_ok("text_layout", passed, expected, measured, "; ".join(failures[:4]) + (f" (+{len(failures) - 4} more)" if len(failures) > 4 else ""))]


def run_qc(path: Path, spec: QcSpec | None = None, black_frames: list[int] | None = None,
           loudness: tuple[float, float] | None = None) -> QcReport:
    """Run every check on ``path``. ``black_frames`` (indices on the video's frame clock, measured on the
    segments as they were encoded) spares the video decode; ``loudness`` (integrated LUFS, true peak dBTP,
    measured on the soundtrack the video carries as a stream copy) spares the audio decode — with both, the
    file is only probed and demuxed. Raises :class:`MediaError` if the file cannot be read at all."""
    spec = spec or QcSpec()
    if not path.is_file():
        raise MediaError(f"QC: no such file {path}")
    try:
        facts = probe(path)
    except Exception as exc:  # noqa: BLE001 - PyAV raises its own error family for unreadable files
        raise MediaError(f"QC could not open {path.name}: {exc}") from exc
    checks = check_container(facts) + check_geometry(path, facts, spec)
    if black_frames is None:
        stats = measure_signal(path, facts.video is not None, facts.audio is not None, spec.fps)
    elif loudness is not None and facts.audio is not None:
        stats = SignalStats(loudness[0], loudness[1], black_runs(black_frames, spec.fps),
                            "measured per segment and on the soundtrack as they were encoded")
    else:
        audio = measure_signal(path, False, facts.audio is not None, spec.fps)
        stats = SignalStats(audio.integrated_lufs, audio.true_peak_dbtp, black_runs(black_frames, spec.fps), "measured per segment at encode")
    vdur = facts.video.frames / spec.fps if facts.video else 0.0
    checks += check_signal(stats, spec, vdur)
    w, h = (facts.video.width, facts.video.height) if facts.video else (spec.width or 0, spec.height or 0)
    checks += check_subtitles(spec, w, h)
    checks += check_layout(spec)
    return QcReport(path=str(path), passed=not any(c.passed is False for c in checks), checks=checks)
