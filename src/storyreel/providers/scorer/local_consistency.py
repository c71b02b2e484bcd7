"""``local:consistency`` — how much a candidate looks like the reference images of the entities its shot
shows (seed 004 stories 7.1, 7.4, 7.8), offline, no weights. Two sub-scores 0–100, compared at
:data:`WIDTH` px wide:

* ``colour`` — the correlation of the hue–saturation histograms (HSV, 30 × 32 bins, normalized; OpenCV
  ``compareHist`` with ``HISTCMP_CORREL``): ``100 · max(0, r)``. The same character keeps its colours
  wherever it stands in the frame.
* ``features`` — ORB keypoints (Rublee et al., "ORB: an efficient alternative to SIFT or SURF", ICCV
  2011; 1,000 per image) matched by Hamming distance with cross-checking; the share of the reference's
  keypoints with a match closer than :data:`MATCH_DISTANCE`: ``100 · min(1, share / MATCH_SHARE)``. Shapes
  and markings the reference has must appear.

``total`` is their mean, averaged over the references. A verdict depends on the candidate's and the
references' bytes (the select stage's cache key holds both hashes).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from storyreel.providers.base import LocalProvider

WIDTH = 512
MATCH_DISTANCE = 48
"""Hamming distance (of 256 bits) under which an ORB match counts."""
MATCH_SHARE = 0.25
"""Share of the reference's keypoints matched that scores 100."""


def _load(path: Path):  # noqa: ANN202
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: not an image OpenCV can read")
    h, w = bgr.shape[:2]
    return cv2.resize(bgr, (WIDTH, max(1, round(h * WIDTH / w))), interpolation=cv2.INTER_AREA)


def _histogram(bgr):  # noqa: ANN001, ANN202
    import cv2

    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [30, 32], [0, 180, 0, 256])
    return cv2.normalize(hist, hist).flatten()


def _features(bgr):  # noqa: ANN001, ANN202
    import cv2

    orb = cv2.ORB_create(nfeatures=1000)
    return orb.detectAndCompute(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), None)


class LocalConsistency(LocalProvider):
    """``score(candidate, references) -> {"colour", "features", "total"}`` (0–100 each)."""

    modality: ClassVar[str] = "scorer"
    code_version: ClassVar[str] = "local-consistency/1"
    default_model: ClassVar[str] = "consistency"
    kind: ClassVar[str] = "consistency"

    def identity(self) -> dict:
        return {"model": self.model, "refs": [WIDTH, MATCH_DISTANCE, MATCH_SHARE]}

    def score(self, candidate: Path, references: list[Path]) -> dict[str, float]:
        """Raises ``ValueError`` when no reference is given or a file is not an image."""
        import cv2

        if not references:
            raise ValueError("no reference image to compare with")
        cand = _load(candidate)
        cand_hist, (_, cand_desc) = _histogram(cand), _features(cand)
        colours, features = [], []
        for ref_path in references:
            ref = _load(ref_path)
            colours.append(100.0 * max(0.0, float(cv2.compareHist(_histogram(ref), cand_hist, cv2.HISTCMP_CORREL))))
            ref_kp, ref_desc = _features(ref)
            if ref_desc is None or cand_desc is None or not ref_kp:
                features.append(0.0)
                continue
            matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(ref_desc, cand_desc)
            share = sum(m.distance < MATCH_DISTANCE for m in matches) / len(ref_kp)
            features.append(100.0 * min(1.0, share / MATCH_SHARE))
        colour, feature = float(np.mean(colours)), float(np.mean(features))
        return {"colour": round(colour, 2), "features": round(feature, 2), "total": round((colour + feature) / 2, 2)}
