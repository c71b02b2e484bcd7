"""Stage ``qc``: every rendered video is checked (:mod:`storyreel.media.qc`) into ``qc.json``.

The video itself is probed and demuxed (codec, tags, timestamps); black frames come from the segments'
probes (``clips/<unit>.qc.json``) and loudness from the soundtrack's (``audio/narration-mix.qc.json``), each
measured as it was encoded, so a rebuild after one edit decodes nothing again (without a probe, QC decodes).

The spec comes from the project: frame size, the timeline's duration, the intended fades, and every
subtitle cue as burned in (its frame range and box) with the narration words it covers. A failed
check fails the node with a message naming the check; ``qc.json`` is written either way.
"""

from __future__ import annotations

from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import StageError
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media import qc
from storyreel.media.layout import OVERLAP_TOLERANCE_PX
from storyreel.media.subtitles import cue_box
from storyreel.media.timeline import FADE_FRAMES
from storyreel.stages.clip import ClipStage, timeline_black_frames
from storyreel.stages.context import ProjectContext
from storyreel.stages.mix import soundtrack_loudness

UNIT = "video"


def project_spec(ctx: ProjectContext) -> qc.QcSpec:
    """What the project's ``video.mp4`` must be (see :class:`storyreel.media.qc.QcSpec`)."""
    tl = ctx.timeline
    width, height = ctx.frame_size
    clips = ClipStage()
    cues: list[qc.CueSpec] = []
    for timing in tl.shots:
        body0 = timing.start + timing.body_start
        offset = timing.start / tl.fps + timing.narration_offset_s
        for cue, first, last in clips.subtitle_cues(ctx, timing.shot_id):
            words = () if cue.words is None else ((cue.words[0] + offset, cue.words[1] + offset),)
            cues.append(qc.CueSpec(
                text=cue.text, start_s=(body0 + first) / tl.fps, end_s=(body0 + last + 1) / tl.fps,
                box=cue_box(cue.text, width, height), words=words,
            ))
    settings = ctx.storyboard.settings
    return qc.QcSpec(
        width=width, height=height, fps=tl.fps, duration_s=tl.duration_s,
        fade_in_s=FADE_FRAMES / tl.fps if settings.fade_in else 0.0,
        fade_out_s=FADE_FRAMES / tl.fps if settings.fade_out else 0.0,
        cues=cues, srt_path=ctx.paths.deliverable("video.srt"), layouts=layout_records(ctx),
    )


def layout_records(ctx: ProjectContext) -> list[dict]:
    """Every shot's layout record (``clips/<shot>.layout.json``); a missing or unreadable one is a record
    that cannot pass, so a layout nobody checked never ships."""
    import json

    out = []
    for timing in ctx.timeline.shots:
        try:
            out.append(json.loads(ctx.paths.clip_layout(timing.shot_id).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            out.append({"shot_id": timing.shot_id, "missing": True})
    return out


def colour_spread(ctx: ProjectContext) -> dict | None:
    """The spread of the shots' mean colours (:func:`storyreel.media.grade.spread`) before and after the vendor clips
    were graded (a Ken Burns shot counts with its still's mean both times); None without vendor clips."""
    import json

    from storyreel.media.grade import spread, still_mean

    before, after, clips = [], [], 0
    for timing in ctx.timeline.shots:
        unit = timing.shot_id
        record = None
        if ctx.moving(unit):
            try:
                record = json.loads(ctx.paths.motion_meta(unit).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                record = None
        if record and "grade" in record:
            clips += 1
            before.append(record["grade"]["src_mean"])
            graded = record.get("colour_delta_e", {}).get("graded_mean") if ctx.settings.grade_clips else None
            after.append(graded or record["grade"]["src_mean"])
        else:
            mean = still_mean(ctx.paths.image(unit))
            before.append(mean)
            after.append(mean)
    if not clips:
        return None
    return {"vendor_clips": clips, "shots": len(before), "spread_before": spread(before), "spread_after": spread(after),
            "graded": ctx.settings.grade_clips}


class QcStage(Stage[ProjectContext]):
    name: ClassVar[str] = "qc"
    code_version: ClassVar[str] = "qc/5"  # /5: the colour spread of vendor clips

    def units(self, ctx: ProjectContext) -> list[str]:
        return [UNIT]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("render", UNIT), *(Node("motion", s.shot_id) for _, s in ctx.storyboard.shots() if ctx.moving(s.shot_id))]

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        spec = project_spec(ctx)
        return RecipeParts(
            provider="local:qc",
            params={
                "size": [spec.width, spec.height], "fps": spec.fps, "duration_s": spec.duration_s,
                "fades": [spec.fade_in_s, spec.fade_out_s],
                "cues": [(c.text, round(c.start_s, 3), round(c.end_s, 3), c.box, c.words) for c in spec.cues or []],
                "rules": {
                    "lufs": qc.LOUDNESS_TARGET, "lu_tolerance": qc.LOUDNESS_TOLERANCE, "true_peak": qc.TRUE_PEAK_MAX,
                    "safe_margin": qc.TITLE_SAFE_MARGIN, "subtitle_tolerance_s": qc.SUBTITLE_TOLERANCE_S,
                    "black": [qc.BLACK_MIN_S, qc.BLACK_LUMA_MAX, qc.BLACK_PICTURE_PCT],
                    "layout": {"overlap_tolerance_px": OVERLAP_TOLERANCE_PX},
                },
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        # the segments' black frames were measured as they were encoded; the video is a stream copy of them
        report = qc.run_qc(ctx.paths.video, project_spec(ctx), black_frames=timeline_black_frames(ctx),
                           loudness=soundtrack_loudness(ctx))
        report.colour = colour_spread(ctx)
        out = ctx.paths.qc_report
        atomic_write_text(out, report.model_dump_json(indent=2) + "\n")
        if not report.passed:
            raise StageError(f"{report.summary()} (details in {out})")
        return NodeOutput(files=[out], details={"passed": True, "checks": len(report.checks)})
