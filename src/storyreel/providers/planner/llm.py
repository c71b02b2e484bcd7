"""Planner on an LLM through pydantic-ai: ``STORYREEL_PLANNER=openai:<model>`` (also ``openrouter:``,
``openai-compatible:``, and ``anthropic:`` / ``google:`` with their extras).

The model fills a strict DTO (:class:`PlanDraft`: title, chapters → shots with narration, visual type and
description, camera move) by structured output; the draft is then turned into a validated
:class:`Storyboard` with safe IDs made here (``chXX-sNN``), never taken from the model. The DTO's types
and descriptions are the storyboard's own (one definition). The ``plan.md`` template's ``# System`` and
``# Input`` sections are the instructions and the user message.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from storyreel.core.artifact import (
    AspectRatio,
    CameraMove,
    Chapter,
    Framework,
    PlanInfo,
    ProjectSettings,
    Shot,
    SourceInfo,
    Storyboard,
    Visual,
    VisualType,
    slugify_id,
)
from storyreel.core.errors import ConfigError, ProviderError
from storyreel.core.text import guess_language
from storyreel.prompts.registry import load_template
from storyreel.providers.base import PlannerRequest
from storyreel.providers.llm.pydantic_ai_llm import PydanticAILlm


def _about(model: type[BaseModel], name: str) -> str | None:
    """The storyboard field's own description (written once, in :mod:`storyreel.core.artifact`)."""
    return model.model_fields[name].description


class _Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShotDraft(_Draft):
    narration: str = Field(min_length=1, max_length=1200, description=f"{_about(Shot, 'narration')} (4–12 s of speech).")
    visual_type: VisualType = Field(description=_about(Visual, "type"))
    visual_description: str = Field(min_length=1, max_length=600, description=f"{_about(Visual, 'description')} No text in the image.")
    camera_move: CameraMove = Field(default="zoom_in", description=_about(Shot, "camera_move"))


class ChapterDraft(_Draft):
    title: str = Field(min_length=1, max_length=120)
    shots: list[ShotDraft] = Field(min_length=1, max_length=40)


class PlanDraft(_Draft):
    """What the model returns (strict; IDs and settings are not the model's to choose)."""

    title: str = Field(min_length=1, max_length=120, description=_about(ProjectSettings, "title"))
    language: str = Field(min_length=2, max_length=3, pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code of the narration language.")
    aspect_ratio: AspectRatio = Field(default="16:9", description=_about(ProjectSettings, "aspect_ratio"))
    framework: Framework | None = Field(default=None, description=_about(PlanInfo, "framework"))
    chapters: list[ChapterDraft] = Field(min_length=1, max_length=60)


class LlmPlanner(PydanticAILlm):
    """A planner on any LLM vendor (bound to its vendor and connection by the registry)."""

    modality: ClassVar[str] = "planner"
    code_version: ClassVar[str] = "llm-planner/1"

    def __init__(self, model: str | None = None, settings: Any = None) -> None:
        super().__init__(model, settings)
        self.last_usage: dict = {}
        self.test_model: Any = None  # pydantic-ai TestModel / FunctionModel in tests

    def estimate(self, request: PlannerRequest) -> float:  # type: ignore[override]
        """Upper bound of one planning call in USD (see :func:`~storyreel.providers.prices.llm_estimate`)."""
        template = load_template("plan", self.settings.workspace)
        chars = len(template.sections.get("System", "")) + len(template.sections.get("Input", "")) + len(request.text)
        return self.token_estimate(chars, int(template.meta["max_tokens"]))

    def draft(self, request: PlannerRequest) -> PlanDraft:
        """The model's structured draft. Raises :class:`~storyreel.core.errors.ProviderError`."""
        template = load_template("plan", self.settings.workspace)
        values = {"kind": request.kind, "language": request.language, "aspect_ratio": request.aspect_ratio, "text": request.text}
        try:
            output, tokens, cost = self.run(
                template.render("System", **values), template.render("Input", **values), PlanDraft,
                temperature=float(template.meta["temperature"]), max_tokens=int(template.meta["max_tokens"]), model=self.test_model,
            )
        except ConfigError:  # a configuration error says what to set: keep it
            raise
        except ProviderError as exc:  # keeps its kind (an unusable answer stays an uncertain, billed call)
            raise type(exc)(f"planning failed: {exc}") from None
        self.last_usage = {"tokens": tokens, "cost_usd": cost}
        return output

    def plan(self, request: PlannerRequest) -> Storyboard:
        """Plan a script or prompt into a storyboard. Raises :class:`ProviderError` when the model fails."""
        if request.kind == "chapters":
            raise ValueError("chapter JSON is imported, not planned")
        return draft_to_storyboard(self.draft(request), request, self.provider_id)


def draft_to_storyboard(draft: PlanDraft, request: PlannerRequest, provider_id: str) -> Storyboard:
    """A model's draft → a validated storyboard with IDs made here (``chXX`` / ``chXX-sNN``)."""
    chapters = []
    for ci, ch in enumerate(draft.chapters, start=1):
        shots = [
            Shot(shot_id=f"ch{ci:02d}-s{si:02d}", narration=s.narration.strip(),
                 visual=Visual(type=s.visual_type, description=s.visual_description.strip()), camera_move=s.camera_move)
            for si, s in enumerate(ch.shots, start=1)
        ]
        chapters.append(Chapter(chapter_id=f"ch{ci:02d}", title=ch.title.strip(), shots=shots))
    language = request.language or draft.language or guess_language(request.text)
    return Storyboard(
        project_id=request.project_id or slugify_id(draft.title),
        settings=ProjectSettings(title=draft.title.strip(), language=language, aspect_ratio=request.aspect_ratio or draft.aspect_ratio),
        source=SourceInfo(kind=request.kind, name=request.name, sha256=request.sha256),
        plan=PlanInfo(provider=provider_id, structure="ad" if draft.framework else request.kind, framework=draft.framework,
                      framework_reason="chosen by the model" if draft.framework else None),
        chapters=chapters,
    )
