"""Abstract b-roll compositions for ``local:cards``, chosen and seeded from the shot's description.

A motif is picked by keywords (city → skyline, data/machines → tech grid, water → waves, land/race →
landscape, night → darker sky) or, failing those, by the seed; every motif layers several shapes with
transparency and blur so a frame is never a flat fill.
"""

from __future__ import annotations

import math
import random
import re

from PIL import Image, ImageDraw, ImageFilter

from storyreel.media.typography import Palette, mix

MOTIF_KEYWORDS: dict[str, str] = {
    "skyline": r"city|cities|commut\w*|street|urban|office|town|şehir\w*|stadt|büro|downtown",
    "grid": r"data|server|computer|network|digital|dijital|veri\w*|makine\w*|madenci\w*|mining|block\w*|blok\w*|chain|zincir\w*|code|kripto\w*|crypto\w*",
    "waves": r"sea|ocean|water|river|tide|wave|bottle|drink\w*|deniz|su\b|wasser|meer|lake|cold",
    "landscape": r"field|hill|mountain|nature|race|road|course|land|earth|battle\w*|continent|nation|goal|way\w*|ground|forest",
}
FALLBACK_MOTIFS = ["bokeh", "rays", "landscape", "waves"]


def choose_motif(description: str, rng: random.Random) -> str:
    """Motif for a description, picked by the seed among the keyword families that match (weighted 2:1
    over the generic motifs, so consecutive shots on one theme still vary); generic motifs if none match."""
    matched = [m for m, pattern in MOTIF_KEYWORDS.items() if re.search(rf"\b(?:{pattern})", description, re.IGNORECASE)]
    if not matched:
        return rng.choice(FALLBACK_MOTIFS)
    return rng.choice(matched * 2 + [m for m in FALLBACK_MOTIFS if m not in matched])


def draw_broll(img: Image.Image, description: str, pal: Palette, rng: random.Random) -> Image.Image:
    """Paint a b-roll composition over the background ``img`` (RGB) and return the result."""
    night = bool(re.search(r"\b(night|dark|gece\w*|nacht|evening|akşam)\b", description, re.IGNORECASE))
    motif = choose_motif(description, rng)
    base = img.convert("RGBA")
    if night:
        shade = Image.new("RGBA", img.size, (0, 0, 0, 90))
        base = Image.alpha_composite(base, shade)
    painter = {"skyline": _skyline, "grid": _grid, "waves": _waves, "landscape": _landscape, "bokeh": _bokeh, "rays": _rays}
    return painter[motif](base, pal, rng, night)


