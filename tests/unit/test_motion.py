"""Ken Burns without jitter: the camera path is exact, and the rendered frames move smoothly."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel.media.motion import ShotFrames, Still, camera_affine, crossfade_frames, planes
from storyreel.media.timeline import KenBurns, ShotTiming

MOVES = ["zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]


def _timing(move: str, slot: int = 150) -> ShotTiming:
    return ShotTiming("s", 0, 0, slot, 0, 0, 0.45, 3.0, KenBurns.for_move(move))  # type: ignore[arg-type]


@pytest.mark.parametrize("move", MOVES)
def test_camera_path_is_monotonic_and_linear(move):
    """Frame-to-frame scale and offsets follow the linear path exactly: monotonic, constant step."""
    t = _timing(move)
    path = np.array([[a.s, a.tx, a.ty] for a in (camera_affine(t.camera, t.progress(k), 1920, 1080, 1920, 1080) for k in range(t.slot))])
    for col in range(3):
        steps = np.diff(path[:, col])
        assert np.all(steps >= -1e-12) or np.all(steps <= 1e-12), f"column {col} not monotonic"
    # zoom is linear in scale; pans are linear in offset: second differences vanish
    assert np.abs(np.diff(path[:, 0], 2)).max() < 1e-12
    if move.startswith("pan"):
        assert np.abs(np.diff(path[:, 1:], 2, axis=0)).max() < 1e-9


def _luma(frame: np.ndarray, w: int = 640, h: int = 360) -> np.ndarray:
    return planes(frame, w, h)[0]


def _edge_positions(frames: list[np.ndarray]) -> np.ndarray:
    """Sub-pixel x of a vertical dark→light edge per frame (luma planes): the centroid of the horizontal
    gradient along the middle rows."""
    out = []
    for f in frames:
        row = f[f.shape[0] // 2 - 20: f.shape[0] // 2 + 20, :].astype(np.float64).mean(axis=0)
        grad = np.clip(np.diff(row), 0, None)
        xs = np.arange(len(grad)) + 0.5
        out.append((grad * xs).sum() / grad.sum())
    return np.array(out)


def _edge_still(w: int = 640, h: int = 360) -> Still:
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[:, w // 2:] = 255
    return Still.from_rgb(rgb)


def _jitter(positions: np.ndarray) -> float:
    """Largest deviation of a frame step from the mean step, in pixels (0 for perfectly smooth motion)."""
    steps = np.diff(positions)
    return float(np.abs(steps - steps.mean()).max())


def test_rendered_pan_moves_smoothly_by_sub_pixel_steps():
    timing = _timing("pan_right", slot=90)
    shot = ShotFrames(_edge_still(), timing, 640, 360)
    positions = _edge_positions([_luma(shot.frame(k)) for k in range(timing.slot)])
    steps = np.diff(positions)
    assert np.all(steps < 0), "a pan to the right moves the picture left, every frame"
    assert 0.1 < abs(steps.mean()) < 1.0  # a sub-pixel step per frame: the case integer crops get wrong
    # warpAffine interpolates at 1/32 px (INTER_BITS = 5); with 8-bit edge pixels the measured step
    # varies by < 0.12 px, against ≥ 0.3 px for whole-pixel offsets (next test) and ~0.6 px for
    # per-frame scale + crop (RENDER-NOTES.md)
    assert _jitter(positions) < 0.12


def test_jitter_metric_catches_integer_rounding():
    """The same pan with the offset rounded to whole pixels (what crop/zoompan do) fails the check."""
    timing = _timing("pan_right", slot=90)
    shot = ShotFrames(_edge_still(), timing, 640, 360)
    import cv2

    frames = []
    for k in range(timing.slot):
        a = shot.affine(k)
        m = np.array([[a.s, 0, round(a.tx)], [0, a.s, round(a.ty)]], dtype=np.float64)
        frames.append(cv2.warpAffine(shot.still.luma, m, (640, 360), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    assert _jitter(_edge_positions(frames)) > 0.3


def test_rendered_zoom_scales_smoothly():
    """Two edges at ¼ and ¾ width spread apart by a smoothly growing distance during a zoom in."""
    w, h = 640, 360
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[:, w // 4: 3 * w // 4] = 255
    timing = _timing("zoom_in", slot=120)
    shot = ShotFrames(Still.from_rgb(rgb), timing, w, h)
    widths = []
    for k in range(timing.slot):
        row = _luma(shot.frame(k), w, h)[h // 2, :].astype(np.float64) - 16.0
        widths.append(row.sum() / 219.0)  # bright width, sub-pixel through the interpolated edges
    widths = np.array(widths)
    assert np.all(np.diff(widths) > 0)
    assert _jitter(widths) < 0.15  # two edges, each quantized at 1/32 px
    assert widths[-1] / widths[0] == pytest.approx(1.12, rel=0.01)


def test_crossfade_blends_without_repeating_the_end_frames():
    t = _timing("static", slot=30)
    a = ShotFrames(Still.from_rgb(np.full((36, 64, 3), 255, dtype=np.uint8)), t, 64, 36)
    b = ShotFrames(Still.from_rgb(np.zeros((36, 64, 3), dtype=np.uint8)), t, 64, 36)
    levels = [float(_luma(f, 64, 36).mean()) for f in crossfade_frames(a, b, 15, 20, -7)]
    assert np.all(np.diff(levels) < 0)
    assert 220 < levels[0] < 235 and 16 < levels[-1] < 31  # studio range: black 16, white 235


@pytest.mark.parametrize(
    ("rgb", "ycbcr"),
    [
        # BT.709-6 limited range, 8 bit: reference values of the colour bars (ITU-R BT.709 / SMPTE RP 219)
        ((255, 255, 255), (235, 128, 128)),
        ((0, 0, 0), (16, 128, 128)),
        ((255, 0, 0), (63, 102, 240)),
        ((0, 255, 0), (173, 42, 26)),
        ((0, 0, 255), (32, 240, 118)),
    ],
)
def test_stills_convert_to_bt709_studio_range(rgb, ycbcr):
    still = Still.from_rgb(np.full((4, 6, 3), rgb, dtype=np.uint8))
    assert still.luma.shape == (4, 6) and still.cb.shape == still.cr.shape == (2, 3)
    got = (int(still.luma[0, 0]), int(still.cb[0, 0]), int(still.cr[0, 0]))
    assert all(abs(g - e) <= 1 for g, e in zip(got, ycbcr, strict=True)), got


def test_chroma_follows_luma_through_the_warp():
    """A coloured edge stays aligned in luma and chroma while panning (chroma map = luma map at ½ size)."""
    w, h = 640, 360
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    rgb[:, w // 2:] = (255, 0, 0)
    timing = _timing("pan_right", slot=30)
    shot = ShotFrames(Still.from_rgb(rgb), timing, w, h)
    for k in (0, 15, 29):
        y, _, v = planes(shot.frame(k), w, h)
        luma_x = float(np.argmax(np.diff(y[h // 2].astype(int))))
        chroma_x = float(np.argmax(np.diff(v[h // 4].astype(int)))) * 2 + 0.5
        assert abs(luma_x - chroma_x) <= 2.0, (k, luma_x, chroma_x)


def test_converted_stills_are_cached_until_the_image_changes(tmp_path):
    """A crossfade reads the planes its neighbours' clips converted; a redrawn image is converted again."""
    import os

    import numpy as np
    from PIL import Image

    from storyreel.media.motion import load_still

    img = tmp_path / "ch01-s01.png"
    Image.new("RGB", (64, 36), (200, 40, 40)).save(img)
    cache = tmp_path / "stills"
    first = load_still(img, cache)
    entries = list(cache.glob("ch01-s01.*.npz"))
    assert len(entries) == 1
    again = load_still(img, cache)
    assert np.array_equal(first.luma, again.luma) and np.array_equal(first.cb, again.cb) and np.array_equal(first.cr, again.cr)
    Image.new("RGB", (64, 36), (40, 40, 200)).save(img)
    os.utime(img, ns=(1, 1))  # a new stat: the old entry must not be used
    blue = load_still(img, cache)
    assert blue.cb.mean() > first.cb.mean()  # Cb up: the new picture, not the cached red one
    assert [p.name for p in cache.glob("ch01-s01.*.npz")] != [e.name for e in entries] and len(list(cache.glob("*.npz"))) == 1
    entry = next(cache.glob("*.npz"))
    entry.write_bytes(b"not an npz")
    assert np.array_equal(load_still(img, cache).luma, blue.luma)  # an unreadable entry is ignored and rewritten
    with open(entry, "wb") as fh:  # an entry of the earlier layout (Cb/Cr interleaved in one array)
        np.savez(fh, luma=blue.luma, chroma=np.zeros((*blue.cb.shape, 4), np.uint8))
    assert np.array_equal(load_still(img, cache).cb, blue.cb)
    with np.load(entry) as data:
        assert set(data.files) == {"luma", "cb", "cr"}  # rewritten in the current layout


