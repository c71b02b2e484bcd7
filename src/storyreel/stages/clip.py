"""Stages ``clip`` (a shot's body segment) and ``segment`` (a crossfade between two shots).

A clip is the shot's still moving along its Ken Burns path over the body frames (sub-pixel motion,
:mod:`storyreel.media.motion`) — or, for a shot whose motion a vendor made (``motion`` stage), that vendor clip
fitted to the frame, the 30 fps clock and the shot's length (:mod:`storyreel.media.footage`) — with the storyboard's overlays and the subtitles burned in, encoded to
``clips/<shot>.mp4``. A segment is the crossfade ``clips/<a>+<b>.mp4``. Both are keyed on the image's
data version and on the shot's timing, so editing one shot re-encodes only its clip and its two
neighbouring segments. While a segment is encoded its final frames are probed for black frames into
``clips/<unit>.qc.json``, which the ``qc`` stage joins instead of decoding the assembled video.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import ClassVar

from storyreel.core.atomic import atomic_path, atomic_write_text
from storyreel.core.cancel import checkpoint
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.ffmpeg import Encoding, Layer, MediaError, forget_encoder
from storyreel.media.layout import Box
from storyreel.media.overlays import render_overlay
from storyreel.media.qc import blackframe_filter
from storyreel.media.subtitles import Cue, cue_box, make_cues, render_cue
from storyreel.media.timeline import A_PART, CROSSFADE_FRAMES, FADE_FRAMES, ShotTiming
from storyreel.stages.context import ProjectContext

PROBES = (blackframe_filter(),)  # measured on every segment's final frames while it is encoded


def probe_path(ctx: ProjectContext, unit: str) -> Path:
    """``clips/<unit>.qc.json``: what was measured on a segment's frames as it was encoded."""
    return ctx.paths.clip_probe(unit)


def _write_probe(ctx: ProjectContext, unit: str, encoded) -> Path:  # noqa: ANN001 (media.encoder.Segment)
    out = probe_path(ctx, unit)
    atomic_write_text(out, json.dumps({"frames": encoded.frames, "black_frames": encoded.black_frames}) + "\n")
    return out


def timeline_black_frames(ctx: ProjectContext) -> list[int] | None:
    """Black frame indices on the video's frame clock, joined from every segment's probe in play order;
    None when a probe is missing or disagrees with the timeline (then QC decodes the video instead)."""
    out: list[int] = []
    offset = 0
    for _, unit, frames in ctx.timeline.segment_frames():
        try:
            data = json.loads(probe_path(ctx, unit).read_text())
        except (OSError, ValueError):
            return None
        if data.get("frames") != frames:
            return None
        out += [offset + int(k) for k in data.get("black_frames", [])]
        offset += frames
    return out


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


def _watched(frames):  # noqa: ANN001, ANN202
    """The frames, with a cancellation checkpoint every half second of video (the encoder is then killed)."""
    for i, frame in enumerate(frames):
        if i % 15 == 0:
            checkpoint()
        yield frame


def _encode(frames, layers: list[Layer], out: Path, frame_count: int, ctx: ProjectContext, what: str, **fades: int):  # noqa: ANN001, ANN202
    """Encode (:func:`storyreel.media.encoder.encode_segment`), and when a hardware encoder fails mid-render
    record the fallback to libx264 so the next run re-encodes every segment with one encoder (a stream-copy
    concat needs identical settings)."""
    from storyreel.media.encoder import encode_segment  # OpenCV and PyAV: only when encoding

    width, height = ctx.frame_size
    try:
        return encode_segment(_watched(frames), layers, out, ctx.encoding, width, height, frame_count, what=what, **fades)
    except MediaError:
        if ctx.encoding.codec != Encoding.codec:
            forget_encoder(ctx.settings.workspace)
            raise MediaError(
                f"hardware encoder {ctx.encoding.codec} failed while {what}; the next run uses libx264 "
                "(or set STORYREEL_VIDEO_ENCODER=libx264)"
            ) from None
        raise


def clip_in(ctx: ProjectContext, unit: str) -> float:
    """The in-point of a shot's vendor clip in seconds (0: its start, or a shot without one)."""
    if ctx.footage(unit) is None:
        return 0.0
    _, shot = ctx.storyboard.shot(unit)
    return shot.visual.clip_in_s or 0.0


