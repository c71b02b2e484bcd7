"""Stage ``image``: one image per shot from the configured image provider (``local:cards`` by default)."""

from __future__ import annotations

from typing import ClassVar

from storyreel.engine.graph import Node, NodeOutput, RecipeParts
from storyreel.providers.base import ImageRequest
from storyreel.providers.image.local_cards import seed_for
from storyreel.stages.context import ProjectContext


class ImageStage:
    name: ClassVar[str] = "image"
    code_version: ClassVar[str] = "image/1"
    max_workers: ClassVar[int] = 2
    editable_output: ClassVar[bool] = False

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return []

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return []

    def request(self, ctx: ProjectContext, unit: str) -> ImageRequest:
        """The provider request for a shot: the style prefix plus the description, unless the shot has its
        own ``image_prompt`` (which wins, seed 001 assumption 8). Diagrams also see the narration."""
        chapter, shot = ctx.storyboard.shot(unit)
        settings = ctx.storyboard.settings
        width, height = settings.frame_size
        prompt = shot.visual.image_prompt or f"{settings.style.style_prefix} {shot.visual.description}".strip()
        return ImageRequest(
            shot_id=shot.shot_id,
            visual_type=shot.visual.type,
            description=shot.visual.description,
            prompt=prompt,
            chapter_title=chapter.title,
            project_title=settings.title,
            narration=shot.narration if shot.visual.type == "diagram" else "",
            palette=settings.style.palette,
            width=width,
            height=height,
            seed=seed_for(shot.visual.description),
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        provider = ctx.image_provider
        return RecipeParts(
            provider=f"{provider.provider_id}@{provider.code_version}",
            params=self.request(ctx, unit).model_dump(mode="json"),
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        out = ctx.paths.images / f"{unit}.png"
        result = ctx.image_provider.generate(self.request(ctx, unit), out)
        return NodeOutput(files=[out], details={"provider": result.provider, **result.provider_details}, cost_usd=result.cost_usd)
