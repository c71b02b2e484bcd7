"""``local:technical`` — the offline image scorer (no key, no network, no downloaded weights).

Scores one candidate image on what can be measured without knowing what it should show. Every sub-score is
0–100 (higher is better). The image is decoded at :data:`ANALYSIS_WIDTH` (1920-wide files straight at half
size, so scores do not depend on the delivery size); the statistics that need no fine detail run on a
further halved copy (:data:`DETAIL_WIDTH`):

* ``sharpness`` — the mean of two measures: the variance of the Laplacian of luma (Pech-Pacheco et al.,
  "Diatom autofocusing in brightfield microscopy: a comparative study", ICPR 2000), mapped
  ``100 · min(1, ln(1 + var) / ln(1 + SHARP_REF))``; and the blur effect of Crété-Roffet et al., "The blur
  effect: perception and estimation with a new no-reference perceptual blur metric", SPIE 2007
  (``skimage.measure.blur_effect``, 0 sharp … 1 blurred), mapped ``100 · clip((BLUR_MAX − b) / (BLUR_MAX −
  BLUR_SHARP), 0, 1)``.
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
* ``quality`` — BRISQUE (Mittal, Moorthy & Bovik, IEEE TIP 2012; :mod:`.brisque`, the LIVE-trained model
  shipped with storyreel): ``100 − clip(BRISQUE, 0, 100)``. It was trained on distorted photographs: it
  rewards natural-image statistics, so flat vector art scores lower than a photograph of equal craft, and
  it weighs little.
* ``palette_fit`` — only when the project has a palette: the image's five dominant colours (k-means in
  RGB, weighted by their share of pixels) against the palette in CIE L*a*b*, each at its CIEDE2000
  distance to the nearest palette colour (Sharma, Wu & Dalal, "The CIEDE2000 color-difference formula",
  Color Res. Appl. 2005; ``skimage.color.deltaE_ciede2000``): ``100 · (1 − clip((ΔE − PALETTE_NEAR) /
  (PALETTE_FAR − PALETTE_NEAR), 0, 1))`` of the weighted mean ΔE.

``total`` is the weighted mean with :data:`WEIGHTS` (``palette_fit``'s weight shared out among the others
when there is no palette). Scores are deterministic for a given image and palette.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, Field

from storyreel.providers.base import LocalProvider

ANALYSIS_WIDTH = 960
DETAIL_WIDTH = 480
SHARP_REF = 2000.0
"""Laplacian variance (at :data:`ANALYSIS_WIDTH`) that scores 100: crisp text and line art."""
BLUR_SHARP, BLUR_MAX = 0.2, 0.6
"""Blur effect (at :data:`DETAIL_WIDTH`) scoring 100 and 0: crisp art measures ≈ 0.14, a σ = 2 px blur ≈ 0.43."""
CLIP_LIMIT = 0.1
"""Share of clipped pixels at which exposure scores 0."""
CONTRAST_REF = 0.22
"""RMS contrast that scores 100 (a well-exposed photograph is typically 0.15–0.3)."""
COLOURFUL_REF = 109.0
BORDER_LIMIT = 0.2
"""Share of the frame in flat bars at which borders score 0."""
PALETTE_NEAR, PALETTE_FAR = 5.0, 40.0
"""CIEDE2000 distances scoring 100 (≈ a just-noticeable difference at a glance) and 0 (another colour)."""
WEIGHTS = {"sharpness": 0.25, "exposure": 0.25, "borders": 0.15, "quality": 0.1, "palette_fit": 0.1, "contrast": 0.075,
           "colourfulness": 0.075}
"""Weights of the total (sum 1): sharpness and clipping first — a soft image and blown highlights are what a
viewer sees first in a Ken Burns push-in, and neither can be repaired — then bars, which waste the frame;
the no-reference quality and the palette next; contrast and colourfulness are matters of style."""


class TechnicalScores(BaseModel):
    """One image's technical sub-scores and their weighted ``total``, each 0–100 (``palette_fit`` None
    without a palette)."""

    sharpness: float = Field(ge=0, le=100)
    exposure: float = Field(ge=0, le=100)
    contrast: float = Field(ge=0, le=100)
    colourfulness: float = Field(ge=0, le=100)
    borders: float = Field(ge=0, le=100)
    quality: float = Field(ge=0, le=100)
    palette_fit: float | None = Field(default=None, ge=0, le=100)
    total: float = Field(ge=0, le=100)


class LocalTechnical(LocalProvider):
    """``score(image, palette) -> TechnicalScores``; ``image`` is a path or an (h, w, 3) uint8 RGB array,
    ``palette`` a list of ``#RRGGBB`` colours (or None)."""

    modality: ClassVar[str] = "scorer"
    code_version: ClassVar[str] = "local-technical/3"  # /3: blur effect, BRISQUE and palette fit; decoded at 960
    default_model: ClassVar[str] = "technical"
    kind: ClassVar[str] = "technical"
    """Which weight of the select stage's total this scorer's total takes (storyreel.stages.select)."""

    def identity(self) -> dict:
        """The model and every constant that moves a score (part of a score's cache key)."""
        return {"model": self.model, "weights": WEIGHTS, "refs": [ANALYSIS_WIDTH, DETAIL_WIDTH, SHARP_REF, BLUR_SHARP, BLUR_MAX, CLIP_LIMIT,
                                                                  CONTRAST_REF, COLOURFUL_REF, BORDER_LIMIT, PALETTE_NEAR, PALETTE_FAR]}

    def score(self, image: Path | np.ndarray, palette: list[str] | None = None) -> TechnicalScores:
        return technical_scores(analysis_rgb(image), palette)