def shot_frames(ctx: ProjectContext, unit: str):  # noqa: ANN201 - ShotFrames | FootageFrames
    """The frame source of a shot: its vendor clip fitted to the frame and the shot's length
    (:class:`~storyreel.media.footage.FootageFrames`) when its motion comes from a vendor, else its still along
    the Ken Burns path (:class:`~storyreel.media.motion.ShotFrames`)."""
    width, height = ctx.frame_size
    timing = ctx.shot_timing(unit)
    footage = ctx.footage(unit)
    if footage is not None:
        from storyreel.media.footage import FootageFrames
        from storyreel.media.grade import Grade

        grade = None
        if ctx.settings.grade_clips:
            try:
                grade = Grade(**json.loads(ctx.paths.motion_meta(unit).read_text(encoding="utf-8"))["grade"])
            except (OSError, ValueError, KeyError, TypeError):
                grade = None  # a record without a grade: the clip's own colours
        _, shot = ctx.storyboard.shot(unit)
        return FootageFrames(footage, timing, width, height, grade=grade, start_s=shot.visual.clip_in_s or 0.0)
    from storyreel.media.motion import ShotFrames, load_still

    return ShotFrames(load_still(ctx.paths.image(unit), ctx.paths.stills), timing, width, height)


ENCODE_POOL = "encode"
"""Clips, crossfades and the audio mix share one worker pool (see :class:`storyreel.engine.graph.Stage`)."""


class ClipStage(Stage[ProjectContext]):
    name: ClassVar[str] = "clip"
    fans_out: ClassVar[bool] = True  # another worker may run it (issue 29): it reads its inputs and the project files
    pool: ClassVar[str | None] = ENCODE_POOL
    code_version: ClassVar[str] = "clip/8"  # /8: encoded in-process (media/encoder.py)

    def concurrency(self, ctx: ProjectContext) -> int:
        """Encoders at once: ``STORYREEL_WORKERS`` (x264 threads per encoder = cores ÷ workers)."""
        return ctx.settings.workers

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("select", unit), *([Node("motion", unit)] if ctx.moving(unit) else [])]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [*self.inputs(ctx, unit), Node("narration", unit)]

    def subtitle_cues(self, ctx: ProjectContext, unit: str) -> list[tuple[Cue, int, int]]:
        """The shot's cues with the body-relative frame range [first, last] each is burned in on."""
        _, shot = ctx.storyboard.shot(unit)
        t = ctx.shot_timing(unit)
        fps = ctx.timeline.fps
        width, height = ctx.frame_size
        _, words = ctx.narration(unit)
        offset = t.narration_offset_s - t.body_start / fps
        out = []
        for cue in make_cues(shot.narration, words, width, height):
            first = max(0, round((cue.start_s + offset) * fps))
            last = min(t.body_frames - 1, round((cue.end_s + offset) * fps) - 1)
            if last >= first:
                out.append((cue, first, last))
        return out

    def cost_hint(self, ctx: ProjectContext, unit: str) -> int:
        """Relative run time (frames to encode): the executor starts the longest clips first."""
        return ctx.shot_timing(unit).body_frames

    def layers_spec(self, ctx: ProjectContext, unit: str) -> list[dict]:
        """Overlays for the whole body, then subtitle cues with their body-relative frame ranges."""
        _, shot = ctx.storyboard.shot(unit)
        t = ctx.shot_timing(unit)
        specs = [{"kind": o.type, "text": o.text, "first": 0, "last": t.body_frames - 1} for o in shot.overlays]
        specs += [{"kind": "subtitle", "text": c.text, "first": a, "last": b} for c, a, b in self.subtitle_cues(ctx, unit)]
        return specs

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        settings = ctx.storyboard.settings
        return RecipeParts(
            provider=("local:footage+grade" if ctx.settings.grade_clips else "local:footage") if ctx.footage(unit) else "local:kenburns",
            params={
                "timing": timing_params(ctx.shot_timing(unit)),
                "layers": self.layers_spec(ctx, unit),
                "palette": settings.style.palette,
                "size": ctx.frame_size,
                "encoding": ctx.encoding.identity(),
                "probes": PROBES,
                **({"clip_in_s": clip_in(ctx, unit)} if clip_in(ctx, unit) else {}),
            },
        )

    def layers(self, ctx: ProjectContext, unit: str) -> tuple[list[Layer], list[dict]]:
        """Overlay and subtitle images drawn to ``work/<shot>/layer-NNN.png`` where the frame layout puts
        them, with their frame ranges; and their layout-record elements (:mod:`storyreel.media.layout`)."""
        palette = ctx.storyboard.settings.style.palette
        width, height = ctx.frame_size
        placed = iter(ctx.frame_layout(unit).overlays)
        work = ctx.paths.work / unit
        shutil.rmtree(work, ignore_errors=True)
        layers: list[Layer] = []
        elements: list[dict] = []
        for i, spec in enumerate(self.layers_spec(ctx, unit)):
            png = work / f"layer-{i:03d}.png"
            if spec["kind"] == "subtitle":
                x, y = render_cue(spec["text"], width, height, png)
                bx, by, bw, bh = cue_box(spec["text"], width, height)
                box, group = Box(bx, by, bx + bw, by + bh), "subtitle"
            else:
                box = next(placed).box
                render_overlay(spec["kind"], spec["text"], palette, width, height, png)
                x, y, group = int(box.x0), int(box.y0), "overlay"
            layers.append(Layer(png, x, y, spec["first"], spec["last"]))
            elements.append({"group": group, "role": "text", "kind": spec["kind"], "text": spec["text"], "box": box.as_list(),
                             "frames": [spec["first"], spec["last"]]})
        return layers, elements

    def layout_record(self, ctx: ProjectContext, unit: str, elements: list[dict]) -> dict:
        """The shot's layout record: the card's boxes from the image sidecar (still pixels, moving with the
        camera) and the overlays' and cues' (frame pixels), with the camera path they are checked along."""
        width, height = ctx.frame_size
        t = ctx.shot_timing(unit)
        try:
            card = json.loads(ctx.paths.image_meta(unit).read_text(encoding="utf-8")).get("layout") or {}
        except (OSError, ValueError):
            card = {}
        return {
            "shot_id": unit, "frame": [width, height], "still": card.get("still") or [width, height],
            "camera": dict(t.camera.__dict__), "span": t.span, "body": [t.pre + t.body_start, t.pre + t.body_end],
            "elements": list(card.get("elements", [])) + elements,
        }

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        from storyreel.media.motion import body_frames  # OpenCV: only when encoding

        width, height = ctx.frame_size
        timing = ctx.shot_timing(unit)
        out = ctx.paths.clip(unit)
        # 1. overlays and subtitle cues as images with their frame ranges, and the shot's layout record
        layers, elements = self.layers(ctx, unit)
        layout = ctx.paths.clip_layout(unit)
        atomic_write_text(layout, json.dumps(self.layout_record(ctx, unit, elements), ensure_ascii=False) + "\n")
        # 2. the still along its Ken Burns path, finished (layers, fades, black-frame probe) and encoded frame by frame
        frames = body_frames(shot_frames(ctx, unit))
        fades = {"fade_in": FADE_FRAMES if timing.fade_in else 0, "fade_out": FADE_FRAMES if timing.fade_out else 0}
        with atomic_path(out) as tmp:
            encoded = _encode(frames, layers, tmp, timing.body_frames, ctx, f"encoding clip {unit}", **fades)
        # 3. what the probes measured, for QC
        probe = _write_probe(ctx, unit, encoded)
        return NodeOutput(files=[out, probe, layout], details={"frames": timing.body_frames, "layers": len(layers), "encoder": ctx.encoding.codec})


