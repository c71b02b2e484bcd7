"""BRISQUE, the no-reference image quality score of Mittal, Moorthy & Bovik, "No-Reference Image Quality
Assessment in the Spatial Domain", IEEE Trans. Image Processing 21(12), 2012.

Features (36): at the image's scale and at half scale, the mean-subtracted contrast-normalized (MSCN)
coefficients ``(I − μ) / (σ + C)`` (μ, σ: 7×7 Gaussian-weighted local mean and deviation, σ_G = 7/6,
C = 1/255 on luma in [0, 1]) and their four neighbour products (horizontal, vertical, both diagonals); each
is fitted with an asymmetric generalized Gaussian by moment matching — the shape found on the paper's grid
α ∈ [0.2, 10) in steps of 0.001 — giving (α, σ²) for the MSCN and (α, mean, σ_l², σ_r²) for each product.
The features are scaled to [−1, 1] with the training ranges and fed to the trained ε-SVR (RBF kernel):
``score = Σ coef_i · exp(−γ‖x − sv_i‖²) − ρ``, about 0 for a pristine natural image and 100 for a badly
distorted one.

The model is the LIVE-trained one distributed with the ``brisque`` package (rehanguha/brisque 0.2.0,
Apache-2.0), converted to ``brisque_live.npz`` by ``scripts/build_brisque_model.py``; feature extraction
follows that package's (zero-padded local filters, bicubic half-scale) so its scores are reproduced, with
OpenCV filters and the closed-form grid fit instead of SciPy convolutions and root finding (≈ 20× faster).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).with_name("brisque_live.npz")
_ALPHAS = np.arange(0.2, 10.0, 0.001)


@lru_cache(maxsize=1)
def _model() -> dict[str, np.ndarray]:
    with np.load(MODEL) as data:
        return {k: data[k] for k in data.files}


@lru_cache(maxsize=1)
def _phi() -> np.ndarray:
    """ρ(α) = Γ(2/α)² / (Γ(1/α) Γ(3/α)) on the shape grid (the moment ratio the fit matches)."""
    lg = np.vectorize(math.lgamma)
    return np.exp(2 * lg(2 / _ALPHAS) - lg(1 / _ALPHAS) - lg(3 / _ALPHAS))


@lru_cache(maxsize=1)
def _kernel() -> np.ndarray:
    y, x = np.indices((7, 7)) - 3
    k = np.exp(-(x**2 + y**2) / (2 * (7 / 6) ** 2))
    return (k / k.sum()).astype(np.float32)


def mscn(gray: np.ndarray) -> np.ndarray:
    """MSCN coefficients of a float32 luma image in [0, 1] (zero padding at the borders)."""
    k = _kernel()
    mu = cv2.filter2D(gray, -1, k, borderType=cv2.BORDER_CONSTANT)
    var = cv2.filter2D(gray * gray, -1, k, borderType=cv2.BORDER_CONSTANT)
    return (gray - mu) / (np.sqrt(np.abs(mu * mu - var)) + 1 / 255)


def aggd(x: np.ndarray) -> tuple[float, float, float, float]:
    """Asymmetric generalized Gaussian fit by moment matching: (α, mean, σ_l², σ_r²)."""
    x = x.ravel().astype(np.float64)
    neg, pos = x[x < 0], x[x >= 0]
    left = float(np.mean(neg * neg)) if neg.size else 0.0
    right = float(np.mean(pos * pos)) if pos.size else 0.0
    if left <= 0 or right <= 0:
        return 10.0, 0.0, left, right  # a flat image: no spread on one side
    g = np.sqrt(left) / np.sqrt(right)
    r_hat = float(np.mean(np.abs(x))) ** 2 / float(np.mean(x * x))
    big_r = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = float(_ALPHAS[np.argmin((_phi() - big_r) ** 2)])
    g1, g2, g3 = (math.gamma(n / alpha) for n in (1, 2, 3))
    mean = (np.sqrt(right) - np.sqrt(left)) * np.sqrt(g1 / g3) * g2 / g1
    return alpha, float(mean), left, right


def features(gray: np.ndarray) -> np.ndarray:
    """The 36 BRISQUE features of a float32 luma image in [0, 1] (18 at full, 18 at half scale)."""
    out: list[float] = []
    for scale in (gray, cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)):
        m = mscn(scale)
        a, _, left, right = aggd(m)
        out += [a, (left + right) / 2]
        for prod in (m[:, :-1] * m[:, 1:], m[:-1, :] * m[1:, :], m[:-1, :-1] * m[1:, 1:], m[1:, :-1] * m[:-1, 1:]):
            out += list(aggd(prod))
    return np.array(out)


def brisque(rgb: np.ndarray) -> float:
    """BRISQUE score of an (h, w, 3) uint8 RGB image: lower is better, ≈ 0–100 (may leave that range).
    Luma is ITU-R BT.709 as in scikit-image's ``rgb2gray`` (what the model's training pipeline used)."""
    rgbf = rgb[..., :3].astype(np.float32) / 255.0
    gray = rgbf[..., 0] * 0.2125 + rgbf[..., 1] * 0.7154 + rgbf[..., 2] * 0.0721
    model = _model()
    lo, hi = model["min"], model["max"]
    x = -1 + 2.0 * (features(gray) - lo) / (hi - lo)
    d2 = np.sum((model["sv"].astype(np.float64) - x) ** 2, axis=1)
    return float(np.dot(model["coef"], np.exp(-model["gamma"] * d2)) - model["rho"])
