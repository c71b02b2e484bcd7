"""Offline scores of a vendor clip, to choose among several attempts (issue 26, FR-040, story 9.2).

Each score is 0–100 (higher is better) and named after the VBench dimension it approximates (Huang et al.,
"VBench: Comprehensive Benchmark Suite for Video Generative Models", CVPR 2024); these are cheap stand-ins
computed on frames decoded at :data:`WIDTH` px, not VBench's learned models:

* ``subject_consistency`` — does the clip start from the shot's image: SSIM (``skimage.metrics``) of the first
  frame's luma against the image's, both cover-fitted to the same size; ``100 · max(0, SSIM)``;
* ``temporal_flickering`` — frame-to-frame brightness jumps: the standard deviation of the change of mean luma
  between consecutive frames, ``100 · (1 − min(1, σ / FLICKER_REF))``;
* ``motion_smoothness`` — Farnebäck optical flow (OpenCV) between consecutive frames; how much the flow field
  changes from one pair to the next relative to its size: ``100 · (1 − min(1, mean‖Δflow‖ / (mean‖flow‖ + 0.5)))``;
* ``dynamic_degree`` — how much moves at all: ``100 · min(1, median‖flow‖ / DYNAMIC_REF)`` (a still "video"
  scores 0);
* ``imaging_quality`` — the offline image scorer's ``total`` (:mod:`.local_technical`) on the middle frame;
* black frames (mean luma ≤ 20 of 255) and frozen frames (no pixel change) subtract their share × 100.

``total`` = :data:`WEIGHTS`-weighted mean minus those penalties, floored at 0. Deterministic for a given clip.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from storyreel.core.atomic import atomic_path

WIDTH = 160
FLICKER_REF = 6.0  # σ of mean-luma steps (0–255) at which flicker scores 0
DYNAMIC_REF = 0.8  # median flow (px per frame at WIDTH) at which a clip counts as fully dynamic
WEIGHTS = {"subject_consistency": 0.3, "motion_smoothness": 0.2, "temporal_flickering": 0.15, "dynamic_degree": 0.15,
           "imaging_quality": 0.2}


def _fit(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = gray.shape[:2]
    s = max(width / w, height / h)
    sw, sh = max(width, round(w * s)), max(height, round(h * s))
    scaled = cv2.resize(gray, (sw, sh), interpolation=cv2.INTER_AREA)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return scaled[y0:y0 + height, x0:x0 + width]


def score_clip(path: Path, start_image: Path) -> dict[str, float]:
    """The scores of the clip at ``path`` (see the module) against the shot's ``start_image``. Raises
    ``ValueError`` for a clip without frames."""
    import av
    from PIL import Image
    from skimage.metrics import structural_similarity

    from storyreel.providers.scorer.local_technical import analysis_rgb, technical_scores

    grays: list[np.ndarray] = []
    middle_rgb = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        for index, frame in enumerate(container.decode(stream)):
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            small = cv2.resize(rgb, (WIDTH, max(2, round(h * WIDTH / w))), interpolation=cv2.INTER_AREA)
            grays.append(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
            if middle_rgb is None and (index >= total // 2 if total else index == 0):
                middle_rgb = rgb
    if len(grays) < 2:
        raise ValueError(f"{path.name}: fewer than two frames")
    height = grays[0].shape[0]
    with Image.open(start_image) as im:
        start = _fit(np.asarray(im.convert("L")), WIDTH, height)
    ssim = float(structural_similarity(start, grays[0], data_range=255))
    means = np.array([g.mean() for g in grays])
    flicker = float(np.std(np.diff(means)))
    flows = [cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0) for a, b in zip(grays, grays[1:], strict=False)]
    mags = [float(np.linalg.norm(f, axis=2).mean()) for f in flows]
    changes = [float(np.linalg.norm(b - a, axis=2).mean()) for a, b in zip(flows, flows[1:], strict=False)] or [0.0]
    frozen = sum(1 for a, b in zip(grays, grays[1:], strict=False) if not np.any(cv2.absdiff(a, b) > 1)) / (len(grays) - 1)
    black = sum(1 for m in means if m <= 20) / len(grays)
    scores = {
        "subject_consistency": round(100 * max(0.0, ssim), 2),
        "temporal_flickering": round(100 * (1 - min(1.0, flicker / FLICKER_REF)), 2),
        "motion_smoothness": round(100 * (1 - min(1.0, float(np.mean(changes)) / (float(np.mean(mags)) + 0.5))), 2),
        "dynamic_degree": round(100 * min(1.0, float(np.median(mags)) / DYNAMIC_REF), 2),
        "imaging_quality": round(float(technical_scores(analysis_rgb(middle_rgb if middle_rgb is not None else grays[0]), None).total), 2),
        "black_frames": round(black, 4), "frozen_frames": round(frozen, 4),
    }
    weighted = sum(scores[k] * w for k, w in WEIGHTS.items()) / sum(WEIGHTS.values())
    scores["total"] = round(max(0.0, weighted - 100 * (black + frozen)), 2)
    return scores


def frame_strip(path: Path, out: Path, *, count: int = 3, height: int = 360) -> Path:
    """``count`` frames of the clip at ``path`` — at 10 %, 50 % and 90 % of its length for three — side by side,
    ``height`` px high, separated by 8 px gaps, written to ``out`` as JPEG (what the VLM judge sees of one attempt).
    Raises ``ValueError`` for a clip without frames."""
    import av
    from PIL import Image

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
    if not frames:
        raise ValueError(f"{path.name}: no frames")
    picks = [frames[min(len(frames) - 1, int(len(frames) * (0.1 + 0.8 * i / max(1, count - 1))))] for i in range(count)]
    tiles = [Image.fromarray(f).resize((max(1, round(f.shape[1] * height / f.shape[0])), height), Image.LANCZOS) for f in picks]
    strip = Image.new("RGB", (sum(t.width for t in tiles) + 8 * (count - 1), height), (0, 0, 0))
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width + 8
    with atomic_path(out) as tmp:
        strip.save(tmp, format="JPEG", quality=88)
    return out
