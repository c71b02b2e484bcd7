"""``local:cards`` — the procedural image renderer (no key, no network).

Every visual type gets a distinct, legible frame at the exact output size in the project's palette:
typographic title cards, box-and-arrow diagrams drawn from the shot's description, abstract b-roll
compositions seeded from the description (never flat fills), an app mock-up for ``screen_share`` and a
presenter placeholder for ``talking_head``. Text is wrapped and fitted so it never leaves the frame.

Best-of-N candidates differ by seed (background, decoration, b-roll motif) and by ``request.variant``, the
composition: the title block's alignment and height, the diagram heading's alignment and box style, which
matched subject is the b-roll hero, the side of the phone or the presenter. Variant 0 is the house
composition, so one candidate renders what it always did.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import ClassVar

from PIL import Image, ImageDraw, ImageFilter

from storyreel.core.atomic import atomic_path
from storyreel.core.text import split_sentences
from storyreel.media.layout import Box, title_safe
from storyreel.media.typography import RGB, Palette, draw_text, fit_text, mix
from storyreel.providers.base import ImageProvider, ImageRequest, ImageResult, LocalProvider
from storyreel.providers.image.broll import draw_broll, draw_subjects


class LocalCards(LocalProvider, ImageProvider):
    """Procedural renderer. ``generate(request, out_path)`` writes a PNG of request.width × request.height."""

    code_version: ClassVar[str] = "local-cards/4"  # /4: composition variants (request.variant) for best-of-N
    default_model: ClassVar[str] = "cards"
    accepts_reference_images: ClassVar[bool] = True  # a b-roll frame shows the reference images of the entities it names
    max_concurrency: ClassVar[int | None] = 4

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult:
        image, elements = render_card_with_layout(request)
        with atomic_path(out_path) as tmp:
            image.save(tmp, format="PNG", optimize=False, compress_level=1)  # an intermediate: speed over size
        details: dict = {"renderer": request.visual_type, "seed": request.seed, "size": [image.width, image.height],
                         "layout": {"still": [image.width, image.height], "elements": elements}}
        if request.visual_type == "b_roll" and any(r.role == "entity" for r in request.references):
            details.update(references=[r.label for r in request.references if r.role == "entity"])
        elif request.visual_type == "b_roll":
            subjects = broll_subjects(request)
            if subjects:
                from storyreel.providers.image.art import art_pack

                details.update(subjects=[s.art.annotation for s in subjects], subject_words=[s.word for s in subjects],
                               art=art_pack().credit())
        return ImageResult(path=out_path, provider=self.provider_id, provider_details=details)


def render_card(req: ImageRequest) -> Image.Image:
    """Render the frame for ``req`` as an RGB image of exactly (req.width, req.height)."""
    return render_card_with_layout(req)[0]


class Marks(list):
    """What a painter drew where: the card elements of the layout record (:mod:`storyreel.media.layout`),
    each ``{"group": "card", "role": "text" | "shape", "text", "box": [x0, y0, x1, y1]}`` in image pixels."""

    def text(self, fitted, ink: tuple[float, float, float, float]) -> None:  # noqa: ANN001
        self.append({"group": "card", "role": "text", "text": " ".join(fitted.lines), "box": [round(v, 2) for v in ink]})

    def shape(self, label: str, box: tuple[float, float, float, float]) -> None:
        self.append({"group": "card", "role": "shape", "text": label, "box": [round(float(v), 2) for v in box]})


def text_area(req: ImageRequest) -> Box:
    """The request's text area, or the title-safe area when it has none."""
    return Box.of(req.text_area) if req.text_area else title_safe(req.width, req.height)


def render_card_with_layout(req: ImageRequest) -> tuple[Image.Image, list[dict]]:
    """The frame for ``req`` (RGB, exactly req.width × req.height) and the boxes of the text and key shapes
    it drew, all inside :func:`text_area`."""
    pal = Palette.from_hex(req.palette)
    rng = random.Random(req.seed)
    img = background(req.width, req.height, pal, rng)
    marks = Marks()
    painter = {
        "title_card": _title_card,
        "diagram": _diagram,
        "b_roll": _b_roll,
        "screen_share": _screen_share,
        "talking_head": _talking_head,
    }[req.visual_type]
    img = painter(img, req, pal, rng, text_area(req), marks)
    return img.convert("RGB"), list(marks)


