"""The frame layout: named regions per shot, the card's motion-aware text area, and the layout record.

One model places every piece of text a viewer reads, top to bottom on the output frame::

    title-safe margin (5 %, EBU R 95)
    caption banners      overlays of type ``caption``, stacked from the text inset's top edge
    content              the picture's own text and key shapes (headings, diagrams, mock-ups)
    lower thirds         overlays of type ``lower_third``, stacked upwards from the subtitle band
    subtitle band        reserved for burned-in cues at their tallest (``MAX_LINES`` lines)
    title-safe margin

Regions are measured boxes (the overlay's fitted text, the tallest cue), separated by :data:`GAP`, so they
cannot overlap. The content region is in output-frame pixels; a card is drawn on the still, which the
Ken Burns move then scales and shifts, so :func:`motion_safe_area` maps the region back onto the still for
every visible frame of the move and keeps the intersection: text laid out there stays inside the content
region — and so inside the title-safe area and clear of every overlay — at every frame.

The *layout record* (``clips/<shot>.layout.json``, written by the clip stage) lists every box: the card's
(still pixels, moving with the camera) and the overlays' and cues' (frame pixels, with their frame
ranges). :func:`check_text_layout` replays the move frame by frame and is the QC check ``text_layout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyreel.media.standards import TEXT_INSET, TITLE_SAFE_MARGIN
from storyreel.media.timeline import KenBurns

GAP = 0.018
"""Space between regions as a fraction of the frame's shorter side (≈ 19 px at 1080)."""