def test_the_warp_the_layout_and_the_check_share_one_camera_formula():
    """``KenBurns.window`` on an array of progress values (what ``text_layout`` replays) gives exactly the
    warp's maps frame by frame, and the layout's sampled windows, for every move and a still that is not
    the frame's shape."""
    from storyreel.media.layout import camera_windows
    from storyreel.media.timeline import KenBurns

    for move in ("static", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"):
        camera = KenBurns.for_move(move)
        p = np.linspace(-0.1, 1.1, 25)  # crossfades extrapolate past both ends
        s, tx, ty = camera.window(p, 1536, 1024, 1920, 1080)
        warp = np.array([[a.s, a.tx, a.ty] for a in (camera_affine(camera, float(q), 1536, 1024, 1920, 1080) for q in p)])
        assert np.allclose(np.stack([s, tx, ty], axis=1), warp, rtol=0, atol=1e-9)
        sampled = np.array(list(camera_windows(camera, 1536, 1024, 1920, 1080, samples=5)))
        ends = np.array([[a.s, a.tx, a.ty] for a in (camera_affine(camera, q, 1536, 1024, 1920, 1080) for q in (0, 0.25, 0.5, 0.75, 1))])
        assert np.allclose(sampled, ends, rtol=0, atol=1e-9)
        inside = (p >= 0) & (p <= 1)
        assert np.all(tx[inside] <= 1e-9) and np.all(ty[inside] <= 1e-9)  # inside the move the frame never shows past the still's edge
