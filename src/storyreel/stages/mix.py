"""Stage ``mix``: the soundtrack, made while the clips are encoded.

Without a music bed the soundtrack is the shots' audio segments (``stages/audio_segment.py``: each voice
leveled to −16 LUFS / −2 dBTP and AAC-encoded on its own) spliced packet by packet on the AAC frame grid
(:mod:`storyreel.media.soundtrack`): nothing is decoded or encoded, so an edit of one shot's narration
re-encodes that shot's audio only. With a music bed, the narration is placed at each shot's slot start plus
its lead-in, the bed is ducked under it, and the whole is measured per EBU R128, corrected to −16 LUFS /
−2 dBTP and encoded once. Either way the result is ``audio/narration-mix.m4a`` (AAC 48 kHz stereo) and
``audio/narration-mix.qc.json`` — its loudness as delivered, what QC checks, so QC does not decode the
video's audio again. The stage shares the encoders' worker pool (``pool = "encode"``), so its work overlaps
the clips; ``render`` then muxes the soundtrack in with a stream copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from storyreel.core.atomic import atomic_path, atomic_write_text
from storyreel.core.hashing import hash_file
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.audio import TARGET_LUFS, TARGET_TP, build_mix, loudnorm_filter, measure_loudness
from storyreel.media.ffmpeg import MediaError, aac_encode_args, run_ffmpeg
from storyreel.media.soundtrack import FRAME, RATE, Placed, frame_at, frames_for, splice
from storyreel.stages.clip import ENCODE_POOL
from storyreel.stages.context import ProjectContext

UNIT = "audio"

CLIP_FRAMES_PER_SECOND = 2.1
"""Cost hint of the whole-soundtrack mix (with a music bed): clip frames that take as long as one second
of soundtrack (mix, two EBU R128 passes and ffmpeg's single-threaded AAC encoder: ≈ 35 ms of CPU per
second against ≈ 17 ms per clip frame warped and encoded in-process; ``render --force`` of the 65 s bench
project, 2026-12-02)."""

SPLICE_FRAMES_PER_SECOND = 0.2
"""Cost hint of the splice: the packets are copied and the integrated loudness is metered (≈ 3 ms of CPU
per second of soundtrack)."""


class MixStage(Stage[ProjectContext]):
    name: ClassVar[str] = "mix"
    code_version: ClassVar[str] = "mix/2"  # /2: without music, the audio segments spliced
    pool: ClassVar[str | None] = ENCODE_POOL

    def concurrency(self, ctx: ProjectContext) -> int:
        return ctx.settings.workers

    def units(self, ctx: ProjectContext) -> list[str]:
        return [UNIT]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        stage = "narration" if ctx.music else "audio_segment"
        return [Node(stage, s.shot_id) for s in ctx.timeline.shots]

    def cost_hint(self, ctx: ProjectContext, unit: str) -> float:
        per_second = CLIP_FRAMES_PER_SECOND if ctx.music else SPLICE_FRAMES_PER_SECOND
        return ctx.timeline.duration_s * per_second

    def grid(self, ctx: ProjectContext) -> list[tuple[str, int]]:
        """(shot, AAC frame where its audio segment starts): the frame nearest to its slot's start."""
        tl = ctx.timeline
        return [(s.shot_id, frame_at(s.start / tl.fps)) for s in tl.shots]

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        tl = ctx.timeline
        audio = {"lufs": TARGET_LUFS, "true_peak": TARGET_TP, "rate": RATE, "codec": aac_encode_args()}
        if not ctx.music:
            return RecipeParts(provider="local:splice", params={"grid": self.grid(ctx), "frames": frames_for(tl.duration_s),
                                                               "frame": FRAME, "audio": audio})
        return RecipeParts(
            provider="local:ffmpeg",
            params={
                "placements": [(s.shot_id, s.start, s.narration_offset_s) for s in tl.shots],
                "duration_s": tl.duration_s,
                "audio": audio,
                "music": hash_file(ctx.music),
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        if not ctx.music:
            return self._splice(ctx)
        paths, tl = ctx.paths, ctx.timeline
        placements = [(paths.narration_audio(s.shot_id), s.start / tl.fps + s.narration_offset_s) for s in tl.shots]
        mix, measured = build_mix(placements, tl.duration_s, paths.work, ctx.music)
        out = paths.audio_mix
        with atomic_path(out) as tmp:
            run_ffmpeg(["-i", str(mix), "-af", loudnorm_filter(measured), *aac_encode_args(), "-t", f"{tl.duration_s:.6f}",
                        "-f", "mp4", str(tmp)], what="encoding the soundtrack")
        # what QC checks, measured here on the encoded soundtrack (the video carries a stream copy of it)
        delivered = measure_loudness(out)
        probe = _write_soundtrack_probe(ctx, delivered["input_i"], delivered["input_tp"])
        return NodeOutput(files=[out, probe], details={"duration_s": tl.duration_s, "loudness_in": measured, "music": True})

    def _splice(self, ctx: ProjectContext) -> NodeOutput:
        """The audio segments on the grid; loudness as delivered: the integrated loudness metered on the
        spliced file, the true peak the loudest segment's (measured on its own AAC: the segments are apart,
        with digital silence between them, so no inter-sample peak spans two)."""
        paths, tl = ctx.paths, ctx.timeline
        placed = [Placed(paths.audio_segment(shot), frame) for shot, frame in self.grid(ctx)]
        peaks = []
        for shot, _ in self.grid(ctx):
            try:
                peaks.append(float(json.loads(paths.audio_segment_probe(shot).read_text(encoding="utf-8"))["true_peak_dbtp"]))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise MediaError(f"the audio segment of {shot} has no readable probe ({exc}): run make again") from exc
        out = paths.audio_mix
        with atomic_path(out) as tmp:
            frames = splice(placed, frames_for(tl.duration_s), tmp)
        delivered = measure_loudness(out, true_peak=False)
        probe = _write_soundtrack_probe(ctx, delivered["input_i"], max(peaks))
        return NodeOutput(files=[out, probe], details={"duration_s": tl.duration_s, "frames": frames, "music": False,
                                                       "integrated_lufs": delivered["input_i"], "true_peak_dbtp": max(peaks)})


def _write_soundtrack_probe(ctx: ProjectContext, integrated: float, peak: float) -> Path:
    probe = soundtrack_probe_path(ctx)
    atomic_write_text(probe, json.dumps({"integrated_lufs": integrated, "true_peak_dbtp": peak, "sha256": hash_file(ctx.paths.audio_mix)}) + "\n")
    return probe


def soundtrack_probe_path(ctx: ProjectContext) -> Path:
    """``audio/narration-mix.qc.json``: the soundtrack's EBU R128 loudness and true peak, measured on the
    encoded AAC, with the file's hash (QC uses it only for that very file)."""
    return ctx.paths.audio_mix.with_suffix(".qc.json")


def soundtrack_loudness(ctx: ProjectContext) -> tuple[float, float] | None:
    """(integrated LUFS, true peak dBTP) of the soundtrack as its probe recorded them, or None when the probe
    is missing or was measured on another file."""
    try:
        data = json.loads(soundtrack_probe_path(ctx).read_text(encoding="utf-8"))
        if data.get("sha256") != hash_file(ctx.paths.audio_mix):
            return None
        return float(data["integrated_lufs"]), float(data["true_peak_dbtp"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
