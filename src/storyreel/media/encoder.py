"""Segment encoding: frames from the warp go straight into x264 inside this process (libx264 through PyAV).

Before, every segment was an ``ffmpeg`` process fed raw frames on a pipe, which composited the layers,
faded, probed for black frames and encoded. On the bench project that process spent ≈ 4.6 s of CPU beyond
x264's own work (reading 3 MB per frame from the pipe, the filter graph) and this process another ≈ 1.2 s
writing to the pipe (docs/performance.md, 2026-12-02). Here the frame buffer the warp wrote is finished in
place and handed to libx264 by PyAV, which releases the GIL while it encodes (two workers encode at once):

* layers (overlay and subtitle images) are converted once to BT.709 limited-range Y'CbCr with alpha and
  composited on their frame ranges (luma per pixel; chroma with the 2×2 mean of the alpha-weighted colour, so
  antialiased text edges keep their colour instead of darkening);
* fades follow ffmpeg's ``fade`` filter: factor ``k / n`` over the first ``n`` frames (the first is black),
  ``1 − j / n`` over the last ``n``, luma toward 16 and chroma toward 128 (libavfilter ``vf_fade.c``);
* a frame is black, as ffmpeg ``blackframe`` counts it, when at least ``BLACK_PICTURE_PCT`` % of its luma
  samples (integer percent) are under ``BLACK_LUMA_MAX + 1`` (:mod:`storyreel.media.qc`).

Hardware encoders keep the ``ffmpeg`` process path (:func:`storyreel.media.ffmpeg.encode_frames`), whose
filter graph does the same three things.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from storyreel.media.ffmpeg import Encoding, Layer, MediaError, encode_args, encode_frames
from storyreel.media.motion import planes, rgb_to_ycc
from storyreel.media.qc import BLACK_LUMA_MAX, BLACK_PICTURE_PCT, blackframe_filter, parse_black_frames

BT709 = 1  # AVCOL_PRI_BT709 = AVCOL_TRC_BT709 = AVCOL_SPC_BT709 (libavutil/pixfmt.h)
MPEG_RANGE = 1  # AVCOL_RANGE_MPEG: limited ("tv") range


@dataclass(frozen=True)
class Segment:
    """What :func:`encode_segment` wrote: the frame count and the indices of black frames in it."""

    frames: int
    black_frames: list[int]


@dataclass(frozen=True)
class Overlay:
    """A :class:`~storyreel.media.ffmpeg.Layer` ready to composite on yuv420p frames [first, last]: placed at
    even (x, y) so its chroma lines up, cropped to the frame. ``luma_a`` is Y'·α and ``inv`` is 255 − α
    (uint16, so a blend is one multiply-add and a division by 255); the chroma arrays are the 2×2 means."""

    x: int
    y: int
    first: int
    last: int
    luma_a: np.ndarray  # (h, w) uint16
    inv: np.ndarray  # (h, w) uint16
    chroma_a: np.ndarray  # (h/2, w/2, 2) uint16: mean of Cb·α, Cr·α
    chroma_inv: np.ndarray  # (h/2, w/2) uint16: 255 − mean α

    @classmethod
    def load(cls, layer: Layer, width: int, height: int) -> Overlay | None:
        """Read the layer's RGBA image; None when no part of it falls inside the frame."""
        with Image.open(layer.path) as im:
            rgba = np.asarray(im.convert("RGBA"))
        x, y = layer.x, layer.y
        if x % 2:  # one transparent column/row in front keeps (x, y) even
            rgba = np.pad(rgba, ((0, 0), (1, 0), (0, 0)))
            x -= 1
        if y % 2:
            rgba = np.pad(rgba, ((1, 0), (0, 0), (0, 0)))
            y -= 1
        # crop to the frame
        x0, y0 = max(0, -x), max(0, -y)
        x1, y1 = min(rgba.shape[1], width - x), min(rgba.shape[0], height - y)
        if x1 <= x0 or y1 <= y0:
            return None
        rgba = rgba[y0:y1, x0:x1]
        x, y = x + x0, y + y0
        # even size: one transparent row/column more (x, y and the frame size are even, so it stays inside)
        rgba = np.pad(rgba, ((0, rgba.shape[0] % 2), (0, rgba.shape[1] % 2), (0, 0)))
        h, w = rgba.shape[:2]
        ycc = rgb_to_ycc(rgba[..., :3]).astype(np.uint16)
        alpha = rgba[..., 3].astype(np.uint16)
        quad = lambda a: a.reshape(h // 2, 2, w // 2, 2, *a.shape[2:]).mean(axis=(1, 3))  # noqa: E731
        chroma_a = np.rint(quad(ycc[..., 1:3] * alpha[..., None].astype(np.float32))).astype(np.uint16)
        chroma_alpha = np.rint(quad(alpha.astype(np.float32))).astype(np.uint16)
        return cls(x, y, layer.first, layer.last, ycc[..., 0] * alpha, 255 - alpha, chroma_a, 255 - chroma_alpha)

    def composite(self, y_plane: np.ndarray, u_plane: np.ndarray, v_plane: np.ndarray) -> None:
        """Blend onto the planes of one frame, in place (straight alpha over an opaque frame, rounded)."""
        h, w = self.inv.shape
        region = y_plane[self.y : self.y + h, self.x : self.x + w]
        region[:] = (region * self.inv + self.luma_a + 127) // 255
        cy, cx = self.y // 2, self.x // 2
        for i, plane in enumerate((u_plane, v_plane)):
            region = plane[cy : cy + h // 2, cx : cx + w // 2]
            region[:] = (region * self.chroma_inv + self.chroma_a[..., i] + 127) // 255


@lru_cache(maxsize=1)
def x264_cpu_param() -> str:
    """``asm=AVX2,BMI2`` on a CPU with AVX-512, else nothing (x264 picks its code paths).

    Measured here (x264 in PyAV 18.1's FFmpeg, Xeon with AVX-512): with its AVX-512 routines, the same frames
    encoded in one process came out different in ≈ 10 % of the runs — from the first frame, by up to 3 levels
    once decoded — depending on what the heap held before, so x264 reads memory it did not write; capped at
    AVX2 70 of 70 runs gave the same bytes, at the same speed (1.61 against 1.63 s of CPU for 147 1080p frames).
    An ffmpeg process starts with a fresh heap each time, which is why the process-per-segment render never
    showed it. Every AVX-512 CPU has AVX2 and BMI2."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    return "asm=AVX2,BMI2" if re.search(r"^flags\s*:.*\bavx512f\b", flags, re.M) else ""


def fade_factor(k: int, frames: int, fade_in: int, fade_out: int) -> float:
    """Brightness factor of frame ``k`` of ``frames`` (ffmpeg ``fade``: ``k / n`` in, ``1 − j / n`` out)."""
    f = 1.0
    if fade_in and k < fade_in:
        f = k / fade_in
    if fade_out and k >= frames - fade_out:
        f = min(f, 1.0 - (k - (frames - fade_out)) / fade_out)
    return f


def is_black(luma: np.ndarray) -> bool:
    """ffmpeg ``blackframe`` with :func:`storyreel.media.qc.blackframe_filter`'s settings on one luma plane."""
    if float(cv2.mean(luma)[0]) > BLACK_LUMA_MAX + 255 * (100 - BLACK_PICTURE_PCT) / 100:
        return False  # too bright on average for BLACK_PICTURE_PCT % of the samples to be dark
    dark = int(np.count_nonzero(luma <= BLACK_LUMA_MAX))
    return dark * 100 // luma.size >= BLACK_PICTURE_PCT


def _finish(frame: np.ndarray, k: int, overlays: list[Overlay], width: int, height: int, frames: int,
            fade_in: int, fade_out: int) -> bool:
    """Layers and fade applied to frame ``k`` in place; returns whether it is black."""
    y, u, v = planes(frame, width, height)
    for overlay in overlays:
        if overlay.first <= k <= overlay.last:
            overlay.composite(y, u, v)
    f = fade_factor(k, frames, fade_in, fade_out)
    if f < 1.0:
        cv2.convertScaleAbs(y, dst=y, alpha=f, beta=16.0 * (1.0 - f))
        cv2.convertScaleAbs(u, dst=u, alpha=f, beta=128.0 * (1.0 - f))
        cv2.convertScaleAbs(v, dst=v, alpha=f, beta=128.0 * (1.0 - f))
    return is_black(y)


class _Picture:
    """The one ``av.VideoFrame`` a segment's frames are copied into, plane by plane (its rows may be padded).

    Reusing it saves the first-touch page faults of a fresh 3 MB buffer per frame: 0.15 against 0.62 ms to
    copy a 1080p luma plane (``VideoFrame.from_ndarray``, which also goes through ``tobytes``, took 0.70 ms
    for a whole frame), measured here. libavcodec holds no reference once ``encode`` has returned (libx264
    copies its input); ``make_writable`` would give the frame a fresh buffer if it did."""

    def __init__(self, av, width: int, height: int, fps: int) -> None:  # noqa: ANN001
        self.frame = av.VideoFrame(width, height, "yuv420p")
        self.frame.time_base = Fraction(1, fps)
        self.frame.colorspace, self.frame.color_range = BT709, MPEG_RANGE
        self.width, self.height = width, height

    def fill(self, flat: np.ndarray, pts: int):  # noqa: ANN201
        """The frame, holding the flat yuv420p buffer ``flat``, at ``pts`` (frames)."""
        self.frame.make_writable()
        self.frame.pts = pts
        for plane, src in zip(self.frame.planes, planes(flat, self.width, self.height), strict=True):
            h, w = src.shape
            np.copyto(np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w], src)
        return self.frame


def encode_segment(
    frames: Iterable[np.ndarray], layers: list[Layer], out: Path, enc: Encoding, width: int, height: int, count: int,
    *, fade_in: int = 0, fade_out: int = 0, what: str,
) -> Segment:
    """Encode ``count`` flat yuv420p frames (BT.709 limited range, from :mod:`storyreel.media.motion`; the
    buffers are finished in place) with the ``layers`` on their frame ranges and the fades, to an MP4 at
    ``out`` tagged BT.709 (the track timescale is ``fps × 512``, as every segment's, for the stream-copy
    concat). libx264 runs in this process; other encoders run in an ffmpeg process.

    Raises :class:`MediaError` when the encoder fails or fewer than ``count`` frames arrive."""
    if enc.codec != "libx264":
        args = encode_args(layers, out, enc, width, height, count, fade_in=fade_in, fade_out=fade_out, probes=[blackframe_filter()])
        done = encode_frames(frames, args, what=what)
        return Segment(done.frames, parse_black_frames(done.log))
    import av

    overlays = [o for o in (Overlay.load(layer, width, height) for layer in layers) if o is not None]
    black: list[int] = []
    written = 0
    try:
        with av.open(str(out), "w", format="mp4", options={"video_track_timescale": str(enc.fps * 512)}) as container:
            options = {"preset": enc.preset, "crf": str(enc.crf), "profile": "high"}
            params = ":".join(p for p in (enc.x264_params, x264_cpu_param()) if p)
            if params:
                options["x264-params"] = params
            stream = container.add_stream("libx264", rate=enc.fps, options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            cc = stream.codec_context
            cc.thread_count = enc.threads
            cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = BT709, BT709, BT709, MPEG_RANGE
            canvas = _Picture(av, width, height, enc.fps)
            for k, frame in enumerate(frames):
                if k >= count:
                    break
                if _finish(frame, k, overlays, width, height, count, fade_in, fade_out):
                    black.append(k)
                container.mux(stream.encode(canvas.fill(frame, k)))
                written += 1
            container.mux(stream.encode(None))
    except av.FFmpegError as exc:
        raise MediaError(f"libx264 failed while {what}: {exc}") from exc
    if written != count:
        raise MediaError(f"{what}: {written} frames arrived, {count} expected")
    return Segment(written, black)
