"""Subtitles: cues from word timings, SRT/WebVTT sidecars, and cue images burned into the video.

Cues hold at most two lines no wider than the text inset leaves (80 % of the frame,
:data:`storyreel.media.standards.TEXT_INSET`, inside EBU R 95's title-safe area); each cue starts at its first word's timing and ends where the next cue
starts (or at the last word's end), so burned subtitles follow the narration's word timings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from storyreel.core.words import WordTiming
from storyreel.media.standards import TEXT_INSET as SAFE_MARGIN
from storyreel.media.typography import font, wrap


@dataclass(frozen=True)
class _Timed:
    start_s: float
    end_s: float
    char_start: int
    char_end: int


MAX_LINES = 2


@dataclass(frozen=True)
class Cue:
    """One subtitle: ``start_s``/``end_s`` in seconds (relative to whatever clock the caller uses)."""

    text: str
    start_s: float
    end_s: float
    words: tuple[float, float] | None = None  # (first word start, last word end) on the same clock

    def shifted(self, offset_s: float) -> Cue:
        words = None if self.words is None else (round(self.words[0] + offset_s, 3), round(self.words[1] + offset_s, 3))
        return Cue(self.text, round(self.start_s + offset_s, 3), round(self.end_s + offset_s, 3), words)


def subtitle_font_size(width: int, height: int) -> int:
    """Subtitle text height in pixels: 4.6 % of the shorter side (50 px at 1080)."""
    return max(16, int(min(width, height) * 0.046))


def make_cues(text: str, words: list[WordTiming], width: int, height: int) -> list[Cue]:
    """Split narration ``text`` into cues of ≤ 2 lines within the frame's text inset, timed by ``words``.

    Chunks break preferably after sentence or clause punctuation. Times are relative to the start of the
    narration audio. Returns [] for empty text. Memoized: every node key that shows subtitles asks again.
    """
    timings = tuple((w.start_s, w.end_s, w.char_start, w.char_end) for w in words)
    return list(_make_cues(text, timings, width, height))


@lru_cache(maxsize=4096)
def _make_cues(text: str, timings: tuple[tuple[float, float, int, int], ...], width: int, height: int) -> tuple[Cue, ...]:
    words = [_Timed(*t) for t in timings]
    tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not tokens:
        return ()
    fnt = font("bold", subtitle_font_size(width, height))
    max_w = width * (1 - 2 * SAFE_MARGIN) - 2 * _pad(fnt.size)
    chunks: list[list[tuple[str, int, int]]] = [[]]
    for tok in tokens:
        candidate = " ".join(t[0] for t in [*chunks[-1], tok])
        if chunks[-1] and len(wrap(candidate, fnt, max_w)) > MAX_LINES:
            chunks.append([])
        chunks[-1].append(tok)
    chunks = _rebalance(chunks, fnt, max_w)
    end_of_audio = max((w.end_s for w in words), default=0.0)
    starts: list[float] = []
    spans: list[tuple[float, float] | None] = []
    for chunk in chunks:
        c0, c1 = chunk[0][1], chunk[-1][2]
        timed = [w for w in words if w.char_start < c1 and w.char_end > c0]
        starts.append(timed[0].start_s if timed else (starts[-1] if starts else 0.0))
        spans.append((round(timed[0].start_s, 3), round(timed[-1].end_s, 3)) if timed else None)
    cues = []
    for i, chunk in enumerate(chunks):
        end = starts[i + 1] if i + 1 < len(chunks) else end_of_audio
        end = max(end, starts[i] + 0.3)
        cues.append(Cue(" ".join(t[0] for t in chunk), round(starts[i], 3), round(end, 3), spans[i]))
    return tuple(cues)


def _rebalance(chunks: list[list[tuple[str, int, int]]], fnt, max_w: float) -> list[list[tuple[str, int, int]]]:
    """Move trailing words after a sentence/clause end into the next chunk when it still fits."""
    for i in range(len(chunks) - 1):
        chunk = chunks[i]
        for j in range(len(chunk) - 1, max(0, len(chunk) - 5), -1):
            if re.search(r"[.!?;:,]$", chunk[j - 1][0]):
                moved = chunk[j:]
                nxt = moved + chunks[i + 1]
                if len(wrap(" ".join(t[0] for t in nxt), fnt, max_w)) <= MAX_LINES:
                    chunks[i], chunks[i + 1] = chunk[:j], nxt
                break
    return [c for c in chunks if c]


def _pad(size: int) -> int:
    return max(6, size // 3)


def _cue_layout(cue_text: str, width: int, height: int):  # noqa: ANN202
    size = subtitle_font_size(width, height)
    fnt = font("bold", size)
    pad = _pad(size)
    max_w = width * (1 - 2 * SAFE_MARGIN) - 2 * pad
    lines = wrap(cue_text, fnt, max_w)[:MAX_LINES]
    line_h = int(size * 1.25)
    text_w = max(fnt.getlength(ln) for ln in lines)
    box_w, box_h = int(text_w + 2 * pad), int(line_h * len(lines) + 2 * pad * 0.8)
    x = (width - box_w) // 2
    y = int(height * (1 - SAFE_MARGIN)) - box_h
    return fnt, size, pad, lines, line_h, (x, y, box_w, box_h)


def subtitle_band(width: int, height: int) -> tuple[int, int]:
    """The band (top, bottom) in frame pixels that cues occupy at their tallest (``MAX_LINES`` lines): the
    layout keeps every other text out of it (:mod:`storyreel.media.layout`)."""
    size = subtitle_font_size(width, height)
    box_h = int(int(size * 1.25) * MAX_LINES + 2 * _pad(size) * 0.8)
    bottom = int(height * (1 - SAFE_MARGIN))
    return bottom - box_h, bottom


def cue_box(cue_text: str, width: int, height: int) -> tuple[int, int, int, int]:
    """Where a burned-in cue goes on a ``width × height`` frame: (x, y, box width, box height) in pixels,
    centred, its bottom on the text inset's bottom edge."""
    return _cue_layout(cue_text, width, height)[5]


def render_cue(cue_text: str, width: int, height: int, out_path: Path) -> tuple[int, int]:
    """Draw a cue (white bold text, dark translucent box) to a PNG sized to its box; returns the (x, y)
    of :func:`cue_box`."""
    fnt, size, pad, lines, line_h, (x, y0, box_w, box_h) = _cue_layout(cue_text, width, height)
    img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(0, 0, 0, 150))
    y = pad * 0.8
    for line in lines:
        lx = (box_w - fnt.getlength(line)) / 2
        d.text((lx, y), line, font=fnt, fill=(255, 255, 255, 255), stroke_width=max(1, size // 25), stroke_fill=(0, 0, 0, 255))
        y += line_h
    out_path.parent.mkdir(parents=True, exist_ok=True)
    img.save(out_path)
    return x, y0


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(max(0.0, seconds) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: list[Cue]) -> str:
    """SubRip text: numbered blocks, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``."""
    return "".join(
        f"{i}\n{_stamp(c.start_s, ',')} --> {_stamp(c.end_s, ',')}\n{c.text}\n\n" for i, c in enumerate(cues, start=1)
    )


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT text (W3C WebVTT): ``WEBVTT`` header, ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues."""
    return "WEBVTT\n\n" + "".join(f"{_stamp(c.start_s, '.')} --> {_stamp(c.end_s, '.')}\n{c.text}\n\n" for c in cues)
