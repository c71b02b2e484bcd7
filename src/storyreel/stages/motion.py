"""Stage ``motion``: a generated shot's clip from an image-to-video vendor (``--clips VENDOR:MODEL``), bought
through the paid-call protocol (:mod:`storyreel.stages.purchase`: reserved against the cap before the create,
the vendor's job ID journaled before polling — a ``make`` after a crash or a cancel polls the same job instead of
paying again — and the MP4 journaled before anything else).

Units: the shots whose motion comes from the vendor (:meth:`ProjectContext.moving`: generated shots when a
vendor is set; template cards keep their Ken Burns move — a vendor would smear their text). The shot's selected
image is the start frame; the clip is asked for the shot's whole span on the timeline (the vendor makes the
shortest length its model allows that covers it); the motion prompt is the shot's camera move in words, then its
visual description (:func:`motion_prompt`). Outputs: ``clips/<shot>.motion.mp4`` (as the vendor made it; the
``clip`` stage fits it to the frame, the 30 fps clock and the shot's length, :mod:`storyreel.media.footage`) and
``clips/<shot>.motion.json`` (provider, model, job, duration, the vendor's wait, cost, and the colour grade that
matches the clip to the shot's still with the CIEDE2000 distance of their mean colours before and after it,
:mod:`storyreel.media.grade`).
"""

from __future__ import annotations

import json
from typing import ClassVar

from storyreel.core.atomic import atomic_write_bytes, atomic_write_text
from storyreel.core.hashing import hash_file, seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.grade import match
from storyreel.media.timeline import FPS
from storyreel.providers.base import ReferenceImage, VideoRequest, request_key
from storyreel.stages.context import ProjectContext
from storyreel.stages.purchase import purchase
from storyreel.store.journal import CallJournal

CAMERA_WORDS = {
    "static": "A locked-off shot, the camera still", "zoom_in": "A slow push in", "zoom_out": "A slow pull back",
    "pan_left": "A slow pan to the left", "pan_right": "A slow pan to the right", "pan_up": "A slow tilt up",
    "pan_down": "A slow tilt down",
}
NEGATIVE = "text, captions, watermark, logo, distorted faces, extra limbs, flicker, jump cuts, blurry frames"
"""What no motion clip should show (models that take a negative prompt get it)."""


def motion_prompt(camera_move: str, description: str) -> str:
    """The offline motion prompt: the camera move in words, the shot's subject, and the pacing."""
    return f"{CAMERA_WORDS.get(camera_move, 'A slow camera move')}. {description.strip().rstrip('.')}. Natural, steady motion; one continuous shot."


class MotionStage(Stage[ProjectContext]):
    name: ClassVar[str] = "motion"
    code_version: ClassVar[str] = "motion/1"

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots() if ctx.moving(shot.shot_id)]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("select", unit)]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("select", unit), Node("narration", unit)]  # the clip's length follows the narration

    def concurrency(self, ctx: ProjectContext) -> int:
        return (ctx.video_provider.max_concurrency if ctx.video_provider else None) or 4

    def request(self, ctx: ProjectContext, unit: str) -> VideoRequest:
        _, shot = ctx.storyboard.shot(unit)
        image = ctx.paths.image(unit)
        width, height = ctx.frame_size
        timing = ctx.shot_timing(unit)
        return VideoRequest(
            shot_id=unit, prompt=motion_prompt(shot.camera_move, shot.visual.description), negative_prompt=NEGATIVE,
            start=ReferenceImage(label="the shot's image", sha256=hash_file(image).removeprefix("sha256:"), path=str(image)),
            duration_s=max(1.0, timing.span / FPS), width=width, height=height, seed=seed_for(f"motion:{shot.visual.description}"),
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        provider = ctx.video_provider
        assert provider is not None
        return RecipeParts(provider=f"{provider.provider_id}@{provider.code_version}", params=provider.payload(self.request(ctx, unit)))

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        provider = ctx.video_provider
        assert provider is not None
        request = self.request(ctx, unit)
        key = request_key(provider.provider_id, provider.payload(request))
        out, meta = ctx.paths.motion_clip(unit), ctx.paths.motion_meta(unit)

        def keep(received):  # noqa: ANN001, ANN202 - the MP4 as received, and its record
            atomic_write_bytes(out, received.data)
            return received

        received = purchase(ctx, node=f"motion[{unit}]", provider=provider, key=key, estimate=lambda: provider.estimate(request),
                            fetch=lambda jobs, attempt: provider.fetch(request, jobs=jobs, key=attempt), decode=keep)
        grade, colour = match(out, ctx.paths.image(unit))
        record = {"shot_id": unit, "provider": provider.provider_id, "asked_s": round(request.duration_s, 3),
                  "duration_s": received.details.get("duration_s"), "job_id": received.details.get("prediction_id"),
                  "vendor_wait_s": received.details.get("predict_time_s"), "cost_usd": received.cost_usd,
                  "cost_source": received.details.get("cost_source"), "prompt": request.prompt,
                  "grade": grade.as_dict(), "colour_delta_e": colour}
        atomic_write_text(meta, json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return NodeOutput(files=[out, meta], details={"provider": provider.provider_id, "duration_s": record["duration_s"]},
                          cost_usd=received.cost_usd, cleanup=CallJournal(ctx.paths, key).files(), versioned=[out])
