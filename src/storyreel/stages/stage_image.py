"""Stage ``stage_image``: a story scene's stage-setting picture (seed 003: "stage-setting shot per scene — description
+ image made with the component images as references"; issue 27 item 4).

One node per scene of a story project (``--kind story``), after the components' reference images: the project's image
provider draws the scene's stage shot description (``story/stage_shot/<scene>.json``) in the project's style and frame,
with the reference images of the scene's components where the provider takes input images (Gemini inline parts,
OpenAI image edits, Replicate models with image inputs, the offline cards); a provider without them gets the
description alone, and the sidecar says which. Output ``images/stage/<scene>.png`` (+ ``.json``) and, as the seed names
its files, ``images/stage_<scene>_<time made>.png``. Each shot of the scene is then drawn with this picture as a
reference (:meth:`storyreel.stages.image.ImageStage.request`), so place, light and layout carry from shot to shot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.hashing import hash_file, seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.providers.base import ImageRequest, ReferenceImage
from storyreel.stages.context import ProjectContext
from storyreel.stages.purchase import one_image, one_image_recipe
from storyreel.stages.reference import needs_reference
from storyreel.store.files import seed_named


def story_scenes(ctx: ProjectContext) -> list[str]:
    """The scene chapters of a story project whose stage shot is written (none for other projects)."""
    if ctx.storyboard.plan.structure != "story":
        return []
    return [ch.chapter_id for ch in ctx.storyboard.chapters if ch.chapter_id.startswith("scene-") and stage_description_path(ctx, ch.chapter_id).is_file()]


def stage_description_path(ctx: ProjectContext, scene: str) -> Path:
    return ctx.paths.root / "story" / "stage_shot" / f"{scene}.json"


def stage_image_path(ctx: ProjectContext, scene: str) -> Path:
    return ctx.paths.images / "stage" / f"{scene}.png"


def scene_of(ctx: ProjectContext, shot_id: str) -> str | None:
    """The scene chapter a story shot belongs to (None outside story mode or for the title)."""
    chapter, _ = ctx.storyboard.shot(shot_id)
    return chapter.chapter_id if chapter.chapter_id in story_scenes(ctx) else None


class StageImageStage(Stage[ProjectContext]):
    name: ClassVar[str] = "stage_image"
    code_version: ClassVar[str] = "stage-image/1"
    max_workers: ClassVar[int] = 2

    def units(self, ctx: ProjectContext) -> list[str]:
        return story_scenes(ctx)

    def _entities(self, ctx: ProjectContext, scene: str) -> list[str]:
        chapter = next(ch for ch in ctx.storyboard.chapters if ch.chapter_id == scene)
        return list(dict.fromkeys(e for s in chapter.shots for e in s.visual.entities))

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        missing = set(needs_reference(ctx))
        return [Node("reference", e) for e in self._entities(ctx, unit) if e in missing]

    def request(self, ctx: ProjectContext, unit: str) -> ImageRequest:
        """The stage picture's request: the stage shot's description, the scene's component references."""
        chapter = next(ch for ch in ctx.storyboard.chapters if ch.chapter_id == unit)
        settings = ctx.storyboard.settings
        width, height = ctx.frame_size
        description = json.loads(stage_description_path(ctx, unit).read_text(encoding="utf-8"))["description"]
        references = []
        if ctx.image_provider.accepts_reference_images:
            for entity_id in self._entities(ctx, unit)[:8]:
                entity = ctx.storyboard.entity(entity_id)
                path = ctx.paths.references / entity.reference if entity.reference else ctx.paths.generated_reference(entity_id)
                if path.is_file():
                    references.append(ReferenceImage(label=f"{entity.name} ({entity.kind})", sha256=hash_file(path), path=str(path)))
        return ImageRequest(shot_id=f"stage-{unit}", visual_type="b_roll", description=description[:2000],
                            prompt=f"{settings.style.style_prefix} {description}".strip(), chapter_title=chapter.title,
                            project_title=settings.title, narration="", palette=settings.style.palette, width=width, height=height,
                            seed=seed_for(f"stage:{description}"), language=settings.language, camera_move="zoom_out", references=references)

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        return one_image_recipe(ctx, self.request(ctx, unit))

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        provider, request = ctx.image_provider, self.request(ctx, unit)
        out = stage_image_path(ctx, unit)
        out.parent.mkdir(parents=True, exist_ok=True)
        result = one_image(ctx, f"stage_image[{unit}]", provider, request, out)
        named = seed_named(ctx.paths.images, "stage", unit, out)
        sidecar = out.with_suffix(".json")
        atomic_write_text(sidecar, json.dumps({
            "scene": unit, "provider": provider.provider_id, "prompt": request.prompt, "seed": request.seed,
            "references": [r.label for r in request.references], "references_sent": bool(request.references),
            "file": ctx.paths.rel(named), "cost_usd": result.cost_usd,
            **({"fallback_from": result.provider_details["fallback_from"], "drawn_by": result.provider}
               if "fallback_from" in result.provider_details else {})}, indent=2, ensure_ascii=False) + "\n")
        return NodeOutput(files=[out, sidecar, named], details={"provider": result.provider, "references": len(request.references)},
                          cost_usd=result.cost_usd, versioned=[out])