def background(w: int, h: int, pal: Palette, rng: random.Random) -> Image.Image:
    """Diagonal gradient bg → bg2 with a soft vignette and fine grain (no flat fills, no banding).

    The smooth field is computed at a quarter of the size and scaled up (it holds no detail to lose); the
    grain, a tiled 256 px patch of seeded noise (±2 levels), is added at full size and dithers away any
    8-bit banding."""
    import numpy as np  # here, not at import: resolving the provider stays cheap on a no-op run

    sw, sh = max(2, w // 4), max(2, h // 4)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    angle = rng.uniform(0.2, 1.2)
    t = (xx / sw * np.cos(angle) + yy / sh * np.sin(angle)) / (np.cos(angle) + np.sin(angle))
    c0, c1 = np.array(pal.bg, np.float32), np.array(pal.bg2, np.float32)
    arr = c0 + (c1 - c0) * t[..., None]
    r = np.sqrt(((xx - sw / 2) / (sw / 2)) ** 2 + ((yy - sh / 2) / (sh / 2)) ** 2)
    arr *= (1.0 - 0.28 * np.clip(r - 0.35, 0, 1))[..., None]
    smooth = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB").resize((w, h), Image.Resampling.BILINEAR)
    tile = np.random.default_rng(rng.randrange(1 << 30)).integers(-2, 3, (256, 256, 1), dtype=np.int16)
    grain = np.tile(tile, (h // 256 + 1, w // 256 + 1, 1))[:h, :w]
    return Image.fromarray((np.asarray(smooth, dtype=np.int16) + grain).clip(0, 255).astype(np.uint8), "RGB")


def _alpha(color: RGB, a: float) -> tuple[int, int, int, int]:
    return (*color, int(255 * a))


def _overlay(base: Image.Image, layer: Image.Image) -> Image.Image:
    return Image.alpha_composite(base.convert("RGBA"), layer)


# --------------------------------------------------------------------------- title card
def _title_card(img: Image.Image, req: ImageRequest, pal: Palette, rng: random.Random, area: Box, marks: Marks) -> Image.Image:
    """Kicker (the project title), title and an accent bar, centred as one block in ``area``."""
    w, h = img.size
    s = min(w, h)
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    for _ in range(6):
        r = rng.uniform(0.15, 0.5) * s
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_alpha(rng.choice([pal.accent, pal.accent2]), 0.07))
    d.ellipse((w * 0.72, -0.25 * h, w * 0.72 + 0.9 * s, -0.25 * h + 0.9 * s), outline=_alpha(pal.accent, 0.25), width=max(2, s // 180))
    layer = layer.filter(ImageFilter.GaussianBlur(s / 200))
    img = _overlay(img, layer)
    d = ImageDraw.Draw(img)
    title = req.description.strip()
    kicker = req.project_title.strip() if req.project_title.strip().lower() != title.lower() else ""
    gap, bar_h = s * 0.035, max(6, s * 0.008)
    kf = fit_text(kicker.upper(), area.width, min(s * 0.09, area.height * 0.2), kind="sans", max_size=int(s * 0.034),
                  min_size=int(s * 0.02), max_lines=2) if kicker else None
    room = area.height - (kf.height + gap if kf else 0) - gap - bar_h
    title_max = int(s * 0.12)
    shadow_off = max(2, title_max // 24)  # draw_text's shadow offset at the largest size: the ink reaches that far right
    fitted = fit_text(title, area.width - shadow_off, min(h * 0.36, room), kind="bold", max_size=title_max, min_size=int(s * 0.03),
                      line_spacing=1.15)
    block = (kf.height + gap if kf else 0) + fitted.height + gap + bar_h
    align = "left" if req.variant % 3 == 1 else "center"  # variant 1: flush left; 2: centred, low in the area
    top = area.y0 + (area.height - block) * (0.78 if req.variant % 3 == 2 else 0.5)
    if kf:
        marks.text(kf, draw_text(d, kf, (area.x0, top, area.x1, top + kf.height), pal.accent, align=align, valign="bottom"))
        top += kf.height + gap
    marks.text(fitted, draw_text(d, fitted, (area.x0, top, area.x1 - shadow_off, top + fitted.height), pal.fg, align=align,
                                 shadow=(*mix(pal.bg, (0, 0, 0), 0.5), 160)))
    bar_w = min(fitted.width(), area.width) * 0.35
    cx, y = (area.x0 + area.x1) / 2, top + fitted.height + gap
    if align == "left":
        cx = area.x0 + bar_w / 2
    bar = (cx - bar_w / 2, y, cx + bar_w / 2, y + bar_h)
    d.rounded_rectangle(bar, radius=4, fill=pal.accent)
    marks.shape("title underline", bar)
    return img


# --------------------------------------------------------------------------- diagram
def diagram_items(description: str, narration: str) -> list[str]:
    """Boxes of a diagram: the description's items ('a; b; c', 'a → b', 'a, b, c'), or else the
    narration's sentences (2–5 boxes)."""
    text = re.sub(r"^\s*(diagram|flow ?chart|chart|şema|diagramm)\s*[:\-–]\s*", "", description, flags=re.I)
    for pattern in (r"\s*;\s*", r"\s*(?:→|->|⇒|=>)\s*", r"\s*,\s*"):
        items = [i.strip(" .") for i in re.split(pattern, text) if i.strip(" .")]
        if 2 <= len(items) <= 6:
            return items
    sentences = [s.rstrip(".") for s in split_sentences(narration)]
    if len(sentences) >= 2:
        return sentences[:5]
    return [text.strip()] if text.strip() else sentences[:1]


def _diagram(img: Image.Image, req: ImageRequest, pal: Palette, rng: random.Random, area: Box, marks: Marks) -> Image.Image:
    """Heading (the chapter title) with an accent rule, then numbered boxes joined by arrows — across the
    area on a landscape frame, down it on a portrait one; box shadows included, all inside ``area``."""
    w, h = img.size
    s = min(w, h)
    d = ImageDraw.Draw(img)
    header = fit_text(req.chapter_title, area.width, min(h * 0.12, area.height * 0.22), kind="bold", max_size=int(s * 0.07),
                      min_size=int(s * 0.03), max_lines=2)
    centred = req.variant % 2 == 1  # odd variants: the heading and its rule centred
    ink = draw_text(d, header, (area.x0, area.y0, area.x1, area.y0 + header.height), pal.fg, align="center" if centred else "left", valign="top")
    marks.text(header, ink)
    rx = (area.x0 + area.x1) / 2 - s * 0.06 if centred else area.x0
    rule = (rx, area.y0 + header.height + s * 0.015, rx + s * 0.12, area.y0 + header.height + s * 0.022)
    d.rectangle(rule, fill=pal.accent)
    marks.shape("heading rule", rule)
    items = diagram_items(req.description, req.narration)
    n = len(items)
    shadow_dx, shadow_dy = s * 0.008, s * 0.01
    boxes_area = (area.x0, area.y0 + header.height + s * 0.05, area.x1 - shadow_dx, area.y1 - shadow_dy)
    vertical = h > w * 1.1
    gap = s * (0.06 if n > 1 else 0)
    box_fill = mix(pal.bg, pal.fg, 0.1) if req.variant % 3 != 2 else mix(pal.bg, pal.accent, 0.22)  # variant 2: tinted boxes
    bx0, by0, bx1, by1 = boxes_area
    if vertical:
        gap = min(gap, (by1 - by0) * 0.3 / max(1, n - 1))
        bh = (by1 - by0 - gap * (n - 1)) / n
        boxes = [(bx0, by0 + i * (bh + gap), bx1, by0 + i * (bh + gap) + bh) for i in range(n)]
    else:
        bw = (bx1 - bx0 - gap * (n - 1)) / n
        bh = min(by1 - by0, max(bw * 0.9, (by1 - by0) * 0.6))
        y0 = by0 + (by1 - by0 - bh) / 2
        boxes = [(bx0 + i * (bw + gap), y0, bx0 + i * (bw + gap) + bw, y0 + bh) for i in range(n)]
    radius = int(min(s * 0.025, min(b[3] - b[1] for b in boxes) / 4))
    for i, (box, item) in enumerate(zip(boxes, items, strict=True)):
        color = pal.accent if i % 2 == 0 else pal.accent2
        shadow = (box[0] + shadow_dx, box[1] + shadow_dy, box[2] + shadow_dx, box[3] + shadow_dy)
        d.rounded_rectangle(shadow, radius=radius, fill=mix(pal.bg, (0, 0, 0), 0.45))
        d.rounded_rectangle(box, radius=radius, fill=box_fill, outline=color, width=max(3, s // 270))
        marks.shape(f"box {i + 1}", (box[0], box[1], shadow[2], shadow[3]))
        pad = min(s * 0.03, (box[3] - box[1]) * 0.12)
        badge_r = min(s * 0.032, (box[3] - box[1]) * 0.22)
        bx, by = box[0] + pad + badge_r, box[1] + pad + badge_r
        d.ellipse((bx - badge_r, by - badge_r, bx + badge_r, by + badge_r), fill=color)
        num = fit_text(str(i + 1), badge_r * 1.6, badge_r * 1.6, kind="bold", max_size=int(badge_r * 1.2), min_size=10)
        draw_text(d, num, (bx - badge_r, by - badge_r, bx + badge_r, by + badge_r), pal.bg)
        inner = (box[0] + pad, by + badge_r + pad * 0.6, box[2] - pad, box[3] - pad)
        if vertical:
            inner = (bx + badge_r + pad, box[1] + pad * 0.6, box[2] - pad, box[3] - pad * 0.6)
        txt = fit_text(item[:1].upper() + item[1:], inner[2] - inner[0], inner[3] - inner[1], kind="sans",
                       max_size=int(s * 0.05), min_size=int(s * 0.018), line_spacing=1.2)
        marks.text(txt, draw_text(d, txt, inner, pal.fg, align="left" if vertical else "center"))
        if i < n - 1:
            _arrow(d, box, boxes[i + 1], vertical, pal.fg, s)
    return img


def _arrow(d: ImageDraw.ImageDraw, a: tuple, b: tuple, vertical: bool, color: RGB, s: int) -> None:
    width = max(4, s // 160)
    head = s * 0.018
    if vertical:
        x = (a[0] + a[2]) / 2
        y0, y1 = a[3] + s * 0.012, b[1] - s * 0.012
        d.line((x, y0, x, y1 - head), fill=color, width=width)
        d.polygon([(x - head, y1 - head * 1.2), (x + head, y1 - head * 1.2), (x, y1)], fill=color)
    else:
        y = (a[1] + a[3]) / 2
        x0, x1 = a[2] + s * 0.01, b[0] - s * 0.01
        d.line((x0, y, x1 - head, y), fill=color, width=width)
        d.polygon([(x1 - head * 1.2, y - head), (x1 - head * 1.2, y + head), (x1, y)], fill=color)


# --------------------------------------------------------------------------- b-roll
def _b_roll(img: Image.Image, req: ImageRequest, pal: Palette, rng: random.Random, area: Box, marks: Marks) -> Image.Image:
    """The abstract scene of the description; over it, pictures of what the narration and description name
    (:func:`storyreel.providers.image.art.match_subjects`), the hero where the camera move ends, between
    the top and bottom of ``area`` (clear of caption banners and the subtitle band)."""
    scene = draw_broll(img, req.description, pal, rng)
    sheets = [Path(r.path) for r in req.references if r.role == "entity" and r.path and Path(r.path).is_file()]
    if sheets:  # the entities the shot shows, as their reference images (the same picture in every shot)
        from storyreel.providers.image.components import draw_components

        turn = req.variant % len(sheets)
        return draw_components(scene.convert("RGBA"), sheets[turn:] + sheets[:turn], pal, rng, req.camera_move, band=(area.y0, area.y1))
    subjects = broll_subjects(req)
    if not subjects:
        return scene
    turn = req.variant % len(subjects)  # a candidate's variant makes another matched subject the hero
    subjects = subjects[turn:] + subjects[:turn]
    return draw_subjects(scene.convert("RGBA"), subjects, pal, rng, req.camera_move, band=(area.y0, area.y1))


def broll_subjects(req: ImageRequest) -> list:
    """The artworks a b-roll request names (hero first; [] when none)."""
    from storyreel.providers.image.art import match_subjects

    return match_subjects(f"{req.narration} {req.description}", req.language)


# --------------------------------------------------------------------------- screen share
MOBILE = re.compile(r"\b(mobil\w*|phone|telefon\w*|app|uygulama\w*|handy)\b", re.I)


def _screen_share(img: Image.Image, req: ImageRequest, pal: Palette, rng: random.Random, area: Box, marks: Marks) -> Image.Image:
    """An app mock-up inside ``area``: a phone (with the description beside it on a landscape frame) when the
    description names one or the frame is portrait, else a browser window."""
    w, h = img.size
    s = min(w, h)
    d = ImageDraw.Draw(img)
    mobile = bool(MOBILE.search(req.description)) or h > w
    surface, ink, line = (246, 247, 249), (34, 40, 49), (214, 218, 224)
    bezel = s * 0.012
    if mobile:
        ph = area.height - 2 * bezel
        pw = min(ph * 0.5, area.width * (0.8 if h > w else 0.4) - 2 * bezel)
        ph = min(ph, pw * 2.1)
        phone_left = h <= w and req.variant % 2 == 1  # odd variants: the phone left, its caption right
        if h > w:
            x0 = (area.x0 + area.x1 - pw) / 2
        elif phone_left:
            x0 = area.x0 + bezel + area.width * 0.04
        else:
            x0 = area.x1 - bezel - pw - area.width * 0.04
        y0 = (area.y0 + area.y1 - ph) / 2
        phone = (x0 - bezel, y0 - bezel, x0 + pw + bezel, y0 + ph + bezel)
        d.rounded_rectangle(phone, radius=int(pw * 0.12), fill=(18, 18, 22))
        d.rounded_rectangle((x0, y0, x0 + pw, y0 + ph), radius=int(pw * 0.1), fill=surface)
        marks.shape("phone", phone)
        screen = (x0 + pw * 0.08, y0 + ph * 0.06, x0 + pw * 0.92, y0 + ph * 0.95)
        if h <= w:
            cap_box = (phone[2] + area.width * 0.06, area.y0, area.x1, area.y1) if phone_left else (area.x0, area.y0, phone[0] - area.width * 0.06, area.y1)
            cap = fit_text(req.description, cap_box[2] - cap_box[0], cap_box[3] - cap_box[1], kind="bold",
                           max_size=int(s * 0.06), min_size=int(s * 0.025))
            marks.text(cap, draw_text(d, cap, cap_box, pal.fg, align="left"))
    else:
        x0, y0, x1, y1 = area.x0, area.y0, area.x1, area.y1
        bar = min(s * 0.06, area.height * 0.1)
        d.rounded_rectangle((x0, y0, x1, y1), radius=int(s * 0.02), fill=surface)
        d.rounded_rectangle((x0, y0, x1, y0 + bar), radius=int(s * 0.02), fill=(226, 229, 234))
        marks.shape("browser window", (x0, y0, x1, y1))
        for i, c in enumerate([(237, 106, 94), (245, 191, 79), (97, 197, 84)]):
            cx = x0 + s * (0.035 + i * 0.03)
            d.ellipse((cx - bar / 6, y0 + bar / 3, cx + bar / 6, y0 + bar * 2 / 3), fill=c)
        side = x0 + (x1 - x0) * 0.22
        d.rectangle((x0, y0 + bar, side, y1), fill=(236, 238, 242))
        for i in range(6):
            yy = y0 + bar + s * (0.04 + i * 0.06)
            if yy + s * 0.025 > y1 - s * 0.02:
                break
            d.rounded_rectangle((x0 + s * 0.03, yy, side - s * 0.03, yy + s * 0.025), radius=6, fill=line if i else pal.accent)
        screen = (x0 + (x1 - x0) * 0.26, y0 + bar + s * 0.04, x1 - s * 0.04, y1 - s * 0.04)
    sx0, sy0, sx1, sy1 = screen
    title = fit_text(req.chapter_title, sx1 - sx0, (sy1 - sy0) * 0.16, kind="bold", max_size=int(s * 0.05), min_size=int(s * 0.018), max_lines=2)
    marks.text(title, draw_text(d, title, (sx0, sy0, sx1, sy0 + title.height), ink, align="left", valign="top"))
    y = sy0 + title.height + s * 0.03
    field_h = min(s * 0.06, (sy1 - sy0) * 0.1)
    for _ in range(3):
        if y + field_h * 1.6 > sy1 - field_h * 1.5:
            break
        d.rounded_rectangle((sx0, y, sx0 + (sx1 - sx0) * rng.uniform(0.25, 0.45), y + field_h * 0.3), radius=5, fill=line)
        y += field_h * 0.5
        d.rounded_rectangle((sx0, y, sx1, y + field_h), radius=int(field_h * 0.2), outline=line, width=max(2, s // 360), fill=(255, 255, 255))
        d.rounded_rectangle((sx0 + s * 0.02, y + field_h * 0.38, sx0 + (sx1 - sx0) * rng.uniform(0.3, 0.7), y + field_h * 0.62), radius=5, fill=(200, 204, 212))
        y += field_h + field_h * 0.6
    d.rounded_rectangle((sx0, sy1 - field_h * 1.1, sx1, sy1 - field_h * 0.1), radius=int(field_h * 0.5), fill=pal.accent)
    return img


# --------------------------------------------------------------------------- talking head
def _talking_head(img: Image.Image, req: ImageRequest, pal: Palette, rng: random.Random, area: Box, marks: Marks) -> Image.Image:
    """A presenter silhouette (right of centre on a landscape frame, with the chapter title beside it)."""
    w, h = img.size
    s = min(w, h)
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    left = h < w and req.variant % 2 == 1  # odd variants: the presenter left of centre, the title right
    cx = w * (0.5 if h >= w else 0.38 if left else 0.62)
    d.ellipse((cx - s * 0.55, h * 0.05, cx + s * 0.55, h * 0.05 + s * 1.1), fill=_alpha(pal.accent, 0.16))
    layer = layer.filter(ImageFilter.GaussianBlur(s * 0.06))
    img = _overlay(img, layer)
    d = ImageDraw.Draw(img)
    body = mix(pal.bg, (0, 0, 0), 0.55)
    head_r = s * 0.13
    head_cy = h * 0.62 - s * 0.3 if h >= w else h * 0.4
    d.rounded_rectangle((cx - s * 0.3, head_cy + head_r * 1.15, cx + s * 0.3, h + s * 0.2), radius=int(s * 0.18), fill=body)
    d.rectangle((cx - head_r * 0.38, head_cy + head_r * 0.8, cx + head_r * 0.38, head_cy + head_r * 1.4), fill=body)
    d.ellipse((cx - head_r, head_cy - head_r * 1.15, cx + head_r, head_cy + head_r * 1.05), fill=body)
    d.ellipse((cx - head_r, head_cy - head_r * 1.15, cx + head_r, head_cy + head_r * 1.05), outline=pal.accent, width=max(3, s // 300))
    if h < w:
        rule_h = s * 0.008
        if left:
            label_box = (max(area.x0, cx + s * 0.34), area.y0, area.x1, area.y1 - rule_h - s * 0.03)
        else:
            label_box = (area.x0, area.y0, min(area.x1, cx - s * 0.34), area.y1 - rule_h - s * 0.03)
        label = fit_text(req.chapter_title, label_box[2] - label_box[0], min(h * 0.3, label_box[3] - label_box[1]), kind="bold",
                         max_size=int(s * 0.07), min_size=int(s * 0.03))
        ink = draw_text(d, label, label_box, pal.fg, align="left")
        marks.text(label, ink)
        rule = (label_box[0], ink[3] + s * 0.02, label_box[0] + s * 0.1, ink[3] + s * 0.02 + rule_h)
        d.rectangle(rule, fill=pal.accent)
        marks.shape("label rule", rule)
    return img