def soft_onto(base: Image.Image, layer: Image.Image, radius: float) -> Image.Image:
    """``layer`` Gaussian-blurred by ``radius`` px and composited over ``base`` (RGBA), fast: only the part of
    the layer that holds something is blurred and composited, and a wide blur runs at reduced size (a blur
    removes exactly the detail the reduction loses). Returns ``base``, changed in place."""
    box = layer.getbbox()
    if box is None:
        return base
    m = int(radius * 3) + 2
    x0, y0, x1, y1 = max(0, box[0] - m), max(0, box[1] - m), min(layer.width, box[2] + m), min(layer.height, box[3] + m)
    patch = layer.crop((x0, y0, x1, y1))
    k = int(min(4, radius // 3))
    if k >= 2 and patch.width > 4 * k and patch.height > 4 * k:
        small = patch.resize((patch.width // k, patch.height // k), Image.Resampling.BOX)
        patch = small.filter(ImageFilter.GaussianBlur(radius / k)).resize(patch.size, Image.Resampling.BILINEAR)
    elif radius > 0:
        patch = patch.filter(ImageFilter.GaussianBlur(radius))
    base.alpha_composite(patch, (x0, y0))
    return base


def _layer(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _rgba(c: tuple[int, int, int], a: float) -> tuple[int, int, int, int]:
    return (*c, int(255 * a))


def _glow(base: Image.Image, pal: Palette, rng: random.Random, cx: float, cy: float, r: float, color=None) -> Image.Image:
    layer, d = _layer(base.size)
    c = color or pal.accent
    for k in range(5, 0, -1):
        rr = r * k / 2.5
        d.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=_rgba(c, 0.05 + 0.03 * (5 - k)))
    d.ellipse((cx - r * 0.45, cy - r * 0.45, cx + r * 0.45, cy + r * 0.45), fill=_rgba(mix(c, (255, 255, 255), 0.4), 0.9))
    return soft_onto(base, layer, r * 0.15)


def _bokeh(base: Image.Image, pal: Palette, rng: random.Random, night: bool) -> Image.Image:
    w, h = base.size
    s = min(w, h)
    for blur, count, (lo, hi), alpha in ((s / 40, 14, (0.08, 0.2), 0.22), (s / 120, 22, (0.02, 0.07), 0.35)):
        layer, d = _layer(base.size)
        for _ in range(count):
            r = rng.uniform(lo, hi) * s
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            color = rng.choice([pal.accent, pal.accent2, pal.fg])
            d.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(color, alpha * rng.uniform(0.5, 1)))
        base = soft_onto(base, layer, blur)
    return base


def _rays(base: Image.Image, pal: Palette, rng: random.Random, night: bool) -> Image.Image:
    w, h = base.size
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.45) * h
    q = 4  # soft wedges: drawn and blurred at a quarter of the size, then scaled up (nothing sharp to lose)
    layer, d = _layer((w // q, h // q))
    n = rng.randint(10, 16)
    start = rng.uniform(0, math.tau)
    for i in range(n):
        a0 = start + i * math.tau / n
        a1 = a0 + math.tau / n * 0.45
        far = 2 * max(w, h)
        d.polygon([(p / q) for p in (cx, cy, cx + far * math.cos(a0), cy + far * math.sin(a0), cx + far * math.cos(a1),
                                     cy + far * math.sin(a1))], fill=_rgba(pal.accent if i % 2 else pal.accent2, 0.09))
    layer = layer.filter(ImageFilter.GaussianBlur(min(w, h) / 90 / q)).resize((w, h), Image.Resampling.BILINEAR)
    base.alpha_composite(layer)
    base = _glow(base, pal, rng, cx, cy, min(w, h) * 0.12)
    return _hills(base, pal, rng, layers=2)


def _hills(base: Image.Image, pal: Palette, rng: random.Random, layers: int = 3) -> Image.Image:
    w, h = base.size
    for k in range(layers):
        layer, d = _layer(base.size)
        horizon = h * (0.62 + 0.1 * k)
        amp = h * rng.uniform(0.04, 0.1) / (k + 1)
        freq = rng.uniform(1.0, 2.5) * (k + 1)
        phase = rng.uniform(0, math.tau)
        pts = [(x, horizon + amp * math.sin(phase + freq * math.tau * x / w) + amp * 0.4 * math.sin(phase * 2 + 3.1 * freq * math.tau * x / w))
               for x in range(0, w + 20, 20)]
        color = mix(pal.bg, (0, 0, 0), 0.25 + 0.2 * k) if k else mix(pal.bg2, pal.accent, 0.25)
        d.polygon([(0, h), *pts, (w, h)], fill=_rgba(color, 0.95))
        top = max(0, int(min(y for _, y in pts)) - 1)  # only the band the hills cover
        base.alpha_composite(layer.crop((0, top, w, h)), (0, top))
    return base


def _landscape(base: Image.Image, pal: Palette, rng: random.Random, night: bool) -> Image.Image:
    w, h = base.size
    base = _glow(base, pal, rng, rng.uniform(0.25, 0.75) * w, rng.uniform(0.2, 0.4) * h, min(w, h) * 0.1,
                 color=mix(pal.fg, pal.accent, 0.3) if night else pal.accent)
    if night:
        layer, d = _layer(base.size)
        for _ in range(120):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.55), rng.uniform(1, 3)
            d.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(pal.fg, rng.uniform(0.3, 0.9)))
        base = Image.alpha_composite(base, layer)
    base = _hills(base, pal, rng, layers=3)
    layer, d = _layer(base.size)
    # a road or path leading into the distance
    vx = rng.uniform(0.35, 0.65) * w
    d.polygon([(vx - w * 0.004, h * 0.74), (vx + w * 0.004, h * 0.74), (vx + w * 0.22, h), (vx - w * 0.22, h)], fill=_rgba(pal.accent2, 0.35))
    return soft_onto(base, layer, 2)


def _waves(base: Image.Image, pal: Palette, rng: random.Random, night: bool) -> Image.Image:
    w, h = base.size
    base = _glow(base, pal, rng, rng.uniform(0.2, 0.8) * w, h * rng.uniform(0.2, 0.35), min(w, h) * 0.09, color=pal.fg)
    bands = 6
    for k in range(bands):
        layer, d = _layer(base.size)
        y0 = h * (0.5 + 0.08 * k)
        amp = h * 0.025 * (1 + k * 0.4)
        freq = rng.uniform(1.5, 3.0)
        phase = rng.uniform(0, math.tau)
        pts = [(x, y0 + amp * math.sin(phase + freq * math.tau * x / w)) for x in range(0, w + 16, 16)]
        color = mix(pal.accent, pal.bg, 0.15 + 0.12 * k)
        d.polygon([(0, h), *pts, (w, h)], fill=_rgba(color, 0.55))
        d.line(pts, fill=_rgba(mix(color, (255, 255, 255), 0.5), 0.6), width=max(2, h // 400))
        base = Image.alpha_composite(base, layer)
    return base


def _grid(base: Image.Image, pal: Palette, rng: random.Random, night: bool) -> Image.Image:
    w, h = base.size
    layer, d = _layer(base.size)
    horizon = h * 0.45
    vx = w * rng.uniform(0.4, 0.6)
    for i in range(-14, 15):
        d.line((vx + i * w * 0.012, horizon, vx + i * w * 0.16, h), fill=_rgba(pal.accent, 0.35), width=2)
    y, step = horizon, h * 0.01
    while y < h:
        d.line((0, y, w, y), fill=_rgba(pal.accent, 0.3), width=2)
        step *= 1.28
        y += step
    base = Image.alpha_composite(base, layer)
    # racks / blocks standing on the grid, with small LED lights
    layer, d = _layer(base.size)
    count = rng.randint(5, 8)
    for i in range(count):
        bw = w / (count + 2) * rng.uniform(0.6, 0.85)
        x = w * (i + 1) / (count + 1) - bw / 2
        top = horizon - h * rng.uniform(0.12, 0.32)
        bottom = horizon + h * rng.uniform(0.05, 0.12)
        d.rounded_rectangle((x, top, x + bw, bottom), radius=int(bw * 0.06), fill=_rgba(mix(pal.bg, (0, 0, 0), 0.35), 0.92),
                            outline=_rgba(pal.accent, 0.7), width=2)
        rows = int((bottom - top) / (h * 0.03))
        for r in range(1, rows):
            yy = top + r * (bottom - top) / rows
            d.line((x + bw * 0.1, yy, x + bw * 0.9, yy), fill=_rgba(pal.muted, 0.35), width=1)
            if rng.random() < 0.7:
                lx = x + bw * rng.uniform(0.65, 0.85)
                d.ellipse((lx - 4, yy - h * 0.008, lx + 4, yy - h * 0.008 + 8), fill=_rgba(pal.accent2 if rng.random() < 0.5 else pal.accent, 1))
    base = soft_onto(base, layer, 6)
    base.alpha_composite(layer)
    return base


def _skyline(base: Image.Image, pal: Palette, rng: random.Random, night: bool) -> Image.Image:
    w, h = base.size
    base = _glow(base, pal, rng, rng.uniform(0.2, 0.8) * w, h * 0.3, min(w, h) * 0.11, color=pal.fg if night else pal.accent)
    for k, (shade, top_lo, top_hi) in enumerate(((0.15, 0.35, 0.6), (0.45, 0.5, 0.72))):
        layer, d = _layer(base.size)
        x = -rng.uniform(0, w * 0.05)
        color = mix(pal.bg, (0, 0, 0), shade)
        while x < w:
            bw = w * rng.uniform(0.04, 0.09)
            top = h * rng.uniform(top_lo, top_hi)
            d.rectangle((x, top, x + bw, h), fill=_rgba(color, 0.96))
            if k == 1:
                for wy in range(int(top + h * 0.02), h, int(h * 0.035)):
                    for wx in range(int(x + bw * 0.15), int(x + bw * 0.85), int(max(8, bw * 0.22))):
                        if rng.random() < 0.35:
                            d.rectangle((wx, wy, wx + bw * 0.1, wy + h * 0.014), fill=_rgba(pal.accent2, 0.85))
            x += bw + w * rng.uniform(0.0, 0.012)
        base = Image.alpha_composite(base, layer)
    return base


# --------------------------------------------------------------------------- subjects
FOCUS = {  # where the Ken Burns move ends up looking (fractions of width, height): the hero goes there
    "zoom_in": (0.5, 0.44), "zoom_out": (0.5, 0.44), "static": (0.5, 0.44),
    "pan_right": (0.6, 0.44), "pan_left": (0.4, 0.44), "pan_up": (0.5, 0.38), "pan_down": (0.5, 0.5),
}


def disc_spots(base: Image.Image, pal: Palette, rng: random.Random, camera_move: str, count: int,
               band: tuple[float, float] | None = None) -> tuple[Image.Image, list[tuple[float, float, int]]]:
    """Where up to three pictures go on a b-roll frame: the hero (first) large where the camera move ends, with a glow
    behind it; up to two more smaller beside it (under it on a vertical frame). The hero stays inside ``band`` = (top,
    bottom) in pixels — the layout's text area, clear of caption banners, lower thirds and subtitles (default: the
    title-safe height). Returns the frame with the glow and ``[(x, y, size)]``, the hero first."""
    w, h = base.size
    s = min(w, h)
    fx, fy = FOCUS.get(camera_move, FOCUS["zoom_in"])
    top, bottom = band or (h * 0.05, h * 0.95)
    if h > w:  # vertical: the hero high, the supporting subjects under it
        hero = int(min(w * 0.52, (bottom - top) * 0.45))
        cx, cy = w * 0.5, top + hero * 0.56
    else:
        hero = int(min(s * 0.46, (bottom - top) * 0.88))
        cx, cy = w * fx, h * fy
        cy = min(max(cy, top + hero * 0.56), bottom - hero * 0.56)
    base = _glow(base, pal, rng, cx, cy, hero * 0.55, color=mix(pal.accent, pal.bg2, 0.35))
    spots = _supporting_spots(w, h, cx, cy, hero, rng)
    return base, [(cx, cy, hero)] + [(x, y, int(hero * 0.42)) for x, y in spots][: max(0, min(count, 3) - 1)]


def draw_subjects(base: Image.Image, subjects: list, pal: Palette, rng: random.Random, camera_move: str,  # noqa: ANN001
                  band: tuple[float, float] | None = None) -> Image.Image:
    """Compose matched artworks (:class:`storyreel.providers.image.art.Subject`) over a b-roll background, each on a
    soft disc of the palette, laid out by :func:`disc_spots`. Returns an RGBA image."""
    from storyreel.providers.image.art import art_image

    base, spots = disc_spots(base, pal, rng, camera_move, len(subjects), band)
    for subject, (x, y, size) in reversed(list(zip(subjects, spots, strict=False))):  # the hero last: on top
        base = _disc(base, pal, x, y, size)
        art = art_image(subject.art, size)
        base.alpha_composite(art, (int(x - size / 2), int(y - size / 2)))
    return base


def _supporting_spots(w: int, h: int, cx: float, cy: float, hero: int, rng: random.Random) -> list[tuple[float, float]]:
    """Two places for supporting subjects: on the side of the hero with more room, one higher, one lower."""
    side = -1 if cx > w / 2 else 1
    if w >= h:
        x = cx + side * hero * 0.95
        x = min(max(x, w * 0.12), w * 0.88)
        return [(x, cy - hero * 0.22), (cx - side * hero * 0.9, cy + hero * 0.18)]
    return [(w * 0.27, cy + hero * 0.98), (w * 0.73, cy + hero * 0.98)]


def _disc(base: Image.Image, pal: Palette, x: float, y: float, size: int) -> Image.Image:
    """A soft light disc with a drop shadow, so the artwork's white areas and outlines read on any palette."""
    layer, d = _layer(base.size)
    r = size * 0.56
    d.ellipse((x - r, y - r + size * 0.05, x + r, y + r + size * 0.05), fill=(0, 0, 0, 70))
    base = soft_onto(base, layer, size * 0.04)
    disc, d = _layer((int(2 * r) + 2, int(2 * r) + 2))
    d.ellipse((1, 1, 2 * r, 2 * r), fill=_rgba(mix(pal.fg, pal.accent, 0.15), 0.93))
    base.alpha_composite(disc, (int(x - r), int(y - r)))
    return base
