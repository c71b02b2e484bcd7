"""Planner on an LLM through pydantic-ai: ``--planner openai:<model>`` (also ``openrouter:``,
``openai-compatible:``, and ``anthropic:`` / ``google:`` with their extras).

The model fills a strict DTO (:class:`PlanDraft`: title, chapters → shots with narration, visual type and
description, camera move) by structured output; the draft is then turned into a validated
:class:`Storyboard` with safe IDs made here (``chXX-sNN``), never taken from the model. The ``plan.md``
template's ``# System`` and ``# Input`` sections are the instructions and the user message.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from storyreel.core.artifact import Chapter, PlanInfo, ProjectSettings, Shot, SourceInfo, Storyboard, Visual, slugify_id
from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.core.text import guess_language
from storyreel.prompts.registry import load_template
from storyreel.providers.base import PlanRequest
from storyreel.providers.llm.pydantic_ai_llm import LLM_PRICES, PydanticAILlm


class ShotDraft(BaseModel):
    narration: str = Field(min_length=1, max_length=1200, description="Words spoken over the shot (4–12 s).")
    visual_type: Literal["title_card", "diagram", "b_roll", "screen_share", "talking_head"]
    visual_description: str = Field(min_length=1, max_length=600, description="What the image shows; no text in it.")
    camera_move: Literal["static", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"] = "zoom_in"


class ChapterDraft(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    shots: list[ShotDraft] = Field(min_length=1, max_length=40)


class PlanDraft(BaseModel):
    """What the model returns (strict; IDs and settings are not the model's to choose)."""

    title: str = Field(min_length=1, max_length=120)
    language: str = Field(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code of the narration language.")
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9"
    framework: Literal["AIDA", "PAS", "BAB"] | None = None
    chapters: list[ChapterDraft] = Field(min_length=1, max_length=60)


class LlmPlanner:
    code_version: ClassVar[str] = "llm-planner/1"

    def __init__(self, vendor: str, model: str, settings: Settings) -> None:
        self.llm = PydanticAILlm(vendor, model, settings)
        self.provider_id = self.llm.provider_id
        self.settings = settings
        self.last_usage: dict = {}

    @classmethod
    def factory(cls, vendor: str):  # noqa: ANN206
        return lambda model, settings=None: cls(vendor, model, settings or Settings())

    def estimate(self, request: PlanRequest) -> float:
        """Upper bound of one planning call in USD: ~4 characters a token in, ``max_tokens`` out."""
        template = load_template("plan", self.settings.workspace)
        rates = LLM_PRICES.get(self.llm.model_name, max(LLM_PRICES.values()))
        chars = len(template.sections.get("System", "")) + len(template.sections.get("Input", "")) + len(request.text)
        return round(chars / 4 * rates[0] + int(template.meta["max_tokens"]) * rates[1], 8)

    def draft(self, request: PlanRequest) -> PlanDraft:
        from pydantic_ai import Agent

        template = load_template("plan", self.settings.workspace)
        values = {"kind": request.kind, "language": request.language, "aspect_ratio": request.aspect_ratio, "text": request.text}
        agent = Agent(self.llm.model(), instructions=template.render("System", **values), output_type=PlanDraft)
        try:
            result = agent.run_sync(template.render("Input", **values),
                                    model_settings={"temperature": float(template.meta["temperature"]), "max_tokens": int(template.meta["max_tokens"])})
        except Exception as exc:  # noqa: BLE001 - vendor SDK and validation errors alike
            raise ProviderError(f"{self.provider_id}: planning failed: {type(exc).__name__}: {exc}") from None
        usage = result.usage
        tokens = {"input_tokens": usage.input_tokens or 0, "output_tokens": usage.output_tokens or 0}
        rates = LLM_PRICES.get(self.llm.model_name)
        cost = tokens["input_tokens"] * rates[0] + tokens["output_tokens"] * rates[1] if rates else 0.0
        self.last_usage = {"tokens": tokens, "cost_usd": round(cost, 8)}
        return result.output

    def plan(self, request: PlanRequest) -> Storyboard:
        """Plan a script or prompt into a storyboard. Raises :class:`ProviderError` when the model fails."""
        if request.kind == "chapters":
            raise ValueError("chapter JSON is imported, not planned")
        draft = self.draft(request)
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
            plan=PlanInfo(provider=self.provider_id, structure="ad" if draft.framework else request.kind, framework=draft.framework,
                          framework_reason="chosen by the model" if draft.framework else None),
            chapters=chapters,
        )
