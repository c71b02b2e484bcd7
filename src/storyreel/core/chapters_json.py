"""Import of btcedu chapter JSON (seed 001, ``chapters.json``) into a storyboard.

Shape: ``schema_version``, optional ``episode_id``/``title``/``language``, and ``chapters[]`` each with
``chapter_id``, ``title``, ``order``, ``narration.text``, ``visuals[]`` (``type``, ``description``,
``image_prompt``), ``overlays[]`` and ``transitions`` (``in``/``out``: ``fade`` | ``cut``).
Each visual becomes one shot; a chapter's narration is split across its visuals by sentence.
Nothing in the file is trusted: IDs are validated before they become file names.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyreel.core.artifact import (
    ID_PATTERN,
    Chapter,
    Overlay,
    PlanInfo,
    ProjectSettings,
    Shot,
    SourceInfo,
    Storyboard,
    Text,
    Visual,
    VisualType,
    format_validation_error,
    is_valid_id,
    slugify_id,
)
from storyreel.core.errors import InputError
from storyreel.core.text import split_sentences

CAMERA_CYCLE = ["zoom_in", "pan_right", "zoom_out", "pan_left"]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ChapterNarration(_In):
    text: Text = Field(min_length=1, max_length=20000)
    estimated_duration_seconds: float | None = Field(default=None, ge=0)


class ChapterVisual(_In):
    type: VisualType
    description: Text = Field(min_length=1, max_length=2000)
    image_prompt: Text | None = Field(default=None, max_length=4000)


class ChapterOverlay(_In):
    type: str = Field(min_length=1, max_length=40)
    text: Text = Field(min_length=1, max_length=200)


class ChapterTransitions(_In):
    in_: Literal["fade", "cut", "dissolve", "crossfade"] = Field(default="cut", alias="in")
    out: Literal["fade", "cut", "dissolve", "crossfade"] = "cut"


class ChapterEntry(_In):
    chapter_id: str = Field(pattern=ID_PATTERN)
    title: Text = Field(min_length=1, max_length=200)
    order: int | None = None
    narration: ChapterNarration
    visuals: list[ChapterVisual] = Field(min_length=1, max_length=50)
    overlays: list[ChapterOverlay] = Field(default_factory=list, max_length=4)
    transitions: ChapterTransitions = Field(default_factory=ChapterTransitions)


class ChapterDocument(_In):
    """The btcedu chapter file (seed 001 §2, Sprint 6 chapter schema)."""

    schema_version: str = Field(pattern=r"^1(\.\d+)?$")
    episode_id: str | None = Field(default=None, pattern=ID_PATTERN, description="Becomes the project ID (a folder name).")
    title: Text | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    chapters: list[ChapterEntry] = Field(min_length=1, max_length=500)


def parse_chapter_document(data: dict, name: str) -> ChapterDocument:
    """Validate chapter JSON. Raises :class:`InputError` listing every bad field, e.g. ``chapters[2].title``."""
    try:
        doc = ChapterDocument.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            "chapter JSON does not match the chapter schema:\n" + format_validation_error(exc),
            field=name,
            hint="fix the fields listed above; chapter_id must match " + ID_PATTERN,
        ) from exc
    ids = [c.chapter_id for c in doc.chapters]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(f"duplicate chapter_id {', '.join(dupes)}", field=f"{name}.chapters", hint="make IDs unique")
    return doc


def chapters_to_storyboard(doc: ChapterDocument, source: SourceInfo, project_id: str | None = None) -> Storyboard:
    """Map a validated chapter document to a storyboard: one shot per visual, ordered by ``order``."""
    chapters_in = sorted(doc.chapters, key=lambda c: (c.order is None, c.order or 0))
    title = doc.title or chapters_in[0].title
    chapters: list[Chapter] = []
    for ci, entry in enumerate(chapters_in):
        parts = _split_narration(entry.narration.text, len(entry.visuals))
        shots: list[Shot] = []
        for vi, (visual, text) in enumerate(zip(entry.visuals, parts, strict=True)):
            is_last = vi == len(entry.visuals) - 1
            fade_out = entry.transitions.out != "cut"
            next_in = chapters_in[ci + 1].transitions.in_ != "cut" if ci + 1 < len(chapters_in) else False
            description = visual.description
            if visual.type == "title_card":
                description = re.sub(r"^[^:]{1,40}:\s*", "", description) or description
            shots.append(
                Shot(
                    shot_id=shot_id(entry.chapter_id, vi + 1),
                    narration=text,
                    visual=Visual(type=visual.type, description=description, image_prompt=visual.image_prompt),
                    camera_move="zoom_in" if visual.type == "title_card" else CAMERA_CYCLE[(ci + vi) % 4],
                    overlays=[Overlay(type=_overlay_type(o.type), text=o.text) for o in entry.overlays]
                    if vi == 0
                    else [],
                    transition="crossfade" if (not is_last or fade_out or next_in) else "cut",
                )
            )
        chapters.append(Chapter(chapter_id=entry.chapter_id, title=entry.title, shots=shots))
    settings = ProjectSettings(
        title=title,
        language=doc.language or "en",
        fade_in=chapters_in[0].transitions.in_ != "cut",
        fade_out=chapters_in[-1].transitions.out != "cut",
    )
    pid = project_id or (doc.episode_id if is_valid_id(doc.episode_id) else None)  # an unusable episode_id: from the title
    return Storyboard(
        project_id=pid or slugify_id(title),
        settings=settings,
        source=source,
        plan=PlanInfo(provider="import:chapters", structure="chapters"),
        chapters=chapters,
    )


def shot_id(chapter_id: str, number: int) -> str:
    """``<chapter_id>-sNN``; a chapter ID too long for that (IDs are ≤ 64 characters) is shortened and
    given 6 hex digits of its sha256, so the shot IDs of different long chapter IDs never collide."""
    suffix = f"-s{number:02d}"
    if len(chapter_id) + len(suffix) <= 64:
        return chapter_id + suffix
    digest = hashlib.sha256(chapter_id.encode("utf-8")).hexdigest()[:6]
    return f"{chapter_id[: 64 - len(suffix) - 7]}-{digest}{suffix}"


def _overlay_type(kind: str) -> Literal["lower_third", "caption"]:
    return "lower_third" if kind.lower() in {"lower_third", "lowerthird", "name", "label"} else "caption"


def _split_narration(text: str, parts: int) -> list[str]:
    """Split narration into ``parts`` contiguous sentence groups of similar length."""
    if parts == 1:
        return [text.strip()]
    sentences = split_sentences(text)
    if len(sentences) < parts:
        raise InputError(
            f"narration has {len(sentences)} sentence(s) for {parts} visuals",
            field="chapters[].narration.text",
            hint="give each visual at least one sentence of narration, or merge visuals",
        )
    cumulative = [0]
    for sentence in sentences:
        cumulative.append(cumulative[-1] + len(sentence))
    bounds = [0]
    for j in range(1, parts):
        lo, hi = bounds[-1] + 1, len(sentences) - (parts - j)
        target = cumulative[-1] * j / parts
        bounds.append(min(range(lo, hi + 1), key=lambda i: abs(cumulative[i] - target)))
    bounds.append(len(sentences))
    return [" ".join(sentences[a:b]) for a, b in zip(bounds, bounds[1:])]
