"""The storyboard: the core artifact and single source of truth of a project.

One pydantic v2 model tree, serialized to ``storyboard.json`` and validated on every load
(ARCHITECTURE.md "The storyboard"). IDs become file names, so they are restricted to
``^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$``; shot IDs are unique across the whole storyboard.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from storyreel.core.errors import InputError
from storyreel.core.story import PICKABLE
from storyreel.core.text import strip_controls
from storyreel.core.vocabulary import (  # noqa: F401 - re-exported
    ID_PATTERN,
    AspectRatio,
    CameraMove,
    Framework,
    InputKind,
    OverlayType,
    Transition,
    VisualType,
    check_id,
    is_valid_id,
)

SCHEMA_VERSION = "1"
HEX_COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"

Identifier = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="Letters, digits, '_' and '-', 1–64 characters, starting with a letter or digit."),
]
Text = Annotated[str, BeforeValidator(lambda v: strip_controls(v) if isinstance(v, str) else v)]
"""Free text shown or spoken: control and bidi-override characters are removed (:func:`strip_controls`)."""
HexColor = Annotated[str, StringConstraints(pattern=HEX_COLOR_PATTERN), Field(description="Colour as #RRGGBB.")]

MAX_SHOTS = 2000
"""Most shots in one storyboard (about 4.5 hours at 8 s a shot); also at most 500 chapters and 200 shots
per chapter. ``status`` and a no-op ``make`` stay interactive at this size (benchmarks/status_bench.py)."""

FRAME_SIZES: dict[str, tuple[int, int]] = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}
"""The delivery frame size (width, height) in pixels per aspect ratio, at 1080p (ARCHITECTURE.md "Media")."""
SHORT_SIDES = {"1080p": 1080, "720p": 720, "540p": 540, "360p": 360}


def frame_size(aspect_ratio: str, resolution: str = "1080p") -> tuple[int, int]:
    """(width, height) in pixels of the output video and of every image, for an aspect ratio (``16:9``,
    ``9:16``, ``1:1``) at a :data:`~storyreel.core.vocabulary.Resolution`: 1920×1080, 1280×720, 960×540 or 640×360 at
    16:9 (both sides even, as yuv420p needs). Raises ``KeyError`` for an unknown aspect or resolution."""
    width, height = FRAME_SIZES[aspect_ratio]
    scale = SHORT_SIDES[resolution] / 1080
    return round(width * scale / 2) * 2, round(height * scale / 2) * 2


ALL_FRAME_SIZES = frozenset(frame_size(a, r) for a in FRAME_SIZES for r in SHORT_SIDES)
"""Every size a storyreel video can have (what ``storyreel qc`` of a lone file accepts)."""

DEFAULT_PALETTE = ["#14213D", "#FCA311", "#E5E5E5", "#2A9D8F", "#FFFFFF"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StyleGuide(_Model):
    """Look of the project: palette for local renderers and the style prefix for image prompts."""

    palette: list[HexColor] = Field(
        default_factory=lambda: list(DEFAULT_PALETTE),
        min_length=1,
        max_length=8,
        description="Brand colours, most important first; local renderers build backgrounds and accents from them.",
    )
    style_prefix: Text = Field(
        default="Clean, modern editorial illustration, consistent colour palette, no text in the image.",
        max_length=1000,
        description="Brand guidelines prepended to every image prompt (seed 000 item 9).",
    )


class ProjectSettings(_Model):
    """Settings that shape every stage of one project."""

    title: Text = Field(min_length=1, max_length=200, description="Video title, shown on the opening title card.")
    language: str = Field(
        default="en",
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$",
        description="BCP 47 language tag of the narration, e.g. 'en', 'tr', 'de'.",
    )
    aspect_ratio: AspectRatio = Field(default="16:9", description="16:9 → 1920x1080, 9:16 → 1080x1920, 1:1 → 1080x1080.")
    style: StyleGuide = Field(default_factory=StyleGuide)
    voice: str | None = Field(default=None, max_length=64, description="TTS voice name; default from the language.")
    fade_in: bool = Field(default=True, description="Fade in from black at the start of the video.")
    fade_out: bool = Field(default=True, description="Fade out to black at the end of the video.")
    template_types: list[VisualType] = Field(
        default_factory=lambda: ["title_card", "talking_head"],
        description="Visual types drawn by the local template renderer; the others go to the configured image "
        "provider (seed 001 §4.3).",
    )


class Overlay(_Model):
    """Text shown over a shot for its whole duration."""

    type: OverlayType = Field(description="lower_third: name/label strip; caption: headline banner at the top.")
    text: Text = Field(min_length=1, max_length=200)


class Visual(_Model):
    """What the shot shows."""

    type: VisualType = Field(description="title_card | diagram | b_roll | screen_share | talking_head.")
    description: Text = Field(min_length=1, max_length=2000, description="What the image should depict, in words.")
    image_prompt: Text | None = Field(
        default=None,
        max_length=4000,
        description="Explicit image prompt; when set it wins over the generated prompt (seed 001 assumption 8).",
    )
    selected_candidate: int | None = Field(
        default=None,
        ge=1,
        le=8,
        description="The candidate image a person picked (`storyreel pick`, 1 = the first); wins over the automatic selection.",
    )
    selected_clip: int | None = Field(
        default=None,
        ge=1,
        le=4,
        description="The vendor clip attempt a person picked (`storyreel pick … --clip`, 1 = the first); wins over the scores.",
    )
    clip_in_s: float | None = Field(
        default=None,
        ge=0,
        le=600,
        description="Where the shot's vendor clip starts playing, seconds into it (a trim's in-point; default: its start).",
    )
    clip_pin: str | None = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="The vendor clip an edit keeps (its sha256): a trimmed moving shot plays this clip from its in-point and "
                    "is never asked of the vendor anew, whatever its words or length become.",
    )
    entities: list[Identifier] = Field(
        default_factory=list,
        max_length=8,
        description="IDs of the storyboard's entities (characters, products, places) this shot shows: they must look like their references.",
    )


class Shot(_Model):
    """The unit of visual + narration: one image, its narration, camera move, overlays and transition."""

    shot_id: Identifier
    narration: Text = Field(min_length=1, max_length=5000, description="Text spoken over this shot.")
    visual: Visual
    camera_move: CameraMove = Field(default="zoom_in", description="Ken Burns direction of the motion clip.")
    overlays: list[Overlay] = Field(default_factory=list, max_length=4)
    transition: Transition = Field(default="crossfade", description="Transition into the next shot.")
    min_duration_s: float | None = Field(
        default=None,
        ge=0.5,
        le=120,
        description="Hold the shot at least this long (seconds), e.g. to reach an ad's target length.",
    )


class Chapter(_Model):
    """A titled section of the storyboard holding one or more shots."""

    chapter_id: Identifier
    title: Text = Field(min_length=1, max_length=200)
    shots: list[Shot] = Field(min_length=1, max_length=200)


class SourceInfo(_Model):
    """Where the storyboard came from."""

    kind: InputKind
    name: Text = Field(description="File name of the input, or 'prompt' for --prompt text.")
    sha256: str = Field(description="Tagged sha256 of the input text.")


REFERENCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.png$"


class Entity(_Model):
    """A character, product or place that must look the same in every shot that shows it (seed 004 stories
    7.1, 7.4, 7.8): its reference image (``assets/references/<file>``, set by ``storyreel reference``) is what
    the candidates are compared with, and the consistency group's seed is shared by its shots."""

    entity_id: Identifier
    kind: Literal["character", "product", "place"] = Field(description="character | product | place.")
    name: Text = Field(min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=2000, description="What it looks like, in words.")
    reference: str | None = Field(
        default=None, pattern=REFERENCE_NAME,
        description="File name of its reference image in the project's assets/references/ (a name, never a path).",
    )


