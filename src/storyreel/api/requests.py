"""The facade's request models: one per verb, built once by the CLI (and the web), validated before
anything is written, and hashed by the up-to-date stamp. Cheap to import: pydantic and core types only
(the CLI's no-op path builds a :class:`MakeRequest` before deciding whether to load the engine).

A bad value raises :class:`~storyreel.core.errors.InputError` (exit 2) naming the field — the CLI shows
it as its flag (``aspect_ratio`` → ``--aspect-ratio``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from storyreel.core.errors import InputError
from storyreel.core.vocabulary import ID_RULE, AspectRatio, InputKind, Resolution, is_valid_id

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
MUSIC_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".m4a", ".aac", ".opus")

HINTS = {
    "kind": "use script, prompt or chapters",
    "aspect_ratio": "use 16:9, 9:16 or 1:1",
    "crf": "use 0 (lossless) … 51; 18–23 is typical",
    "max_cost": "give a cap in USD, e.g. 5",
    "candidates": "give 1 to 8 candidate images per shot",
    "candidate": "give a candidate number as `storyreel quality PROJECT` lists them (1 = the first)",
    "shot_id": "see `storyreel quality PROJECT` or storyboard.json for the shot IDs",
    "preset": f"use one of {', '.join(X264_PRESETS)}",
    "image_provider": "use VENDOR:MODEL, e.g. openai:gpt-image-2",
    "voice": "use local, local:piper, local:espeak or VENDOR:MODEL",
    "speech_rate": "give words per minute, 80–400 (165 is a calm narrator)",
    "clips": "use local or VENDOR:MODEL, e.g. replicate:kwaivgi/kling-v3-video",
    "attempts": "give 1 to 4 clips per shot",
    "llm": "use VENDOR:MODEL, e.g. openai:gpt-5-mini",
    "judge": "use a vision-capable LLM as VENDOR:MODEL, e.g. openai:gpt-5-mini",
    "project_id": ID_RULE,
    "project": "see `storyreel list` for the project IDs",
    "music": f"pass an audio file ({', '.join(s.lstrip('.') for s in MUSIC_SUFFIXES)})",
    "resolution": "use 1080p, 720p or 360p",
}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use: cheap import

    workspace: Path | None = Field(default=None, description="Folder of projects and the database (None: the default).")

    @classmethod
    def build(cls, **values: Any) -> Self:
        """Validate ``values`` into a request. Raises :class:`InputError` naming the first bad field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            item = exc.errors()[0]
            field = str(item["loc"][0]) if item["loc"] else "request"
            message = str(item.get("ctx", {}).get("error") or item["msg"]).removeprefix("Value error, ")
            raise InputError(f"{item.get('input')!r}: {message}" if "input" in item else message,
                             field=field, hint=HINTS.get(field)) from None


def _check_provider_id(modality: str, value: str | None) -> str | None:
    """``vendor:model`` with a known vendor (the class is not imported here)."""
    if value is None:
        return value
    from storyreel.providers.registry import vendors

    vendor, sep, model = value.partition(":")
    if not sep or not vendor or not model:
        raise ValueError("is not a provider ID (vendor:model)")
    known = vendors(modality)
    if vendor not in known:
        raise ValueError(f"unknown vendor {vendor!r}; available: {', '.join(f'{v}:…' for v in known)}")
    return value


def id_of(what: str) -> AfterValidator:
    """A validator for an ID field (it becomes a file name): ``ValueError("is not <what> ID")`` otherwise."""

    def check(v: str) -> str:
        if not is_valid_id(v):
            raise ValueError(f"is not {what} ID")
        return v

    return AfterValidator(check)


class InputRequest(_Request):
    """What planning reads: exactly one of ``input_path`` / ``prompt``, and the user's overrides."""

    input_path: Path | None = Field(default=None, description="Script (.txt/.md), prompt file or chapter JSON.")
    prompt: str | None = Field(default=None, description="A short prompt (10–500 characters) instead of a file.")
    kind: InputKind | None = None
    project_id: str | None = None
    language: str | None = None
    aspect_ratio: AspectRatio | None = None
    force: bool = False
    wait: bool = Field(default=True, description="Wait for another storyreel writing the project (False: stop at once).")


    @field_validator("project_id")
    @classmethod
    def _project_id(cls, v: str | None) -> str | None:
        if v is not None and not is_valid_id(v):
            raise ValueError("is not a valid project ID")
        return v


