"""Stages ``clip`` (a shot's body segment) and ``segment`` (a crossfade between two shots).

A clip is the shot's still moving along its Ken Burns path over the body frames, with the storyboard's
overlays and the subtitles burned in, encoded to ``clips/<shot>.mp4``. A segment is the crossfade
``clips/<a>+<b>.mp4``. Both are keyed on the image's data version and on the shot's timing, so editing
one shot re-encodes only its clip and its two neighbouring segments.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

from storyreel.engine.graph import Node, NodeOutput, RecipeParts
from storyreel.media.ffmpeg import Layer, clip_args, run_ffmpeg, transition_args
from storyreel.media.overlays import render_overlay
from storyreel.media.subtitles import make_cues, render_cue
from storyreel.media.timeline import ShotTiming
from storyreel.stages.context import ProjectContext


def timing_params(t: ShotTiming) -> dict:
    """The parts of a shot's timing that change its pixels (not its position on the timeline)."""
    return {
        "slot": t.slot,
        "pre": t.pre,
        "post": t.post,
        "camera": t.camera.__dict__,
        "fade_in": t.fade_in,
        "fade_out": t.fade_out,
    }


def _tmp_for(out: Path) -> Path:
    return out.with_name(f".{out.stem}.tmp{out.suffix}")


class ClipStage:
    name: ClassVar[str] = "clip"
    code_version: ClassVar[str] = "clip/1"
    max_workers: ClassVar[int] = 2
    editable_output: ClassVar[bool] = False

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("image", unit)]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("image", unit), Node("narration", unit)]

    def layers_spec(self, ctx: ProjectContext, unit: str) -> list[dict]:
        """Overlays for the whole body, then subtitle cues with their body-relative frame ranges."""
        _, shot = ctx.storyboard.shot(unit)
        t = ctx.shot_timing(unit)
        fps = ctx.timeline.fps
        width, height = ctx.storyboard.settings.frame_size
        specs = [{"kind": o.type, "text": o.text, "first": 0, "last": t.body_frames - 1} for o in shot.overlays]
        _, words = ctx.narration(unit)
        offset = t.narration_offset_s - t.body_start / fps
        for cue in make_cues(shot.narration, words, width, height):
            first = max(0, round((cue.start_s + offset) * fps))
            last = min(t.body_frames - 1, round((cue.end_s + offset) * fps) - 1)
            if last >= first:
                specs.append({"kind": "subtitle", "text": cue.text, "first": first, "last": last})
        return specs

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        settings = ctx.storyboard.settings
        return RecipeParts(
            provider="local:kenburns",
            params={
                "timing": timing_params(ctx.shot_timing(unit)),
                "layers": self.layers_spec(ctx, unit),
                "palette": settings.style.palette,
                "size": settings.frame_size,
                "encoding": ctx.encoding.identity(),
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        settings = ctx.storyboard.settings
        width, height = settings.frame_size
        work = ctx.paths.work / unit
        shutil.rmtree(work, ignore_errors=True)
        layers: list[Layer] = []
        for i, spec in enumerate(self.layers_spec(ctx, unit)):
            png = work / f"layer-{i:03d}.png"
            if spec["kind"] == "subtitle":
                x, y = render_cue(spec["text"], width, height, png)
            else:
                x, y = render_overlay(spec["kind"], spec["text"], settings.style.palette, width, height, png)
            layers.append(Layer(png, x, y, spec["first"], spec["last"]))
        out = ctx.paths.clips / f"{unit}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_for(out)
        image = ctx.paths.images / f"{unit}.png"
        run_ffmpeg(clip_args(image, ctx.shot_timing(unit), layers, tmp, ctx.encoding, width, height), what=f"encoding clip {unit}")
        tmp.replace(out)
        return NodeOutput(files=[out], details={"frames": ctx.shot_timing(unit).body_frames, "layers": len(layers)})


class SegmentStage:
    name: ClassVar[str] = "segment"
    code_version: ClassVar[str] = "segment/1"
    max_workers: ClassVar[int] = 2
    editable_output: ClassVar[bool] = False

    def units(self, ctx: ProjectContext) -> list[str]:
        return [t.unit for t in ctx.timeline.transitions]

    @staticmethod
    def pair(unit: str) -> tuple[str, str]:
        a, _, b = unit.partition("+")
        return a, b

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        a, b = self.pair(unit)
        return [Node("image", a), Node("image", b)]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        a, b = self.pair(unit)
        return [Node("image", a), Node("image", b), Node("narration", a), Node("narration", b)]

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        a, b = self.pair(unit)
        return RecipeParts(
            provider="local:crossfade",
            params={
                "a": timing_params(ctx.shot_timing(a)),
                "b": timing_params(ctx.shot_timing(b)),
                "size": ctx.storyboard.settings.frame_size,
                "encoding": ctx.encoding.identity(),
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        a, b = self.pair(unit)
        width, height = ctx.storyboard.settings.frame_size
        out = ctx.paths.clips / f"{unit}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_for(out)
        args = transition_args(
            ctx.paths.images / f"{a}.png", ctx.shot_timing(a), ctx.paths.images / f"{b}.png", ctx.shot_timing(b),
            tmp, ctx.encoding, width, height,
        )
        run_ffmpeg(args, what=f"encoding crossfade {unit}")
        tmp.replace(out)
        return NodeOutput(files=[out], details={"frames": 15})
