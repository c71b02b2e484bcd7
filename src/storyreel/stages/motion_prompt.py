"""Stage ``motion_prompt``: what a video model is asked to do with a shot (seed 004 stories 8.3, 8.4, 9.1).

One node per shot whose motion comes from a video vendor (:meth:`ProjectContext.moving`). The draft is the
shot's camera move in words, its visual description and the pacing (:func:`motion_prompt`); the end state — the
description of the shot's last frame, which the ``end_frame`` stage draws for models that take one — is the same
scene at the end of the camera move (:func:`end_state`). With ``--enhance`` the draft goes through the two-agent
enhancement loop under the motion rubric (``Brief(kind="video")``: camera move, subject action, pacing, end state,
one continuous shot; the neighbouring shots' descriptions in the brief keep the shots one story; the model's prompt
limit), every agent turn reserved and booked like the image prompts'; offline the agents are rules and free.
The record ``clips/<shot>.motion-prompt.json`` holds the prompt (within the model's limit), the negative prompt,
the end state and, enhanced, the score and the trace folder ``prompts/<shot>.motion/``.
"""

from __future__ import annotations

import json
import shutil
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.timeline import FPS
from storyreel.prompts.enhance import Brief, enhance
from storyreel.providers.llm.enhance_rules import CAMERA_WORDS, fit_limit
from storyreel.stages.context import ProjectContext
from storyreel.stages.enhance import Metered, agents, enhancing

NEGATIVE = "text, captions, watermark, logo, distorted faces, extra limbs, flicker, jump cuts, blurry frames"
"""What no motion clip should show (models that take a negative prompt get it)."""
END_OF_MOVE = {
    "static": "moments later, the scene settled", "zoom_in": "seen closer, the subject filling more of the frame",
    "zoom_out": "seen from further back, with more of its surroundings", "pan_left": "the view moved on to the left",
    "pan_right": "the view moved on to the right", "pan_up": "the view tilted upward", "pan_down": "the view tilted downward",
}


def motion_prompt(camera_move: str, description: str) -> str:
    """The draft motion prompt: the camera move in words, the shot's subject, and the pacing."""
    return f"{CAMERA_WORDS.get(camera_move, 'A slow camera move')}. {description.strip().rstrip('.')}. Natural, steady motion; one continuous shot."


def end_state(camera_move: str, description: str) -> str:
    """The shot's last frame in words: the same scene at the end of its camera move."""
    return f"{description.strip().rstrip('.')}, {END_OF_MOVE.get(camera_move, 'moments later')}"


class MotionPromptStage(Stage[ProjectContext]):
    name: ClassVar[str] = "motion_prompt"
    code_version: ClassVar[str] = "motion-prompt/1"
    max_workers: ClassVar[int] = 4

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots() if ctx.moving(shot.shot_id) and not ctx.pinned(shot.shot_id)]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("narration", unit)]  # the clip's length follows the narration

    def brief(self, ctx: ProjectContext, unit: str) -> Brief:
        """The motion brief: the shot, its length, its end state, the shots before and after it, the model's limit."""
        shots = [s for _, s in ctx.storyboard.shots()]
        at = next(i for i, s in enumerate(shots) if s.shot_id == unit)
        shot, settings = shots[at], ctx.storyboard.settings
        provider = ctx.video_provider
        timing = ctx.shot_timing(unit) if ctx.paths.narration_timing(unit).exists() else None
        return Brief(kind="video", visual_type=shot.visual.type, camera_move=shot.camera_move,
                     style=settings.style.style_prefix.strip().rstrip(".") or None, aspect_ratio=settings.aspect_ratio,
                     duration_s=round(timing.span / FPS, 1) if timing else None, end_state=end_state(shot.camera_move, shot.visual.description),
                     before=shots[at - 1].visual.description if at > 0 else None,
                     after=shots[at + 1].visual.description if at + 1 < len(shots) else None,
                     limit=provider.prompt_limit if provider is not None else None)

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        _, shot = ctx.storyboard.shot(unit)
        director, critic = agents(ctx.llm) if enhancing(ctx) else (None, None)
        s = ctx.settings
        return RecipeParts(provider=f"{director.provider_id}+{critic.provider_id}" if director and critic else "local:template", params={
            "draft": motion_prompt(shot.camera_move, shot.visual.description), "brief": self.brief(ctx, unit).__dict__,
            "negative": NEGATIVE,
            **({"llm": ctx.llm.identity() if ctx.llm is not None and ctx.llm.runs_agents else None,
                "threshold": s.enhance_threshold, "max_iterations": s.enhance_max_iterations} if director else {}),
        })

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        _, shot = ctx.storyboard.shot(unit)
        brief = self.brief(ctx, unit)
        draft = motion_prompt(shot.camera_move, shot.visual.description)
        record: dict = {"shot_id": unit, "original": draft, "negative_prompt": NEGATIVE, "end_state": brief.end_state}
        files, cost = [], 0.0
        if enhancing(ctx):
            director, critic = agents(ctx.llm)
            node = f"motion_prompt[{unit}]"
            trace = ctx.paths.prompts / f"{unit}.motion"
            if trace.is_dir():
                shutil.rmtree(trace)
            result = enhance(draft, Metered(director, ctx, node), Metered(critic, ctx, node), brief,
                             threshold=ctx.settings.enhance_threshold, max_iterations=ctx.settings.enhance_max_iterations, trace_dir=trace)
            record.update(prompt=fit_limit(result.final, brief.limit), score=result.final_score, stop_reason=result.stop_reason,
                          iterations=len(result.iterations), trace=ctx.paths.rel(trace), usage=result.usage, cost_usd=result.cost_usd)
            files += sorted(p for p in trace.iterdir() if p.is_file())
            cost = result.cost_usd
        else:
            record.update(prompt=fit_limit(draft, brief.limit), cost_usd=0.0)
        out = ctx.paths.motion_prompt(unit)
        atomic_write_text(out, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return NodeOutput(files=[out, *files], details={k: record[k] for k in ("score", "stop_reason") if k in record},
                          cost_usd=cost, versioned=[out])


def read_motion_prompt(ctx: ProjectContext, unit: str) -> dict:
    """The shot's motion prompt record; before its node has run (a dry run, a plan), the draft."""
    path = ctx.paths.motion_prompt(unit)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    _, shot = ctx.storyboard.shot(unit)
    return {"prompt": motion_prompt(shot.camera_move, shot.visual.description), "negative_prompt": NEGATIVE,
            "end_state": end_state(shot.camera_move, shot.visual.description)}