class PlanRequest(InputRequest):
    """``storyreel plan``: the storyboard only."""


class ProviderChoice(BaseModel):
    """Provider and cost-cap choices, stored in the project's ``options.json`` when given."""

    image_provider: str | None = None
    llm: str | None = None
    max_cost: float | None = Field(default=None, ge=0, description="Cost cap of the project in USD.")
    candidates: int | None = Field(default=None, ge=1, le=8, description="Candidate images per shot (best-of-N), 1–8.")
    judge: str | None = Field(default=None, description="VLM judge of the candidates VENDOR:MODEL (a vision-capable LLM).")
    enhance: bool | None = Field(default=None, description="Two-agent enhancement of the image prompts (True/False; None: keep the project's choice).")
    resolution: Resolution | None = Field(default=None, description="Output size 1080p | 720p | 360p (None: keep the project's choice).")
    voice: str | None = Field(default=None, description="Narration provider: local (Piper for English, espeak-ng otherwise), "
                              "local:piper, local:espeak or VENDOR:MODEL.")
    voice_name: str | None = Field(default=None, max_length=120, description="The vendor's voice ID, or a Piper voice.")
    voice_style: str | None = Field(default=None, max_length=500, description="How to speak, for voices that take instructions.")
    speech_rate: int | None = Field(default=None, ge=80, le=400, description="Narration speed in words per minute.")
    clips: str | None = Field(default=None, description="Motion clips: local (Ken Burns, the default) or an image-to-video VENDOR:MODEL.")
    attempts: int | None = Field(default=None, ge=1, le=4, description="Vendor clips per shot, each with its own seed; the best is used.")

    @field_validator("clips")
    @classmethod
    def _clips(cls, v: str | None) -> str | None:
        return v if v == "local" else _check_provider_id("video", v)

    @field_validator("voice")
    @classmethod
    def _voice(cls, v: str | None) -> str | None:
        return v if v == "local" else _check_provider_id("tts", v)

    @field_validator("image_provider")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        return _check_provider_id("image", v)

    @field_validator("llm")
    @classmethod
    def _llm(cls, v: str | None) -> str | None:
        return _check_provider_id("llm", v)

    @field_validator("judge")
    @classmethod
    def _judge(cls, v: str | None) -> str | None:
        return _check_provider_id("judge", v)


class MakeRequest(InputRequest, ProviderChoice):
    """``storyreel make``: input → storyboard → images, narration, clips → ``video.mp4``."""

    def stamp_identity(self) -> dict:
        """What names this request's up-to-date stamp: every field but ``force`` and ``wait``, paths resolved."""
        from storyreel import __version__

        data = self.model_dump(mode="json", exclude={"force", "wait"})
        data["input_path"] = str(self.input_path.resolve()) if self.input_path else None
        data["workspace"] = str(self.workspace.resolve()) if self.workspace else None
        return {"request": data, "version": __version__}


class ProjectRequest(_Request):
    """A verb on one existing project (``status``, ``cost``)."""

    project: Annotated[str, id_of("a project")] = Field(min_length=1, description="Project ID (see `storyreel list`).")


class RenderRequest(ProjectRequest):
    """``storyreel render``: re-render from the existing images and narration."""

    force: bool = False
    wait: bool = True
    preset: str | None = None
    crf: int | None = Field(default=None, ge=0, le=51)
    music: Path | None = None
    no_music: bool = False

    @field_validator("preset")
    @classmethod
    def _preset(cls, v: str | None) -> str | None:
        if v is not None and v not in X264_PRESETS:
            raise ValueError("is not an x264 preset")
        return v

    @field_validator("music")
    @classmethod
    def _music(cls, v: Path | None) -> Path | None:
        if v is None:
            return v
        if not v.is_file():
            raise ValueError("no such file")
        if v.suffix.lower() not in MUSIC_SUFFIXES:
            raise ValueError("is not a supported audio file")
        _check_audio(v)
        return v

    @model_validator(mode="after")
    def _one_music_choice(self) -> Self:
        if self.music is not None and self.no_music:
            raise ValueError("music and no_music contradict each other; pass one of them")
        return self


def _check_audio(path: Path) -> None:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ValueError("has no audio stream")
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - PyAV's error family
        raise ValueError(f"cannot be decoded ({exc})") from None


