"""``local:technical``: the offline scorer ranks a blurred, over-exposed or letterboxed copy of every shot of
two real inputs below the original, and its sub-scores respond to what they measure."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from storyreel.providers.registry import resolve
from storyreel.providers.scorer.local_technical import LocalTechnical, TechnicalScores, border_share
from tests.conftest import INPUTS, cli_json


@pytest.fixture(scope="module")
def stills(tmp_path_factory) -> list[tuple[str, np.ndarray]]:
    """Every shot's image of two real inputs (a fable script and the Turkish chapter JSON), made offline."""
    ws = tmp_path_factory.mktemp("scorer")
    out = []
    for name in ("hare-and-tortoise.txt", "chapters-bitcoin-tr.json"):
        project = cli_json("plan", str(INPUTS / name), workspace=ws)["project_id"]
        cli_json("imagegen", project, workspace=ws)
        images = sorted((ws / "projects" / project / "images").glob("*.png"))
        assert images
        out += [(f"{project}/{p.stem}", np.asarray(Image.open(p).convert("RGB"))) for p in images]
    return out


def blurred(rgb: np.ndarray) -> np.ndarray:
    """Out of focus: a Gaussian blur of σ = 4 px at 1080p."""
    return cv2.GaussianBlur(rgb, (0, 0), 4)


def over_exposed(rgb: np.ndarray, blown: float = 0.15) -> np.ndarray:
    """Over-exposed: linear light pushed until the brightest 15 % of pixels clip (highlights blown)."""
    lin = (rgb.astype(np.float32) / 255.0) ** 2.2
    gain = 1.0 / max(1e-4, float(np.quantile(lin.max(axis=2), 1 - blown)))
    return (np.clip(lin * gain, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)


def letterboxed(rgb: np.ndarray) -> np.ndarray:
    """The picture squeezed between black bars of 12 % of the height at the top and the bottom."""
    h, w = rgb.shape[:2]
    out = np.zeros_like(rgb)
    bar = int(h * 0.12)
    out[bar:h - bar] = cv2.resize(rgb, (w, h - 2 * bar), interpolation=cv2.INTER_AREA)
    return out


@pytest.mark.parametrize("degrade", [blurred, over_exposed, letterboxed])
def test_a_degraded_copy_ranks_below_the_original_for_every_shot(stills, degrade):
    scorer = resolve("scorer", "local:technical")
    assert isinstance(scorer, LocalTechnical)
    worse = []
    for shot, rgb in stills:
        original, copy = scorer.score(rgb), scorer.score(degrade(rgb))
        if not copy.total < original.total:
            worse.append((shot, original, copy))
    assert worse == [], worse
    assert len(stills) >= 12


def test_each_sub_score_responds_to_what_it_measures(stills):
    scorer = LocalTechnical()
    _, rgb = stills[1]
    original = scorer.score(rgb)
    assert scorer.score(blurred(rgb)).sharpness < original.sharpness - 10
    assert scorer.score(over_exposed(rgb)).exposure < original.exposure - 30
    assert scorer.score(letterboxed(rgb)).borders < original.borders - 50
    grey = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert scorer.score(grey).colourfulness < 3 < original.colourfulness
    flat = np.full_like(rgb, 128)
    assert scorer.score(flat).contrast == 0 and scorer.score(flat).sharpness == 0
    assert TechnicalScores.model_validate(original.model_dump()) == original  # every sub-score within 0–100


def test_bars_must_face_each_other_to_count():
    rng = np.random.default_rng(3)
    picture = rng.integers(40, 200, (540, 960), dtype=np.uint8)
    boxed = picture.copy()
    boxed[:60], boxed[-60:] = 0, 0
    assert border_share(boxed) == pytest.approx(120 / 540, abs=0.01)
    pillars = picture.copy()
    pillars[:, :100], pillars[:, -100:] = 16, 16
    assert border_share(pillars) == pytest.approx(200 / 960, abs=0.01)
    ground = picture.copy()
    ground[-150:] = 30  # a solid foreground at the bottom only: part of the picture
    assert border_share(ground) == 0.0
    assert border_share(picture) == 0.0


def test_scores_do_not_depend_on_the_delivery_size(stills):
    scorer = LocalTechnical()
    _, rgb = stills[0]
    half = cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)
    a, b = scorer.score(rgb), scorer.score(half)
    assert abs(a.total - b.total) < 5
    assert scorer.identity()["weights"] and scorer.provider_id == "local:technical"


def test_a_file_path_is_scored_like_its_pixels(stills, tmp_path: Path):
    _, rgb = stills[2]
    path = tmp_path / "candidate.png"
    Image.fromarray(rgb).save(path)
    assert LocalTechnical().score(path) == LocalTechnical().score(rgb)


def test_an_unreadable_candidate_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "candidate.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ValueError, match="candidate.png"):
        LocalTechnical().score(bad)


def _scene(blur: float) -> np.ndarray:
    """A deterministic textured 480×270 scene (noise smoothed at σ 3 px, colour waves), optionally blurred."""
    rng = np.random.default_rng(7)
    img = cv2.GaussianBlur(rng.normal(128, 40, (270, 480, 3)), (0, 0), 3)
    yy, xx = np.mgrid[0:270, 0:480]
    img[..., 0] += 60 * np.sin(xx / 23.0)
    img[..., 2] += 40 * np.cos(yy / 17.0)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(img, (0, 0), blur) if blur else img


@pytest.mark.parametrize(("blur", "reference"), [(0, 79.763), (1.5, 82.780), (3, 90.835)])
def test_brisque_reproduces_the_reference_implementation(blur, reference):
    """The reference values are the ``brisque`` package's (rehanguha/brisque 0.2.0, whose LIVE model storyreel
    ships) on the same pixels; storyreel's OpenCV implementation must agree within 0.2."""
    from storyreel.providers.scorer.brisque import brisque

    assert brisque(_scene(blur)) == pytest.approx(reference, abs=0.2)


def test_palette_fit_rewards_the_projects_colours():
    scorer = LocalTechnical()
    navy_amber = ["#0F172A", "#F59E0B"]
    on = np.zeros((540, 960, 3), np.uint8)
    on[:, :700] = (0x0F, 0x17, 0x2A)
    on[:, 700:] = (0xF5, 0x9E, 0x0B)
    off = np.zeros_like(on)
    off[:] = (40, 200, 90)  # a green the palette does not have
    fit_on, fit_off = scorer.score(on, navy_amber).palette_fit, scorer.score(off, navy_amber).palette_fit
    assert fit_on == pytest.approx(100) and fit_off < 20
    assert scorer.score(on).palette_fit is None  # no palette: no sub-score, its weight shared out


def test_blur_effect_and_the_laplacian_both_see_a_soft_copy():
    scorer = LocalTechnical()
    sharp, soft = scorer.score(_scene(0)), scorer.score(_scene(3))
    assert soft.sharpness < sharp.sharpness and soft.quality < sharp.quality
