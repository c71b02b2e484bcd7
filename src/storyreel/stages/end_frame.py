"""Stage ``end_frame``: a shot's last frame for video models that take one (seed 004 story 8.3, start/end-frame
storyboards).

One node per moving shot when the video model has an end-frame input (:attr:`takes_end_frame`) and the setting
``end_frames`` is on (the default). The image is drawn by the project's image provider from the shot's end state
(``motion_prompt``'s record: the same scene at the end of the camera move) in the project's style and frame, with
the shot's selected image as a reference where the provider takes input images, so subject, palette and light
carry over; a paid provider's image is reserved, journaled and booked like every paid image. Output
``clips/<shot>.end.png`` and its sidecar ``clips/<shot>.end.json`` (provider, prompt, seed, whether the start
image was sent as a reference, cost). The ``motion`` stage sends it as the clip's last frame.
"""

from __future__ import annotations

import json
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.hashing import hash_file, seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.providers.base import ImageRequest, ReferenceImage
from storyreel.stages.context import ProjectContext
from storyreel.stages.motion_prompt import read_motion_prompt
from storyreel.stages.purchase import one_image, one_image_recipe


def wants_end_frame(ctx: ProjectContext, unit: str) -> bool:
    """Whether shot ``unit``'s clip is asked with an end frame: it moves, the model takes one, the setting is on, and no
    edit pinned its clip."""
    provider = ctx.video_provider
    return bool(provider is not None and ctx.settings.end_frames and provider.takes_end_frame and ctx.moving(unit)
                and not ctx.pinned(unit))


class EndFrameStage(Stage[ProjectContext]):
    name: ClassVar[str] = "end_frame"
    code_version: ClassVar[str] = "end-frame/1"
    max_workers: ClassVar[int] = 2

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots() if wants_end_frame(ctx, shot.shot_id)]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("select", unit), Node("motion_prompt", unit)]

    @staticmethod
    def request(ctx: ProjectContext, unit: str) -> ImageRequest:
        """The end frame's image request: the end state in the project's style, the start image as a reference."""
        chapter, shot = ctx.storyboard.shot(unit)
        settings = ctx.storyboard.settings
        width, height = ctx.frame_size
        state = read_motion_prompt(ctx, unit)["end_state"]
        start = ctx.paths.image(unit)
        references = [ReferenceImage(label="the shot's first frame (keep its subject, palette and light)", sha256=hash_file(start),
                                     path=str(start))] if ctx.image_provider.accepts_reference_images and start.is_file() else []
        return ImageRequest(shot_id=unit, visual_type=shot.visual.type, description=state,
                            prompt=f"{settings.style.style_prefix} {state}. The last frame of a continuous shot.".strip(),
                            chapter_title=chapter.title, project_title=settings.title, narration="", palette=settings.style.palette,
                            width=width, height=height, seed=seed_for(f"end:{shot.visual.description}"), language=settings.language,
                            camera_move=shot.camera_move, references=references)

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        return one_image_recipe(ctx, self.request(ctx, unit))

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        provider, request = ctx.image_provider, self.request(ctx, unit)
        out = ctx.paths.end_frame(unit)
        out.parent.mkdir(parents=True, exist_ok=True)
        result = one_image(ctx, f"end_frame[{unit}]", provider, request, out)
        sidecar = out.with_suffix(".json")
        atomic_write_text(sidecar, json.dumps({
            "shot_id": unit, "provider": provider.provider_id, "prompt": request.prompt, "end_state": request.description,
            "seed": request.seed, "start_as_reference": bool(request.references), "cost_usd": result.cost_usd,
        }, indent=2, ensure_ascii=False) + "\n")
        return NodeOutput(files=[out, sidecar], details={"provider": result.provider}, cost_usd=result.cost_usd, versioned=[out])
