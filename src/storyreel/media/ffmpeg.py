"""ffmpeg argv builders and the one runner. ffmpeg comes from the ``imageio-ffmpeg`` wheel.

Segments follow the measured recipe in RENDER-NOTES.md: each still is decoded once and repeated with
the ``loop`` filter, timestamps are rebuilt with ``settb=1/30,setpts=N``, the Ken Burns move is a
per-frame ``scale`` (``eval=frame``) followed by a ``crop`` whose x/y are computed from the frame number
``n`` (not from ``iw``, which crop evaluates only once). Every segment uses identical encoder settings
so the final concat is a stream copy.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from storyreel.core.errors import ProviderError
from storyreel.media.timeline import A_PART, CROSSFADE_FRAMES, FADE_FRAMES, ShotTiming


class MediaError(ProviderError):
    """ffmpeg failed; the message carries the tail of its log."""


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled by imageio-ffmpeg (``IMAGEIO_FFMPEG_EXE`` overrides)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, what: str) -> None:
    """Run ``ffmpeg -hide_banner -nostdin -loglevel error -y <args>``. Raises :class:`MediaError`."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise MediaError(f"ffmpeg failed while {what} (exit {proc.returncode}):\n{tail}")


@dataclass(frozen=True)
class Encoding:
    """H.264 settings shared by every segment (identical settings make the concat a stream copy)."""

    preset: str = "veryfast"
    crf: int = 20
    threads: int = 1
    fps: int = 30

    def video_args(self) -> list[str]:
        return [
            "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-r", str(self.fps), "-threads", str(self.threads),
            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
            "-video_track_timescale", str(self.fps * 512), "-an",
        ]

    def identity(self) -> dict:
        """The settings that change the encoded bytes' meaning (part of node keys)."""
        return {"codec": "libx264", "preset": self.preset, "crf": self.crf, "fps": self.fps, "profile": "high"}


@dataclass(frozen=True)
class Layer:
    """An RGBA image composited at (x, y) on frames [first, last] of a segment."""

    path: Path
    x: int
    y: int
    first: int
    last: int


def _kenburns(label: str, timing: ShotTiming, first: int, frames: int, width: int, height: int, fps: int) -> str:
    """Filter chain: the still ``label`` looped to ``frames`` frames moving along the shot's camera path,
    starting at slot-local frame ``first``."""
    kb = timing.camera
    p = f"((n+{first + timing.pre})/{max(1, timing.span - 1)})"
    z = f"({kb.z0:.6f}+{kb.z1 - kb.z0:.6f}*{p})"
    fx = f"({kb.fx0:.6f}+{kb.fx1 - kb.fx0:.6f}*{p})"
    fy = f"({kb.fy0:.6f}+{kb.fy1 - kb.fy0:.6f}*{p})"
    sw, sh = f"round({width}*{z})", f"round({height}*{z})"
    chain = f"[{label}]format=rgb24,loop=loop={frames - 1}:size=1:start=0,settb=1/{fps},setpts=N"
    if kb.z0 == kb.z1 == 1.0:
        return chain
    return (
        f"{chain},scale=w='{sw}':h='{sh}':eval=frame:flags=bicubic,"
        f"crop=w={width}:h={height}:x='({sw}-{width})*{fx}':y='({sh}-{height})*{fy}':exact=1"
    )


_TO_BT709 = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)


def clip_args(image: Path, timing: ShotTiming, layers: list[Layer], out: Path, enc: Encoding, width: int, height: int) -> list[str]:
    """argv for a shot's body segment: Ken Burns over the body frames, overlays and subtitle layers,
    fade from black (first shot) / to black (last shot)."""
    frames = timing.body_frames
    args = ["-i", str(image)]
    for layer in layers:
        args += ["-i", str(layer.path)]
    graph = [_kenburns("0:v", timing, timing.body_start, frames, width, height, enc.fps) + "[v0]"]
    for i, layer in enumerate(layers, start=1):
        graph.append(
            f"[v{i - 1}][{i}:v]overlay=x={layer.x}:y={layer.y}:format=rgb:eval=init"
            f":enable='between(n,{layer.first},{layer.last})'[v{i}]"
        )
    tail = [f"[v{len(layers)}]"]
    post = []
    if timing.fade_in:
        post.append(f"fade=t=in:start_frame=0:nb_frames={FADE_FRAMES}")
    if timing.fade_out:
        post.append(f"fade=t=out:start_frame={frames - FADE_FRAMES}:nb_frames={FADE_FRAMES}")
    post.append(_TO_BT709)
    graph.append(tail[0] + ",".join(post) + "[out]")
    return [*args, "-filter_complex", ";".join(graph), "-map", "[out]", "-frames:v", str(frames), *enc.video_args(), str(out)]


def transition_args(image_a: Path, a: ShotTiming, image_b: Path, b: ShotTiming, out: Path, enc: Encoding, width: int, height: int) -> list[str]:
    """argv for a crossfade segment: the end of shot a's motion blended into the start of shot b's."""
    n = CROSSFADE_FRAMES
    graph = [
        _kenburns("0:v", a, a.slot - A_PART, n, width, height, enc.fps) + f",{_TO_BT709}[a]",
        _kenburns("1:v", b, -A_PART, n, width, height, enc.fps) + f",{_TO_BT709}[b]",
        f"[a][b]xfade=transition=fade:duration={n / enc.fps:.6f}:offset=0,format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv[out]",
    ]
    return [
        "-i", str(image_a), "-i", str(image_b), "-filter_complex", ";".join(graph), "-map", "[out]",
        "-frames:v", str(n), *enc.video_args(), str(out),
    ]


def concat_mux_args(list_file: Path, audio: Path, out: Path, duration_s: float, audio_filter: str) -> list[str]:
    """argv for the final file: stream-copy concat of the segments + one AAC 48 kHz audio pass, +faststart."""
    return [
        "-f", "concat", "-safe", "0", "-i", str(list_file), "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
        "-af", audio_filter, "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2",
        "-t", f"{duration_s:.6f}", "-movflags", "+faststart", str(out),
    ]


def default_threads(workers: int) -> int:
    """x264 threads per worker so that threads × workers ≤ cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))
