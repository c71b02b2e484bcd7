"""The yuv420p frame path keeps colours: still → Y'CbCr warp → ffmpeg (layers, tags) → H.264 → decoded RGB."""

from __future__ import annotations

import subprocess

import numpy as np
from PIL import Image

from storyreel.media.ffmpeg import Encoding, Layer, encode_args, encode_frames, ffmpeg_exe
from storyreel.media.motion import ShotFrames, Still
from storyreel.media.timeline import KenBurns, ShotTiming

W, H = 320, 180
BARS = [(235, 235, 235), (200, 40, 40), (40, 180, 60), (40, 60, 200), (230, 200, 40), (30, 30, 30)]


def _decode_rgb(path, frames: int) -> np.ndarray:
    """Decode with the BT.709 limited-range matrix, as a player honouring the stream's tags does."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", "scale=in_color_matrix=bt709:in_range=tv,format=rgb24",
         "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(frames, H, W, 3)


def test_colour_bars_and_layer_survive_the_encode(tmp_path):
    rgb = np.zeros((H, W, 3), dtype=np.uint8)
    bar = W // len(BARS)
    for i, c in enumerate(BARS):
        rgb[:, i * bar:(i + 1) * bar] = c
    timing = ShotTiming("s", 0, 0, 10, 0, 0, 0.0, 0.3, KenBurns(1.0, 1.0))
    shot = ShotFrames(Still.from_rgb(rgb), timing, W, H)
    layer = tmp_path / "layer.png"
    Image.new("RGBA", (60, 30), (40, 200, 90, 255)).save(layer)
    out = tmp_path / "seg.mp4"
    args = encode_args([Layer(layer, 130, 140, 3, 6)], out, Encoding(crf=12), W, H, 10)
    assert encode_frames((shot.frame(k) for k in range(10)), args, what="test").frames == 10
    frames = _decode_rgb(out, 10)
    for i, c in enumerate(BARS):
        patch = frames[0, 20:120, i * bar + 10:(i + 1) * bar - 10].reshape(-1, 3).mean(axis=0)
        assert np.abs(patch - c).max() < 6, (c, patch)
    layer_patch = frames[4, 145:165, 140:180].reshape(-1, 3).mean(axis=0)
    # a BT.601 or untagged layer conversion lands ~20 levels off in green
    assert np.abs(layer_patch - (40, 200, 90)).max() < 5, layer_patch
    # the layer is only on its frame range
    assert np.abs(frames[0, 145:165, 140:180].reshape(-1, 3).mean(axis=0) - layer_patch).max() > 40