class PlanInfo(_Model):
    """How the storyboard was planned (provenance of the plan stage)."""

    provider: str = Field(description="Planner provider, e.g. 'local:planner'.")
    structure: str = Field(description="Structure chosen for the input: 'script', 'chapters', 'ad', 'explainer'.")
    framework: Framework | None = Field(
        default=None, description="Advertising framework for ad prompts (seed 004 FR-007)."
    )
    framework_reason: str | None = None
    target_duration_s: float | None = Field(default=None, ge=1, le=3600)


class Storyboard(_Model):
    """The whole project plan: settings and chapters → shots. Validated on every load."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    project_id: Identifier
    settings: ProjectSettings
    source: SourceInfo
    plan: PlanInfo
    chapters: list[Chapter] = Field(min_length=1, max_length=500)
    entities: list[Entity] = Field(default_factory=list, max_length=50,
                                   description="Characters, products and places that recur: each must look the same in every shot.")

    @model_validator(mode="after")
    def _unique_ids(self) -> Storyboard:
        total = sum(len(c.shots) for c in self.chapters)
        if total > MAX_SHOTS:
            raise ValueError(f"{total} shots; a storyboard holds at most {MAX_SHOTS}")
        seen_chapters: set[str] = set()
        seen_shots: set[str] = set()
        for chapter in self.chapters:
            if chapter.chapter_id in seen_chapters:
                raise ValueError(f"duplicate chapter_id {chapter.chapter_id!r}; chapter IDs must be unique")
            seen_chapters.add(chapter.chapter_id)
            for shot in chapter.shots:
                if shot.shot_id in seen_shots:
                    raise ValueError(f"duplicate shot_id {shot.shot_id!r}; shot IDs must be unique in the storyboard")
                if shot.shot_id in PICKABLE:
                    raise ValueError(f"shot_id {shot.shot_id!r} is reserved for story mode's steps (`storyreel pick PROJECT "
                                     f"{shot.shot_id} N`); name the shot otherwise")
                seen_shots.add(shot.shot_id)
        known = [e.entity_id for e in self.entities]
        if len(set(known)) != len(known):
            raise ValueError("duplicate entity_id; entity IDs must be unique")
        for chapter in self.chapters:
            for shot in chapter.shots:
                unknown = [e for e in shot.visual.entities if e not in known]
                if unknown:
                    raise ValueError(f"shot {shot.shot_id} shows entity {unknown[0]!r}, which is not in the storyboard's entities")
        return self

    def entity(self, entity_id: str) -> Entity:
        """The entity with ``entity_id``. Raises ``KeyError`` if absent."""
        for entity in self.entities:
            if entity.entity_id == entity_id:
                return entity
        raise KeyError(entity_id)

    def shots(self) -> list[tuple[Chapter, Shot]]:
        """Every shot in play order with its chapter."""
        return [(chapter, shot) for chapter in self.chapters for shot in chapter.shots]

    def shot(self, shot_id: str) -> tuple[Chapter, Shot]:
        """The shot with ``shot_id`` and its chapter. Raises ``KeyError`` if absent."""
        for chapter, shot in self.shots():
            if shot.shot_id == shot_id:
                return chapter, shot
        raise KeyError(shot_id)


def format_validation_error(error: ValidationError, prefix: str = "") -> str:
    """One line per problem, ``location: message``, with list indices shown as ``[i]``."""
    lines = []
    for item in error.errors():
        loc = prefix
        for part in item["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = item["msg"]
        if item.get("type") == "string_pattern_mismatch":
            msg = f"{msg} (IDs: letters, digits, '_' or '-', 1–64 characters, starting with a letter or digit)"
        lines.append(f"{loc or '(root)'}: {msg}")
    return "\n".join(lines)


def load_storyboard(path: Path) -> Storyboard:
    """Read and validate ``storyboard.json``. Raises :class:`InputError` naming each bad field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read storyboard: {exc}", field=str(path)) from exc
    try:
        return Storyboard.model_validate_json(text)
    except ValidationError as exc:
        raise InputError(
            "storyboard is invalid:\n" + format_validation_error(exc),
            field=path.name,
            hint="correct the fields listed above (see `storyreel schema` for the full schema)",
        ) from exc


def storyboard_json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the storyboard, as exported by ``storyreel schema``."""
    schema = Storyboard.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "storyreel storyboard"
    return schema


_SLUG_RE = re.compile(r"[^A-Za-z0-9_-]+")


def slugify_id(text: str, fallback: str = "project") -> str:
    """Turn free text into a valid Identifier (ASCII letters/digits, '-' separators, ≤ 64 chars)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_RE.sub("-", ascii_text).strip("-_").lower()
    slug = re.sub(r"-{2,}", "-", slug)[:64].strip("-_")
    return slug if is_valid_id(slug) else fallback
