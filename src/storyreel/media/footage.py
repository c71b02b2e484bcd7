"""Provider footage on the timeline: a vendor's MP4 (any size, frame rate or sound) as the frames of one shot.

A clip from an image-to-video vendor replaces the Ken Burns move of its shot. :class:`FootageFrames` serves the
same slot-local frames :class:`~storyreel.media.motion.ShotFrames` does (``-pre ≤ k < slot + post``, flat yuv420p
BT.709 limited range at the project's frame), so clips, crossfades, overlays, subtitles and per-shot segments
work unchanged:

- **cover-fit**: each decoded frame is scaled to cover the project's frame and centre-cropped (area resampling
  when shrinking), then converted to Y'CbCr exactly as a still is (:meth:`~storyreel.media.motion.Still.from_rgb`);
- **constant 30 fps**: slot-local frame ``k`` shows the vendor frame at source time ``(k + pre) / 30 × r`` — the
  vendor's own timestamps, so a 24 fps or variable-rate clip lands on the 30 fps clock without drift;
- **length** (:func:`retime`): a clip at least as long as the shot plays at its speed (``r = 1``) and is cut; a
  shorter one is slowed down by up to :data:`MAX_SLOWDOWN` (``r`` ≥ 0.8) and, if still short, holds its last
  frame for the rest of the shot; an in-point (``start_s``, a trim of the shot) starts it later, the rest of the
  clip then being its length;
- **colour**: with a :class:`~storyreel.media.grade.Grade` each frame is colour-matched to the shot's still
  before conversion (the ``motion`` stage measures it once per clip);
- **sound**: never decoded (storyreel lays its own narration; the vendor's track is dropped).

Frames are decoded forward with PyAV and kept one at a time; asking for an earlier frame than the last one
restarts the decoder (a crossfade asks for the tail of one clip and the head of the next, each once).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from storyreel.media.grade import Grade
from storyreel.media.motion import Still, frame_bytes, planes
from storyreel.media.timeline import FPS, ShotTiming

MAX_SLOWDOWN = 1.25
"""A vendor clip shorter than its shot is played at most this much slower (then its last frame is held)."""


def retime(source_s: float, span_frames: int) -> float:
    """The playback rate ``r`` (source seconds per output second) for a clip of ``source_s`` seconds covering
    ``span_frames`` frames at 30 fps: 1 when it is long enough, else ``source_s / needed`` but never below
    ``1 / MAX_SLOWDOWN`` (the rest is a held last frame)."""
    needed = span_frames / FPS
    if source_s >= needed or needed <= 0:
        return 1.0
    return max(source_s / needed, 1.0 / MAX_SLOWDOWN)


def probe_duration(path: Path) -> float:
    """Seconds of the first video stream of ``path`` (its duration, else the container's). Raises
    :class:`~storyreel.media.ffmpeg.MediaError` for a file with no video stream."""
    import av

    from storyreel.media.ffmpeg import MediaError

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise MediaError(f"{path.name}: no video stream")
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1_000_000


def cover_fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """``rgb`` (h, w, 3) scaled to cover ``width × height`` and centre-cropped to it."""
    h, w = rgb.shape[:2]
    s = max(width / w, height / h)
    sw, sh = max(width, round(w * s)), max(height, round(h * s))
    scaled = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return np.ascontiguousarray(scaled[y0:y0 + height, x0:x0 + width])


class FootageFrames:
    """The frames of one shot from a vendor clip (see the module). ``frame(k, out)`` → flat yuv420p buffer."""

    def __init__(self, path: Path, timing: ShotTiming, width: int, height: int, grade: Grade | None = None,
                 start_s: float = 0.0) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"frame size {width}x{height} must be even for yuv420p")
        self.path = path
        self.timing = timing
        self.width = width
        self.height = height
        self.grade = grade
        self.source_s = probe_duration(path)
        self.start_s = min(max(0.0, start_s), max(0.0, self.source_s - 1 / FPS))  # an in-point past the end: its last frame
        self.rate = retime(self.source_s - self.start_s, timing.span)
        self._container = None
        self._frames = None
        self._current: tuple[float, np.ndarray] | None = None  # (pts seconds, yuv420p) of the last decoded frame
        self._next: tuple[float, np.ndarray] | None = None

    def new_frame(self) -> np.ndarray:
        return np.empty(frame_bytes(self.width, self.height), dtype=np.uint8)

    def _open(self) -> None:
        import av

        self.close()
        self._container = av.open(str(self.path))
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        self._frames = self._container.decode(stream)
        self._current = self._decode()
        self._next = self._decode()

    def _decode(self) -> tuple[float, np.ndarray] | None:
        try:
            frame = next(self._frames)  # type: ignore[arg-type]
        except StopIteration:
            return None
        pts = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
        rgb = frame.to_ndarray(format="rgb24")
        smaller = rgb.shape[0] * rgb.shape[1] < self.width * self.height
        if self.grade is not None and smaller:  # graded where there are fewer pixels: before an upscale, after a downscale
            rgb = self.grade.apply(rgb)
        rgb = cover_fit(rgb, self.width, self.height)
        if self.grade is not None and not smaller:
            rgb = self.grade.apply(rgb)
        still = Still.from_rgb(rgb)
        buf = self.new_frame()
        y, u, v = planes(buf, self.width, self.height)
        y[:], u[:], v[:] = still.luma, still.cb, still.cr
        return pts, buf

    def _at(self, t: float) -> np.ndarray:
        """The frame on screen at source time ``t``: the last one whose timestamp is ≤ t (the first before any)."""
        if self._current is None or t < self._current[0] - 1e-6:
            self._open()
            if self._current is None:
                from storyreel.media.ffmpeg import MediaError

                raise MediaError(f"{self.path.name}: no frames")
        while self._next is not None and self._next[0] <= t + 1e-6:
            self._current, self._next = self._next, self._decode()
        return self._current[1]  # type: ignore[index]

    def frame(self, local_frame: int, out: np.ndarray | None = None) -> np.ndarray:
        """Slot-local frame ``local_frame`` (see :class:`~storyreel.media.motion.ShotFrames`)."""
        out = self.new_frame() if out is None else out
        t = self.start_s + float(Fraction(local_frame + self.timing.pre, FPS)) * self.rate
        out[:] = self._at(t)
        return out

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
