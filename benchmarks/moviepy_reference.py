"""MoviePy 2.x reference render, written the way the peer tools write it (benchmark only).

Run in its own virtualenv (MoviePy 2.2 pins Pillow < 12, storyreel uses a newer one):
``python moviepy_reference.py SPEC.json``. SPEC holds the same timeline storyreel rendered: frame size,
fps, each shot's still, duration, Ken Burns zoom/pan and the crossfade, and the narration mix. Each shot
is an ImageClip resized per frame (the Ken Burns zoom), placed by a per-frame position (the pan),
composited onto the frame size, cross-faded into the next with ``CrossFadeIn`` and joined by
``concatenate_videoclips(..., padding=-crossfade)``; ``write_videofile`` encodes with the same x264
settings (veryfast, CRF 20) as storyreel.
"""

from __future__ import annotations

import json
import sys

from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, concatenate_videoclips, vfx


def shot_clip(shot: dict, width: int, height: int, crossfade: float, first: bool):  # noqa: ANN201
    d = shot["duration_s"]
    z0, z1 = shot["zoom"]
    fx0, fx1 = shot["fx"]
    fy0, fy1 = shot["fy"]
    base = ImageClip(shot["image"]).with_duration(d)
    sw, sh = base.size
    cover = max(width / sw, height / sh)

    def zoom(t: float) -> float:
        return cover * (z0 + (z1 - z0) * t / d)

    def position(t: float) -> tuple[float, float]:
        s = zoom(t)
        p = t / d
        return (-(sw * s - width) * (fx0 + (fx1 - fx0) * p), -(sh * s - height) * (fy0 + (fy1 - fy0) * p))

    moving = base.resized(zoom).with_position(position)
    clip = CompositeVideoClip([moving], size=(width, height)).with_duration(d)
    if not first and crossfade:
        clip = clip.with_effects([vfx.CrossFadeIn(crossfade)])
    return clip


def main(spec_path: str) -> None:
    spec = json.load(open(spec_path, encoding="utf-8"))
    w, h, xf = spec["width"], spec["height"], spec["crossfade_s"]
    clips = [shot_clip(s, w, h, xf, i == 0) for i, s in enumerate(spec["shots"])]
    video = concatenate_videoclips(clips, method="compose", padding=-xf).with_audio(AudioFileClip(spec["audio"]))
    video.write_videofile(
        spec["out"], fps=spec["fps"], codec="libx264", preset="veryfast", ffmpeg_params=["-crf", "20", "-pix_fmt", "yuv420p"],
        audio_codec="aac", threads=spec.get("threads", 2), logger=None,
    )


if __name__ == "__main__":
    main(sys.argv[1])
