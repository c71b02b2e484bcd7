"""Inspecting media files with PyAV: the facts the output spec and QC check."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel


class VideoFacts(BaseModel):
    width: int
    height: int
    codec: str
    profile: str | None
    pix_fmt: str | None
    fps: float
    frames: int
    duration_s: float
    color_primaries: str | None
    color_trc: str | None
    colorspace: str | None


class AudioFacts(BaseModel):
    codec: str
    sample_rate: int
    channels: int
    duration_s: float


class MediaFacts(BaseModel):
    """What ``probe`` reports about a file; ``faststart`` is True when the moov atom precedes mdat."""

    path: str
    container_duration_s: float
    faststart: bool
    video: VideoFacts | None
    audio: AudioFacts | None


# libavutil/pixfmt.h enum values → names (PyAV returns the raw ints)
_PRIMARIES = {1: "bt709", 2: "unspecified", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020"}
_TRC = {1: "bt709", 2: "unspecified", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
        13: "iec61966-2-1", 14: "bt2020-10", 16: "smpte2084", 18: "arib-std-b67"}
_MATRIX = {0: "gbr", 1: "bt709", 2: "unspecified", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc"}


def _tag(value: object, names: dict[int, str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return names.get(value, str(value))
    return str(getattr(value, "name", value)).lower()


def _faststart(path: Path) -> bool:
    with open(path, "rb") as fh:
        offset = 0
        size_total = path.stat().st_size
        while offset < size_total:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            if kind == b"moov":
                return True
            if kind == b"mdat" or size < 8:
                return False
            offset += size
    return False


def probe(path: Path, count_frames: bool = True) -> MediaFacts:
    """Container, video and audio facts of ``path``. ``frames`` counts decoded-order packets of the video
    stream when ``count_frames`` (exact for H.264 without B-frame reordering issues: one packet a frame)."""
    import av

    with av.open(str(path)) as container:
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        video = audio = None
        vs = next(iter(container.streams.video), None)
        if vs is not None:
            cc = vs.codec_context
            frames = vs.frames
            if count_frames and not frames:
                frames = sum(1 for p in container.demux(vs) if p.size)
            rate = vs.base_rate or vs.average_rate or Fraction(0)  # r_frame_rate: the constant rate
            vdur = float(vs.duration * vs.time_base) if vs.duration else (frames / float(rate) if rate else 0.0)
            video = VideoFacts(
                width=cc.width,
                height=cc.height,
                codec=cc.name,
                profile=cc.profile,
                pix_fmt=cc.pix_fmt,
                fps=float(rate),
                frames=frames,
                duration_s=vdur,
                color_primaries=_tag(getattr(cc, "color_primaries", None), _PRIMARIES),
                color_trc=_tag(getattr(cc, "color_trc", None), _TRC),
                colorspace=_tag(getattr(cc, "colorspace", None), _MATRIX),
            )
    with av.open(str(path)) as container:
        as_ = next(iter(container.streams.audio), None)
        if as_ is not None:
            ac = as_.codec_context
            audio = AudioFacts(
                codec=ac.name,
                sample_rate=ac.sample_rate,
                channels=ac.channels,
                duration_s=float(as_.duration * as_.time_base) if as_.duration else 0.0,
            )
    return MediaFacts(path=str(path), container_duration_s=duration, faststart=_faststart(path), video=video, audio=audio)
