"""Fonts, colours and text fitting for the local renderers (cards, subtitles, overlays).

Fonts are the DejaVu families shipped inside matplotlib's wheel: they cover Latin Extended (Turkish
ğ ş ı İ, German ä ö ü ß), Greek and Cyrillic, and need no system install.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
}


@lru_cache(maxsize=1)
def font_dir() -> Path:
    """matplotlib's bundled DejaVu fonts, located without importing matplotlib (≈ 0.2 s saved per run)."""
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
        if (candidate / FONT_FILES["sans"]).is_file():
            return candidate
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=256)
def font(kind: str, size: int) -> ImageFont.FreeTypeFont:
    """DejaVu font ``kind`` (sans | bold | serif | serif-bold) at ``size`` pixels."""
    return ImageFont.truetype(str(font_dir() / FONT_FILES[kind]), size=size)


@lru_cache(maxsize=16384)
def extent(fnt: ImageFont.FreeTypeFont, text: str) -> tuple[float, float]:
    """(left, width) of ``text`` drawn at x = 0: the span that covers both its advance and its ink, so a
    glyph whose outline overhangs its advance (a bold "y", a "j" reaching left) is measured too.

    Memoized per (font, text): word wrapping measures the same prefixes again for every candidate line, and
    the clip stage lays out each shot's subtitles for its key, its layers and its QC records (≈ 0.3 s of a
    20-shot project's evaluation before, measured with cProfile)."""
    if not text:
        return 0.0, 0.0
    left, _, right, _ = fnt.getbbox(text)
    lo = min(0.0, float(left))
    return lo, max(float(fnt.getlength(text)), float(right)) - lo


def text_width(fnt: ImageFont.FreeTypeFont, text: str) -> float:
    """Width in pixels that ``text`` needs: advance and ink (:func:`extent`)."""
    return extent(fnt, text)[1]


def wrap(text: str, fnt: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels (ink included, :func:`text_width`); words longer than a line
    are broken by characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if text_width(fnt, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while text_width(fnt, word) > max_width and len(word) > 1:
                cut = len(word)
                while cut > 1 and text_width(fnt, word[:cut] + "-") > max_width:
                    cut -= 1
                lines.append(word[:cut] + "-")
                word = word[cut:]
            current = word
        lines.append(current)
    return [ln for ln in lines if ln] or [""]


@dataclass(frozen=True)
class FittedText:
    font: ImageFont.FreeTypeFont
    lines: list[str]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)

    def width(self) -> float:
        return max(text_width(self.font, ln) for ln in self.lines)


def fit_text(
    text: str,
    max_width: float,
    max_height: float,
    *,
    kind: str = "sans",
    max_size: int = 96,
    min_size: int = 18,
    line_spacing: float = 1.25,
    max_lines: int | None = None,
) -> FittedText:
    """Largest font size in [min_size, max_size] at which ``text`` wrapped to ``max_width`` fits
    ``max_height`` (and ``max_lines``) with no word broken across lines ("Trinkflasch-/e"); only at
    ``min_size`` may a word too long for a line be broken. At ``min_size`` the text is cut with '…' so it
    never overflows."""
    size = max_size
    words = text.split()
    while True:
        fnt = font(kind, size)
        lh = int(size * line_spacing)
        lines = wrap(text, fnt, max_width)
        whole = all(text_width(fnt, w) <= max_width for w in words)
        fits = whole and len(lines) * lh <= max_height and (max_lines is None or len(lines) <= max_lines)
        if fits or size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    limit = max(1, min(int(max_height // lh), max_lines or 10_000))
    if len(lines) > limit:
        lines = lines[:limit]
        last = lines[-1]
        while last and text_width(fnt, last + "…") > max_width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return FittedText(fnt, lines, lh)


def draw_text(
    draw: ImageDraw.ImageDraw,
    fitted: FittedText,
    box: tuple[float, float, float, float],
    fill: tuple[int, ...],
    *,
    align: str = "center",
    valign: str = "center",
    shadow: tuple[int, ...] | None = None,
) -> tuple[float, float, float, float]:
    """Draw fitted lines inside ``box`` = (x0, y0, x1, y1), aligned left|center and top|center|bottom.
    Returns the ink box (x0, y0, x1, y1) of what was drawn, shadow included — the box the layout record
    keeps (:mod:`storyreel.media.layout`)."""
    x0, y0, x1, y1 = box
    total = fitted.height
    y = {"top": y0, "center": y0 + (y1 - y0 - total) / 2, "bottom": y1 - total}[valign]
    ink = [float("inf"), float("inf"), float("-inf"), float("-inf")]
    off = max(2, fitted.font.size // 24) if shadow else 0
    for line in fitted.lines:
        lo, w = extent(fitted.font, line)
        x = (x0 if align == "left" else x0 + (x1 - x0 - w) / 2) - lo  # the ink starts at the aligned edge
        if shadow:
            draw.text((x + off, y + off), line, font=fitted.font, fill=shadow)
        draw.text((x, y), line, font=fitted.font, fill=fill)
        if line.strip():
            l, t, r, b = fitted.font.getbbox(line)
            ink = [min(ink[0], x + l), min(ink[1], y + t), max(ink[2], x + r + off), max(ink[3], y + b + off)]
        y += fitted.line_height
    if ink[0] == float("inf"):
        return (x0, y0, x0, y0)
    return (ink[0], ink[1], ink[2], ink[3])


# --------------------------------------------------------------------------- colour
RGB = tuple[int, int, int]


def hex_to_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(rgb: RGB) -> float:
    """WCAG 2.x relative luminance in [0, 1]."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio (1–21); body text needs ≥ 4.5."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def saturation(rgb: RGB) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[1]


@dataclass(frozen=True)
class Palette:
    """Roles derived from a brand palette: background, text, accent and a second accent."""

    bg: RGB
    bg2: RGB
    fg: RGB
    muted: RGB
    accent: RGB
    accent2: RGB

    @classmethod
    def from_hex(cls, colors: list[str]) -> Palette:
        """Darkest colour → background (darkened if too light); best-contrast colour → text
        (white/near-black if none reaches 4.5:1); most saturated other colour → accent."""
        rgbs = [hex_to_rgb(c) for c in colors] or [(20, 33, 61)]
        bg = min(rgbs, key=luminance)
        if luminance(bg) > 0.2:
            bg = mix(bg, (0, 0, 0), 0.65)
        candidates = [c for c in rgbs if c != bg and contrast(c, bg) >= 4.5]
        fg = max(candidates, key=lambda c: contrast(c, bg)) if candidates else (248, 248, 244)
        others = [c for c in rgbs if c not in (bg, fg)]
        accent = max(others, key=saturation) if others else mix(bg, (255, 255, 255), 0.45)
        if contrast(accent, bg) < 1.8:
            accent = mix(accent, (255, 255, 255), 0.45)
        rest = [c for c in others if c != accent]
        accent2 = rest[0] if rest else mix(accent, fg, 0.5)
        return cls(
            bg=bg,
            bg2=mix(bg, accent, 0.22),
            fg=fg,
            muted=mix(fg, bg, 0.35),
            accent=accent,
            accent2=accent2,
        )
