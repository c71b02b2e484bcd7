"""Storyboard overlays drawn as images: a lower third (label strip) and a caption banner, in the
project's palette. Their size comes from their fitted text (:func:`overlay_size`); where they go is the
layout's decision (:func:`storyreel.media.layout.frame_layout`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from storyreel.media.standards import TEXT_INSET
from storyreel.media.typography import FittedText, Palette, fit_text


@lru_cache(maxsize=1024)
def _fitted(kind: str, text: str, width: int, height: int) -> tuple[FittedText, int, int, int]:
    """(fitted text, padding, accent bar width, box (w, h)) of overlay ``kind`` on a width × height frame."""
    s = min(width, height)
    inset_w = width * (1 - 2 * TEXT_INSET)
    pad = int(s * 0.022)
    if kind == "lower_third":
        fitted = fit_text(text, inset_w * 0.75, s * 0.12, kind="bold", max_size=int(s * 0.042), min_size=int(s * 0.022), max_lines=2)
        bar = int(s * 0.012)
        return fitted, pad, bar, int(fitted.width() + 2 * pad + bar), int(fitted.height + 2 * pad)
    fitted = fit_text(text, inset_w - 2 * pad, s * 0.14, kind="bold", max_size=int(s * 0.045), min_size=int(s * 0.022), max_lines=2)
    return fitted, pad, 0, int(fitted.width() + 2 * pad), int(fitted.height + 1.6 * pad)


def overlay_size(kind: str, text: str, width: int, height: int) -> tuple[int, int]:
    """Pixel size (w, h) of overlay ``kind`` ('lower_third' | 'caption') with ``text`` on a width × height
    frame: its text fitted to at most two lines inside the text inset, plus padding."""
    _, _, _, w, h = _fitted(kind, text, width, height)
    return w, h


def render_overlay(kind: str, text: str, palette: list[str], width: int, height: int, out_path: Path) -> tuple[int, int]:
    """Draw overlay ``kind`` to an RGBA PNG of :func:`overlay_size`; returns that size."""
    pal = Palette.from_hex(palette)
    fitted, pad, bar, box_w, box_h = _fitted(kind, text, width, height)
    img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if kind == "lower_third":
        d.rectangle((0, 0, box_w, box_h), fill=(*pal.bg, 225))
        d.rectangle((0, 0, bar, box_h), fill=(*pal.accent, 255))
        y = pad
        for line in fitted.lines:
            d.text((bar + pad, y), line, font=fitted.font, fill=(*pal.fg, 255))
            y += fitted.line_height
    else:
        d.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(*pal.accent, 235))
        y = pad * 0.8
        for line in fitted.lines:
            d.text(((box_w - fitted.font.getlength(line)) / 2, y), line, font=fitted.font, fill=(*pal.bg, 255))
            y += fitted.line_height
    out_path.parent.mkdir(parents=True, exist_ok=True)
    img.save(out_path)
    return box_w, box_h
