"""Request/response models and protocols, one per modality (ARCHITECTURE.md "Providers").

Providers know nothing of stages, the database or the web: they take a typed request and return a
typed result carrying ``provider_details`` (recorded in provenance) and ``cost_usd``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

from storyreel.core.artifact import AspectRatio, InputKind, Storyboard, VisualType


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanRequest(_Msg):
    """Input of a planner: the validated source text and the user's overrides."""

    kind: InputKind
    text: str
    name: str
    sha256: str
    project_id: str | None = None
    language: str | None = Field(default=None, description="Override; guessed from the text when None.")
    aspect_ratio: AspectRatio | None = None
    words_per_minute: float = 165.0


class ImageRequest(_Msg):
    """One image to make. ``width``/``height`` in pixels are the exact output size."""

    shot_id: str
    visual_type: VisualType
    description: str
    prompt: str = Field(description="Full prompt text (style prefix + description, or the shot's override).")
    chapter_title: str
    project_title: str
    narration: str
    palette: list[str]
    width: int = Field(ge=64, le=8192)
    height: int = Field(ge=64, le=8192)
    seed: int = Field(ge=0)


class ImageResult(_Msg):
    path: Path
    provider: str
    cost_usd: float = 0.0
    provider_details: dict[str, Any] = Field(default_factory=dict)


class SpeechRequest(_Msg):
    text: str = Field(min_length=1)
    language: str
    voice: str | None = None
    words_per_minute: int = 165


class WordTiming(_Msg):
    """One spoken word: ``start_s``/``end_s`` in seconds from the start of the audio."""

    word: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    char_start: int = Field(ge=0, description="Offset of the word in the narration text (characters).")
    char_end: int = Field(ge=0)


class SpeechResult(_Msg):
    path: Path
    provider: str
    sample_rate: int
    duration_s: float
    words: list[WordTiming]
    cost_usd: float = 0.0
    provider_details: dict[str, Any] = Field(default_factory=dict)


class LlmResult(_Msg):
    """Text from an LLM step with its token usage (``input_tokens``, ``output_tokens``) and cost in USD."""

    text: str = Field(min_length=1)
    provider: str
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float = 0.0


class Planner(Protocol):
    provider_id: str
    code_version: ClassVar[str]

    def plan(self, request: PlanRequest) -> Storyboard: ...


class ImageGenService(Protocol):
    """Seed 001 §3.1: ``generate(ImageRequest) -> ImageResult``; writes the PNG to ``out_path``."""

    provider_id: str
    code_version: ClassVar[str]

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult: ...


class LlmStep(Protocol):
    """An LLM used by a stage: renders a prompt template's sections and returns the model's text."""

    provider_id: str
    code_version: ClassVar[str]

    def identity(self) -> dict: ...

    def image_prompt(self, template: Any, values: dict[str, Any]) -> LlmResult: ...


class SpeechService(Protocol):
    provider_id: str
    code_version: ClassVar[str]

    def synthesize(self, request: SpeechRequest, out_path: Path) -> SpeechResult: ...