class SegmentStage(Stage[ProjectContext]):
    name: ClassVar[str] = "segment"
    fans_out: ClassVar[bool] = True  # another worker may run it (issue 29): it reads its inputs and the project files
    code_version: ClassVar[str] = "segment/6"  # /6: encoded in-process (media/encoder.py)
    pool: ClassVar[str | None] = ENCODE_POOL

    def cost_hint(self, ctx: ProjectContext, unit: str) -> float:
        """In clip frames: each crossfade frame warps two stills, and the short encode pays x264's start."""
        return 2.5 * CROSSFADE_FRAMES

    def concurrency(self, ctx: ProjectContext) -> int:
        """Encoders at once: ``STORYREEL_WORKERS`` (x264 threads per encoder = cores ÷ workers)."""
        return ctx.settings.workers

    def units(self, ctx: ProjectContext) -> list[str]:
        return [t.unit for t in ctx.timeline.transitions]

    @staticmethod
    def pair(unit: str) -> tuple[str, str]:
        a, _, b = unit.partition("+")
        return a, b

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        a, b = self.pair(unit)
        return [Node("select", a), Node("select", b), *(Node("motion", s) for s in (a, b) if ctx.moving(s))]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        a, b = self.pair(unit)
        return [*self.inputs(ctx, unit), Node("narration", a), Node("narration", b)]

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        a, b = self.pair(unit)
        return RecipeParts(
            provider="local:crossfade",
            params={
                "a": timing_params(ctx.shot_timing(a)),
                "b": timing_params(ctx.shot_timing(b)),
                **({"footage": [bool(ctx.footage(a)), bool(ctx.footage(b))], "grade": ctx.settings.grade_clips}
                   if ctx.footage(a) or ctx.footage(b) else {}),
                **({"clip_in_s": [clip_in(ctx, a), clip_in(ctx, b)]} if clip_in(ctx, a) or clip_in(ctx, b) else {}),
                "size": ctx.frame_size,
                "encoding": ctx.encoding.identity(),
                "probes": PROBES,
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        from storyreel.media.motion import crossfade_frames

        a, b = self.pair(unit)
        out = ctx.paths.clip(unit)
        ta = ctx.shot_timing(a)
        fa, fb = shot_frames(ctx, a), shot_frames(ctx, b)
        frames = crossfade_frames(fa, fb, CROSSFADE_FRAMES, ta.slot - A_PART, -A_PART)
        with atomic_path(out) as tmp:
            encoded = _encode(frames, [], tmp, CROSSFADE_FRAMES, ctx, f"encoding crossfade {unit}")
        return NodeOutput(files=[out, _write_probe(ctx, unit, encoded)], details={"frames": CROSSFADE_FRAMES, "encoder": ctx.encoding.codec})
