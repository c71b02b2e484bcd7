"""Storyboard overlays drawn as images: a lower third (label strip, lower left) and a caption banner
(top centre), both inside the text inset (within the title-safe area) and in the project's palette."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from storyreel.media.standards import TEXT_INSET as SAFE_MARGIN
from storyreel.media.typography import Palette, fit_text


def render_overlay(kind: str, text: str, palette: list[str], width: int, height: int, out_path: Path) -> tuple[int, int]:
    """Draw overlay ``kind`` ('lower_third' | 'caption') to a PNG sized to its box; returns its (x, y)
    on a width × height frame. Text is fitted (never leaves the box)."""
    pal = Palette.from_hex(palette)
    s = min(width, height)
    safe_w = width * (1 - 2 * SAFE_MARGIN)
    if kind == "lower_third":
        fitted = fit_text(text, safe_w * 0.7, s * 0.12, kind="bold", max_size=int(s * 0.042), min_size=int(s * 0.022), max_lines=2)
        pad = int(s * 0.022)
        bar = int(s * 0.012)
        box_w, box_h = int(fitted.width() + 2 * pad + bar), int(fitted.height + 2 * pad)
        img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        d.rectangle((0, 0, box_w, box_h), fill=(*pal.bg, 225))
        d.rectangle((0, 0, bar, box_h), fill=(*pal.accent, 255))
        y = pad
        for line in fitted.lines:
            d.text((bar + pad, y), line, font=fitted.font, fill=(*pal.fg, 255))
            y += fitted.line_height
        x, y = int(width * SAFE_MARGIN), int(height * 0.66) - box_h
    else:
        fitted = fit_text(text, safe_w * 0.9, s * 0.14, kind="bold", max_size=int(s * 0.045), min_size=int(s * 0.022), max_lines=2)
        pad = int(s * 0.022)
        box_w, box_h = int(fitted.width() + 2 * pad), int(fitted.height + 1.6 * pad)
        img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        d.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(*pal.accent, 235))
        y = pad * 0.8
        for line in fitted.lines:
            d.text(((box_w - fitted.font.getlength(line)) / 2, y), line, font=fitted.font, fill=(*pal.bg, 255))
            y += fitted.line_height
        x, y = (width - box_w) // 2, int(height * SAFE_MARGIN)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    img.save(out_path)
    return x, y
