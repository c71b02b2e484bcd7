"""``local:technical`` — the offline image scorer (no key, no network, no model weights).

Scores one candidate image on what can be measured without knowing what it should show. Every sub-score is
0–100 (higher is better), computed on the image resized to :data:`ANALYSIS_WIDTH` pixels wide (so scores do
not depend on the delivery size):

* ``sharpness`` — variance of the Laplacian of luma (Pech-Pacheco et al., "Diatom autofocusing in
  brightfield microscopy: a comparative study", ICPR 2000), mapped logarithmically:
  ``100 · min(1, ln(1 + var) / ln(1 + SHARP_REF))``.
* ``exposure`` — clipped detail: the share of pixels with any channel at 254–255 (blown highlights) or
  luma ≤ 4 (crushed shadows): ``100 · (1 − min(1, clipped / CLIP_LIMIT))``.
* ``contrast`` — RMS contrast, the standard deviation of luma in [0, 1] (Peli, "Contrast in complex
  images", JOSA A 1990): ``100 · min(1, σ / CONTRAST_REF)``.
* ``colourfulness`` — Hasler & Süsstrunk, "Measuring colourfulness in natural images", SPIE 2003:
  ``M = √(σ_rg² + σ_yb²) + 0.3 · √(μ_rg² + μ_yb²)`` with ``rg = R − G``, ``yb = (R + G)/2 − B``;
  ``100 · min(1, M / 109)`` (109: their "extremely colourful" class boundary).
* ``borders`` — letterbox / pillarbox bars: matching runs of flat rows (top and bottom) or columns (left and
  right) — luma varying by less than 1 level — as a share of the frame:
  ``100 · (1 − min(1, share / BORDER_LIMIT))``.

``total`` is the weighted mean with :data:`WEIGHTS`. Scores are deterministic for a given image.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, Field

from storyreel.providers.base import LocalProvider

ANALYSIS_WIDTH = 1024
SHARP_REF = 2000.0
"""Laplacian variance (at :data:`ANALYSIS_WIDTH`) that scores 100: crisp text and line art."""
CLIP_LIMIT = 0.1
"""Share of clipped pixels at which exposure scores 0."""
CONTRAST_REF = 0.22
"""RMS contrast that scores 100 (a well-exposed photograph is typically 0.15–0.3)."""
COLOURFUL_REF = 109.0
BORDER_LIMIT = 0.2
"""Share of the frame in flat bars at which borders score 0."""
WEIGHTS = {"sharpness": 0.3, "exposure": 0.3, "contrast": 0.1, "colourfulness": 0.1, "borders": 0.2}
"""Weights of the total (sum 1): sharpness and clipping first — a soft image and blown highlights are what a
viewer sees first in a Ken Burns push-in, and neither can be repaired — then bars, which waste the frame;
contrast and colourfulness are matters of style and weigh least."""


class TechnicalScores(BaseModel):
    """One image's technical sub-scores and their weighted ``total``, each 0–100."""

    sharpness: float = Field(ge=0, le=100)
    exposure: float = Field(ge=0, le=100)
    contrast: float = Field(ge=0, le=100)
    colourfulness: float = Field(ge=0, le=100)
    borders: float = Field(ge=0, le=100)
    total: float = Field(ge=0, le=100)


class LocalTechnical(LocalProvider):
    """``score(image) -> TechnicalScores``; ``image`` is a path or an (h, w, 3) uint8 RGB array."""

    modality: ClassVar[str] = "scorer"
    code_version: ClassVar[str] = "local-technical/2"  # /2: declares its kind (the select stage weighs it)
    default_model: ClassVar[str] = "technical"
    kind: ClassVar[str] = "technical"
    """Which weight of the select stage's total this scorer's total takes (storyreel.stages.select)."""

    def identity(self) -> dict:
        """The model and every constant that moves a score (part of a score's cache key)."""
        return {"model": self.model, "weights": WEIGHTS, "refs": [ANALYSIS_WIDTH, SHARP_REF, CLIP_LIMIT, CONTRAST_REF, COLOURFUL_REF, BORDER_LIMIT]}

    def score(self, image: Path | np.ndarray) -> TechnicalScores:
        return technical_scores(analysis_rgb(image))


def analysis_rgb(image: Path | np.ndarray) -> np.ndarray:
    """An image file or (h, w, ≥3) uint8 RGB array, resized to :data:`ANALYSIS_WIDTH` wide (area filter).
    Raises ``ValueError`` for a file that is not a readable image."""
    import cv2

    if isinstance(image, np.ndarray):
        rgb = image[..., :3]
    else:  # OpenCV's PNG decode: ≈ 23 ms at 1080p against ≈ 32 ms through Pillow (measured on this machine)
        bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{image}: not an image OpenCV can read")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    if w != ANALYSIS_WIDTH:
        rgb = cv2.resize(rgb, (ANALYSIS_WIDTH, max(1, round(h * ANALYSIS_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def technical_scores(rgb: np.ndarray) -> TechnicalScores:
    """The sub-scores of an (h, w, 3) uint8 RGB image at the analysis size (formulas in the module text)."""
    import cv2

    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lap_var = float(cv2.Laplacian(luma, cv2.CV_64F).var())
    sharpness = 100.0 * min(1.0, float(np.log1p(lap_var) / np.log1p(SHARP_REF)))
    clipped = float(np.count_nonzero((rgb.max(axis=2) >= 254) | (luma <= 4))) / luma.size
    exposure = 100.0 * (1.0 - min(1.0, clipped / CLIP_LIMIT))
    contrast = 100.0 * min(1.0, float(luma.std()) / 255.0 / CONTRAST_REF)
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    m = float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))
    colourfulness = 100.0 * min(1.0, m / COLOURFUL_REF)
    borders = 100.0 * (1.0 - min(1.0, border_share(luma) / BORDER_LIMIT))
    parts = {"sharpness": sharpness, "exposure": exposure, "contrast": contrast, "colourfulness": colourfulness, "borders": borders}
    total = sum(WEIGHTS[k] * v for k, v in parts.items())
    return TechnicalScores(**{k: round(v, 2) for k, v in parts.items()}, total=round(total, 2))


def border_share(luma: np.ndarray, flat_sigma: float = 1.0) -> float:
    """Share of the frame in letterbox or pillarbox bars: flat rows at the top *and* the bottom (flat columns
    at the left *and* the right), of the same level, counted from each edge inwards. A flat band on one side
    only (a solid foreground) is part of the picture, not a bar."""
    h, w = luma.shape

    def run(lines: np.ndarray) -> int:
        flat = lines.std(axis=1) < flat_sigma
        return len(flat) if flat.all() else int(np.argmin(flat))

    def pair(lines: np.ndarray) -> int:
        a, b = run(lines), run(lines[::-1])
        if not a or not b or abs(float(lines[:a].mean()) - float(lines[-b:].mean())) > 8:
            return 0
        return a + b

    return min(1.0, pair(luma) / h + pair(luma.T) / w)
