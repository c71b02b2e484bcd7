"""Stage ``reference``: a reference image for each entity that shows in a shot and has none supplied
(seed 004 stories 7.1, 7.4: "reference images — generated once, or supplied by the user").

``reference[entity]`` draws the entity once, alone — whole, centred, on a plain light background — with the
project's image provider (offline: its component sheet, :func:`~storyreel.providers.image.components.component_sheet` —
the artwork its name or description names within its kind, else a stand-in of its kind, with its name under it; a
vendor gets a reference-sheet prompt, priced and journaled like every paid image) into
``assets/references/<entity>.generated.png``. A reference the user supplies (``storyreel reference``) wins
and makes this node unnecessary. The image and select stages of the shots that show the entity wait for
it: vendors that take input images get it with their prompt, and candidates are scored against it.
"""

from __future__ import annotations

import json
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.hashing import seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.providers.base import ImageRequest, ImageResult
from storyreel.stages.context import ProjectContext
from storyreel.stages.purchase import one_image, one_image_recipe
from storyreel.store.files import seed_named

SIZE = 1024


def needs_reference(ctx: ProjectContext) -> list[str]:
    """Entities shown in at least one shot without a supplied reference image, in storyboard order."""
    shown = {e for _, shot in ctx.storyboard.shots() for e in shot.visual.entities}
    return [e.entity_id for e in ctx.storyboard.entities if e.entity_id in shown and not e.reference]


def reference_nodes(ctx: ProjectContext, shot_id: str) -> list[Node]:
    """The reference nodes a shot's image and selection wait for."""
    _, shot = ctx.storyboard.shot(shot_id)
    missing = set(needs_reference(ctx))
    return [Node("reference", e) for e in shot.visual.entities if e in missing]


class ReferenceStage(Stage[ProjectContext]):
    name: ClassVar[str] = "reference"
    code_version: ClassVar[str] = "reference/2"  # /2: offline, a component sheet (its picture and its name) for every entity
    max_workers: ClassVar[int] = 2

    def units(self, ctx: ProjectContext) -> list[str]:
        return needs_reference(ctx)

    @staticmethod
    def request(ctx: ProjectContext, unit: str) -> ImageRequest:
        entity = ctx.storyboard.entity(unit)
        settings = ctx.storyboard.settings
        about = f"{entity.name}: {entity.description}" if entity.description else entity.name
        prompt = (f"Reference image of {about}. One {entity.kind}, whole and centred, plain light background, even soft light, "
                  f"no text. {settings.style.style_prefix}".strip())
        return ImageRequest(shot_id=unit, visual_type="b_roll", description=about, prompt=prompt, chapter_title=entity.name,
                            project_title=settings.title, narration=entity.name, palette=settings.style.palette, width=SIZE, height=SIZE,
                            seed=seed_for(f"reference:{unit}"), language=settings.language, camera_move="zoom_in")

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        return one_image_recipe(ctx, self.request(ctx, unit))

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        provider, request = ctx.image_provider, self.request(ctx, unit)
        out = ctx.paths.generated_reference(unit)
        out.parent.mkdir(parents=True, exist_ok=True)
        if provider.offline:
            from storyreel.providers.image.components import component_sheet

            entity = ctx.storyboard.entity(unit)
            drawn = component_sheet(entity.name, entity.kind, entity.description, SIZE, out, ctx.storyboard.settings.language)
            result = ImageResult(path=out, provider="local:artwork", provider_details={"art": "OpenMoji, CC BY-SA 4.0", "subject": drawn})
        else:
            result = one_image(ctx, f"reference[{unit}]", provider, request, out)
        sidecar = out.with_suffix(".json")
        details = {k: v for k, v in result.provider_details.items() if k != "layout"}
        atomic_write_text(sidecar, json.dumps({"entity_id": unit, "provider": provider.provider_id, "prompt": request.prompt,
                                               "seed": request.seed, "cost_usd": result.cost_usd, "metadata": details},
                                              indent=2, ensure_ascii=False) + "\n")
        named = [seed_named(ctx.paths.images, "component", unit, out)] if ctx.storyboard.plan.structure == "story" else []  # seed 003
        return NodeOutput(files=[out, sidecar, *named], details={"provider": result.provider}, cost_usd=result.cost_usd, versioned=[out])