class ImagegenRequest(ProjectRequest, ProviderChoice):
    """``storyreel imagegen``: image prompts, images and the manifest for all, one chapter's or one shot."""

    force: bool = False
    wait: bool = True
    dry_run: bool = False
    chapter: str | None = None
    shot: str | None = None


class PickRequest(ProjectRequest):
    """``storyreel pick``: a person's choice of a shot's candidate image (``auto`` gives the choice back to
    the ranking); the video is then brought up to date unless ``render`` is False."""

    shot_id: Annotated[str, id_of("a shot")] = Field(min_length=1, description="Shot ID.")
    candidate: int | None = Field(ge=1, le=8, description="Candidate number as `storyreel quality` lists it; None = automatic.")
    clip: bool = Field(default=False, description="Pick among the shot's vendor clip attempts (clips/<shot>.motion.json) instead of its images.")
    render: bool = True
    wait: bool = True

    @field_validator("candidate", mode="before")
    @classmethod
    def _auto(cls, v: object) -> object:
        if isinstance(v, str):
            if v.strip().lower() == "auto":
                return None
            if not v.strip().isdigit():
                raise ValueError("is not a candidate number (1–8) or auto")
            return int(v)
        return v


class EditRequest(ProjectRequest):
    """``storyreel edit PROJECT OP …``: one editing verb on the storyboard (issue 28), then the video brought up to date
    unless ``render`` is False; ``undo``/``redo``/``restore`` move through the project's versions."""

    op: Literal["split", "merge", "move", "delete", "duplicate", "trim", "import", "undo", "redo", "restore"]
    shot_id: Annotated[str, id_of("a shot")] | None = Field(default=None, description="The shot edited (merge: the first).")
    other: Annotated[str, id_of("a shot")] | None = Field(default=None, description="merge: the shot merged into the first.")
    at: float | None = Field(default=None, gt=0, le=3600, description="split: seconds from the shot's start.")
    to: int | None = Field(default=None, ge=1, le=2000, description="move: the position in the video (1 = first).")
    version: int | None = Field(default=None, ge=1, description="restore: the version (see `storyreel versions`).")
    in_s: float | None = Field(default=None, ge=0, le=3600, description="trim: the new start, seconds from the shot's start.")
    out_s: float | None = Field(default=None, gt=0, le=3600, description="trim: the new end, seconds from the shot's start.")
    file: Path | None = Field(default=None, description="import: an OpenTimelineIO file (.otio) exported and edited elsewhere.")
    render: bool = True
    preview: bool = Field(default=False, description="Bring the 540p preview up to date instead of the delivered video.")
    wait: bool = True


class PreviewRequest(ProjectRequest):
    """``storyreel preview PROJECT``: the current version at the preview profile (540p, fast encoding, ``preview/``)."""

    force: bool = False
    wait: bool = True


class QcRequest(_Request):
    """``storyreel qc``: a video file, or a project's ``video.mp4`` against its spec."""

    target: str = Field(min_length=1)


class ListRequest(_Request):
    """``storyreel list``."""


class ReferenceRequest(ProjectRequest):
    """``storyreel reference``: an entity (character, product, place), its reference image and the shots
    that show it."""

    entity_id: Annotated[str, id_of("an entity")] = Field(min_length=1, description="The entity's ID (letters, digits, - and _).")
    image: Path = Field(description="The reference image (PNG, JPEG or WebP).")
    name: str | None = Field(default=None, max_length=200, description="The entity's name (default: the ID).")
    kind: Literal["character", "product", "place"] = "character"
    description: str | None = Field(default=None, max_length=2000)
    shots: list[str] = Field(default_factory=list, max_length=2000, description="Shot IDs that show it (added to those it has).")
    wait: bool = True


class EnhanceRequest(_Request):
    """``storyreel enhance-prompt``: a prompt (1–4,000 characters) and the loop's limits."""

    text: str = Field(min_length=1, max_length=4000, description="The prompt to enhance.")
    prompt_kind: Literal["image", "video"] = Field(default="image", description="image | video.")
    max_iterations: int = Field(default=3, ge=1, le=10)
    threshold: float = Field(default=85.0, ge=0, le=100)
    llm: str | None = Field(default=None, description="LLM of both agents VENDOR:MODEL (default: the configured LLM; local:… = the offline rules).")