OVERLAP_TOLERANCE_PX = 0.5
"""Boxes that share an edge, or overlap by less than half a pixel (anti-aliasing), do not collide."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: left, top, right, bottom (right/bottom exclusive, floats)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    def inset(self, dx: float, dy: float | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x0 + dx, self.y0 + dy, self.x1 - dx, self.y1 - dy)

    def intersect(self, other: Box) -> Box:
        """The common part (possibly :attr:`empty`)."""
        return Box(max(self.x0, other.x0), max(self.y0, other.y0), min(self.x1, other.x1), min(self.y1, other.y1))

    def overlaps(self, other: Box, tolerance: float = OVERLAP_TOLERANCE_PX) -> bool:
        return min(self.x1, other.x1) - max(self.x0, other.x0) > tolerance and min(self.y1, other.y1) - max(self.y0, other.y0) > tolerance

    def contains(self, other: Box, tolerance: float = OVERLAP_TOLERANCE_PX) -> bool:
        return (other.x0 >= self.x0 - tolerance and other.y0 >= self.y0 - tolerance
                and other.x1 <= self.x1 + tolerance and other.y1 <= self.y1 + tolerance)

    def as_list(self) -> list[float]:
        return [round(self.x0, 2), round(self.y0, 2), round(self.x1, 2), round(self.y1, 2)]

    @classmethod
    def of(cls, values: Any) -> Box:
        x0, y0, x1, y1 = (float(v) for v in values)
        return cls(x0, y0, x1, y1)


def title_safe(width: int, height: int) -> Box:
    """The title-safe (graphics-safe) area: the central 90 % (EBU R 95)."""
    return Box(0, 0, width, height).inset(width * TITLE_SAFE_MARGIN, height * TITLE_SAFE_MARGIN)


def text_inset(width: int, height: int) -> Box:
    """Where overlays and subtitles go: :data:`~storyreel.media.standards.TEXT_INSET` on each side."""
    return Box(0, 0, width, height).inset(width * TEXT_INSET, height * TEXT_INSET)


@dataclass(frozen=True)
class Placed:
    """One overlay placed on the frame: its kind, text and box (frame pixels)."""

    kind: str
    text: str
    box: Box


@dataclass(frozen=True)
class FrameLayout:
    """A shot's regions on a ``width × height`` output frame (frame pixels). ``subtitles`` is the band
    reserved for cues (None when the shot has no narration); ``content`` what is left for the picture's
    text and key shapes."""

    width: int
    height: int
    safe: Box
    overlays: tuple[Placed, ...]
    subtitles: Box | None
    content: Box


def frame_layout(width: int, height: int, overlays: list[tuple[str, str]], subtitles: bool) -> FrameLayout:
    """Place a shot's overlays (``(kind, text)`` in storyboard order) and reserve the subtitle band.

    Caption banners stack downwards from the text inset's top edge, centred; lower thirds stack upwards
    from the subtitle band (or the text inset's bottom edge), on the inset's left edge; each is as large
    as its fitted text (:func:`storyreel.media.overlays.overlay_size`). The content region is the
    title-safe area between the last caption and the first lower third / the subtitle band, :data:`GAP`
    away from each."""
    from storyreel.media.overlays import overlay_size
    from storyreel.media.subtitles import subtitle_band

    safe = title_safe(width, height)
    inset = text_inset(width, height)
    gap = min(width, height) * GAP
    band = subtitle_band(width, height) if subtitles else None
    bottom = (band[0] if band else inset.y1) - (gap if band else 0)
    top = inset.y0
    placed: list[Placed] = []
    for kind, text in overlays:
        w, h = overlay_size(kind, text, width, height)
        if kind == "lower_third":
            box = Box(inset.x0, bottom - h, inset.x0 + w, bottom)
            bottom = box.y0 - gap
        else:
            box = Box((width - w) // 2, top, (width - w) // 2 + w, top + h)
            top = box.y1 + gap
        placed.append(Placed(kind, text, box))
    content_top = top if any(p.kind != "lower_third" for p in placed) else safe.y0
    content_bottom = bottom if (band or any(p.kind == "lower_third" for p in placed)) else safe.y1
    content = Box(safe.x0, content_top, safe.x1, min(content_bottom, safe.y1))
    return FrameLayout(width, height, safe, tuple(placed), Box(inset.x0, band[0], inset.x1, band[1]) if band else None, content)


def camera_windows(camera: KenBurns, src_w: int, src_h: int, width: int, height: int, samples: int = 33):  # noqa: ANN201
    """The affine maps (s, tx, ty) of the move at ``samples`` evenly spaced progress values in [0, 1]
    (:meth:`KenBurns.window`, the formula the warp uses)."""
    for i in range(samples):
        yield camera.window(i / (samples - 1), src_w, src_h, width, height)


def motion_safe_area(region: Box, camera: KenBurns, src_w: int, src_h: int, width: int, height: int) -> Box:
    """The part of the still (still pixels) that lies inside ``region`` (frame pixels) at every frame of
    the move: the intersection over the move of the region mapped back onto the still. Every move is
    linear in progress, so the extremes are at its ends; 33 samples keep the result exact for any path
    that is monotone between them."""
    area = Box(0, 0, src_w, src_h)
    for s, tx, ty in camera_windows(camera, src_w, src_h, width, height):
        area = area.intersect(Box((region.x0 - tx) / s, (region.y0 - ty) / s, (region.x1 - tx) / s, (region.y1 - ty) / s))
    return area


# --------------------------------------------------------------------------- the QC check
def check_text_layout(records: list[dict]) -> tuple[bool, str, list[str]]:
    """Replay every shot's layout record frame by frame. Fails when a text box leaves the title-safe area,
    a key shape leaves the frame's safe area, or two boxes of different groups (card, overlay, subtitle) —
    or two text boxes of one group — overlap at any frame where both are visible.

    A record: ``{"shot_id", "frame": [W, H], "still": [w, h], "camera": KenBurns fields, "span": frames the
    still is visible (pre + slot + post), "body": [first, end) of the body in the same frame count,
    "elements": [{"group": "card" | "overlay" | "subtitle", "role": "text" | "shape", "text", "box":
    [x0, y0, x1, y1], "frames": [first, last] body-relative (overlays and cues only; card elements are in
    still pixels and move with the camera)}]}``, or ``{"shot_id", "missing": true}`` for a shot whose record
    could not be read (a failure). Returns (passed, measured summary, failure messages)."""
    failures: list[str] = []
    boxes_checked = 0
    for rec in records:
        if rec.get("missing"):
            failures.append(f"{rec['shot_id']}: no layout record (clips/{rec['shot_id']}.layout.json)")
            continue
        failures += _check_shot(rec)
        boxes_checked += len(rec.get("elements", []))
    measured = f"{boxes_checked} boxes in {len(records)} shots, {len(failures)} problems"
    return not failures, measured, failures


def _check_shot(rec: dict) -> list[str]:
    """Every frame of the span at once (numpy): boxes (frames × elements × 4) and visibility masks."""
    import numpy as np

    width, height = rec["frame"]
    src_w, src_h = rec["still"]
    camera = KenBurns(**rec["camera"])
    span = max(1, int(rec["span"]))
    body0 = int(rec["body"][0])
    elements = rec["elements"]
    if not elements:
        return []
    s, tx, ty = camera.window(np.arange(span) / max(1, span - 1), src_w, src_h, width, height)
    boxes = np.empty((span, len(elements), 4))
    live = np.ones((span, len(elements)), dtype=bool)
    frames = np.arange(span)
    for i, el in enumerate(elements):
        b = np.asarray(el["box"], dtype=float)
        if el["group"] == "card":
            boxes[:, i, 0], boxes[:, i, 2] = b[0] * s + tx, b[2] * s + tx
            boxes[:, i, 1], boxes[:, i, 3] = b[1] * s + ty, b[3] * s + ty
        else:
            boxes[:, i] = b
            first, last = el["frames"]
            live[:, i] = (frames >= body0 + first) & (frames <= body0 + last)
    tol = OVERLAP_TOLERANCE_PX
    problems: list[tuple[int, str]] = []
    safe = title_safe(width, height)
    for i, el in enumerate(elements):
        lim = safe if el["role"] == "text" else Box(0, 0, width, height)
        out = live[:, i] & ((boxes[:, i, 0] < lim.x0 - tol) | (boxes[:, i, 1] < lim.y0 - tol)
                            | (boxes[:, i, 2] > lim.x1 + tol) | (boxes[:, i, 3] > lim.y1 + tol))
        if out.any():
            where = "title-safe area" if el["role"] == "text" else "frame"
            problems.append((int(out.argmax()), f"{el['group']} {el['role']} {_label(el)} leaves the {where}"))
    for i, a in enumerate(elements):
        for j in range(i + 1, len(elements)):
            b = elements[j]
            if a["group"] == b["group"] and not (a["role"] == b["role"] == "text"):
                continue
            ov = (live[:, i] & live[:, j]
                  & (np.minimum(boxes[:, i, 2], boxes[:, j, 2]) - np.maximum(boxes[:, i, 0], boxes[:, j, 0]) > tol)
                  & (np.minimum(boxes[:, i, 3], boxes[:, j, 3]) - np.maximum(boxes[:, i, 1], boxes[:, j, 1]) > tol))
            if ov.any():
                problems.append((int(ov.argmax()), f"{a['group']} {_label(a)} overlaps {b['group']} {_label(b)}"))
    return [f"{rec['shot_id']}: {m} (first at frame {k - body0:+d} of the body)" for k, m in problems]


def _label(el: dict) -> str:
    text = str(el.get("text") or el.get("kind") or el["role"])
    return repr(text[:32] + ("…" if len(text) > 32 else ""))
