"""Stage ``audio_segment``: one shot's voice, leveled and encoded as its own piece of the soundtrack.

The narration is resampled to 48 kHz, given its lead-in silence, measured per EBU R128 and brought to
−16 LUFS / −2 dBTP on its own (a peak limiter only when the gain would take the true peak past −2 dBTP),
then AAC-encoded with the soundtrack's settings into ``audio/segments/<shot>.m4a``; the sidecar
``audio/segments/<shot>.json`` holds its frame count and its loudness as measured before and after
(decoded from the AAC). Both measurements run libavfilter's ``ebur128`` in this process; the encode is one
ffmpeg process. The ``mix`` stage splices the segments (:mod:`storyreel.media.soundtrack`), so
editing one shot's narration re-encodes that shot's audio only.

Leveling each voice on its own keeps the shots even with one another (a quiet line is not left quiet
because the others are loud) and puts the programme within a few tenths of an LU of the target: the
silence between the lines is under the meter's −70 LUFS gate (EBU R128 / ITU-R BS.1770-4 §2.8).
With a music bed the soundtrack is mixed and encoded as a whole (``mix``) and this stage has no units.
"""

from __future__ import annotations

from typing import ClassVar

from storyreel.core.atomic import atomic_path
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.audio import TARGET_LUFS, TARGET_TP, loudnorm_filter
from storyreel.media.ffmpeg import aac_encode_args
from storyreel.media.soundtrack import (
    FRAME,
    GUARD_FRAMES,
    RATE,
    encode_voice,
    measure_samples,
    measure_segment,
    read_voice,
    segment_samples,
    write_probe,
)
from storyreel.stages.clip import ENCODE_POOL
from storyreel.stages.context import ProjectContext


class AudioSegmentStage(Stage[ProjectContext]):
    name: ClassVar[str] = "audio_segment"
    fans_out: ClassVar[bool] = True  # another worker may run it (issue 29): it reads its inputs and the project files
    code_version: ClassVar[str] = "audio_segment/2"  # /2: both measurements in-process, unrounded
    pool: ClassVar[str | None] = ENCODE_POOL

    def concurrency(self, ctx: ProjectContext) -> int:
        return ctx.settings.workers

    def units(self, ctx: ProjectContext) -> list[str]:
        return [] if ctx.music else [s.shot_id for s in ctx.timeline.shots]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("narration", unit)]

    def cost_hint(self, ctx: ProjectContext, unit: str) -> float:
        """In clip frames, as the other nodes of the pool: ≈ 2.1 per second of audio (the AAC encoder's
        ≈ 35 ms of CPU per second against ≈ 17 ms per clip frame, stages/mix.py)."""
        from storyreel.stages.mix import CLIP_FRAMES_PER_SECOND

        t = ctx.shot_timing(unit)
        return (t.narration_offset_s + ctx.narration(unit)[0]) * CLIP_FRAMES_PER_SECOND

    def lead(self, ctx: ProjectContext, unit: str) -> int:
        """Samples of silence before the voice: the shot's lead-in (the first shot's includes the fade-in)."""
        return round(ctx.shot_timing(unit).narration_offset_s * RATE)

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        return RecipeParts(
            provider="local:ffmpeg",
            params={
                "lead_samples": self.lead(ctx, unit),
                "audio": {"lufs": TARGET_LUFS, "true_peak": TARGET_TP, "rate": RATE, "frame": FRAME, "guard_frames": GUARD_FRAMES,
                          "codec": aac_encode_args()},
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        paths = ctx.paths
        samples = segment_samples(read_voice(paths.narration_audio(unit)), self.lead(ctx, unit))
        measured = measure_samples(samples)
        chain = loudnorm_filter(measured)
        out, probe = paths.audio_segment(unit), paths.audio_segment_probe(unit)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            encode_voice(samples, chain, tmp, what=f"encoding the audio of {unit}")
        delivered = measure_segment(out)
        frames = len(samples) // FRAME
        write_probe(probe, {"frames": frames, "lead_samples": self.lead(ctx, unit), "filter": chain,
                            "loudness_in": measured, "integrated_lufs": delivered["input_i"], "true_peak_dbtp": delivered["input_tp"]})
        return NodeOutput(files=[out, probe], details={"frames": frames, "filter": chain, "loudness_in": measured,
                                                       "loudness_out": delivered})