def analysis_rgb(image: Path | np.ndarray) -> np.ndarray:
    """An image file or (h, w, ≥3) uint8 RGB array at :data:`ANALYSIS_WIDTH` wide (area filter; a file at
    least twice as wide is decoded at half size, which costs less than decoding it whole). Raises
    ``ValueError`` for a file that is not a readable image."""
    import cv2

    if isinstance(image, np.ndarray):
        rgb = image[..., :3]
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(image) as im:  # the header only: the size
                width = im.width
        except (OSError, UnidentifiedImageError):
            raise ValueError(f"{image}: not an image") from None
        flag = cv2.IMREAD_REDUCED_COLOR_2 if width >= 2 * ANALYSIS_WIDTH else cv2.IMREAD_COLOR
        bgr = cv2.imread(str(image), flag)
        if bgr is None:
            raise ValueError(f"{image}: not an image OpenCV can read")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    if w != ANALYSIS_WIDTH:
        rgb = cv2.resize(rgb, (ANALYSIS_WIDTH, max(1, round(h * ANALYSIS_WIDTH / w))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def technical_scores(rgb: np.ndarray, palette: list[str] | None = None) -> TechnicalScores:
    """The sub-scores of an (h, w, 3) uint8 RGB image at the analysis size (formulas in the module text)."""
    import cv2
    from skimage.measure import blur_effect

    from storyreel.providers.scorer.brisque import brisque

    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = luma.shape
    small = cv2.resize(rgb, (DETAIL_WIDTH, max(1, round(h * DETAIL_WIDTH / w))), interpolation=cv2.INTER_AREA)
    small_luma = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    lap_var = float(cv2.Laplacian(luma, cv2.CV_32F).var())
    laplacian = min(1.0, float(np.log1p(lap_var) / np.log1p(SHARP_REF)))
    blur = float(blur_effect(small_luma))
    sharpness = 50.0 * laplacian + 50.0 * float(np.clip((BLUR_MAX - blur) / (BLUR_MAX - BLUR_SHARP), 0, 1))
    red, green, blue = cv2.split(rgb)
    brightest = cv2.max(cv2.max(red, green), blue)  # per-pixel max channel (numpy's max over the last axis is 10× slower)
    clipped = float(np.count_nonzero((brightest >= 254) | (luma <= 4))) / luma.size
    exposure = 100.0 * (1.0 - min(1.0, clipped / CLIP_LIMIT))
    contrast = 100.0 * min(1.0, float(small_luma.std()) / 255.0 / CONTRAST_REF)
    r, g, b = (small[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    m = float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))
    colourfulness = 100.0 * min(1.0, m / COLOURFUL_REF)
    borders = 100.0 * (1.0 - min(1.0, border_share(luma) / BORDER_LIMIT))
    quality = 100.0 - float(np.clip(brisque(small), 0, 100))
    parts: dict[str, float | None] = {"sharpness": sharpness, "exposure": exposure, "contrast": contrast, "colourfulness": colourfulness,
                                      "borders": borders, "quality": quality, "palette_fit": palette_fit(small, palette) if palette else None}
    weights = {k: WEIGHTS[k] for k, v in parts.items() if v is not None}
    total = sum(weights[k] * parts[k] for k in weights) / sum(weights.values())  # type: ignore[operator]
    return TechnicalScores(**{k: (None if v is None else round(v, 2)) for k, v in parts.items()}, total=round(total, 2))


def palette_fit(rgb: np.ndarray, palette: list[str], k: int = 5) -> float:
    """0–100: how close the image's ``k`` dominant colours (weighted by share) are to ``palette`` (``#RRGGBB``)
    in CIEDE2000 (module text). Raises ``ValueError`` for a colour that is not ``#RRGGBB``."""
    import cv2
    from skimage.color import deltaE_ciede2000, rgb2lab

    pal = np.array([[int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)] for c in palette], np.float64) / 255.0
    px = cv2.resize(rgb, (64, max(1, round(rgb.shape[0] * 64 / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
    px = px.reshape(-1, 3).astype(np.float32)
    k = min(k, len(px))
    cv2.setRNGSeed(0)  # k-means++ seeding: deterministic scores
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centers = cv2.kmeans(px, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    share = np.bincount(labels.ravel(), minlength=k) / len(labels)
    lab = rgb2lab(centers[None].astype(np.float64) / 255.0)[0]
    ref = rgb2lab(pal[None])[0]
    nearest = deltaE_ciede2000(lab[:, None, :], ref[None, :, :]).min(axis=1)
    mean = float((share * nearest).sum())
    return 100.0 * (1.0 - float(np.clip((mean - PALETTE_NEAR) / (PALETTE_FAR - PALETTE_NEAR), 0, 1)))


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
