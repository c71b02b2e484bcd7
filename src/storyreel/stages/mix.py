"""Stage ``mix``: the soundtrack, made while the clips are encoded.

Narration is placed at each shot's slot start plus its lead-in (and an optional music bed is ducked under
it), measured per EBU R128, corrected to −16 LUFS / −2 dBTP and encoded once to AAC 48 kHz stereo in
``audio/narration-mix.m4a``, then measured once more as encoded (``audio/narration-mix.qc.json``: what QC
checks, so QC does not decode the video's audio again). The stage shares the encoders' worker pool (``pool = "encode"``), so this
single-threaded work overlaps the clips instead of running after them; ``render`` then muxes it in with a
stream copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from storyreel.core.atomic import atomic_path, atomic_write_text
from storyreel.core.hashing import hash_file
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.audio import TARGET_LUFS, TARGET_TP, build_mix, loudnorm_filter, measure_loudness
from storyreel.media.ffmpeg import aac_encode_args, run_ffmpeg
from storyreel.stages.clip import ENCODE_POOL
from storyreel.stages.context import ProjectContext

UNIT = "audio"

CLIP_FRAMES_PER_SECOND = 2.1
"""Cost hint: clip frames that take as long as one second of soundtrack (mix, two EBU R128 passes and
ffmpeg's single-threaded AAC encoder: ≈ 35 ms of CPU per second against ≈ 17 ms per clip frame warped and
encoded in-process; ``render --force`` of the 65 s bench project, 2026-12-02)."""


class MixStage(Stage[ProjectContext]):
    name: ClassVar[str] = "mix"
    code_version: ClassVar[str] = "mix/1"
    pool: ClassVar[str | None] = ENCODE_POOL

    def concurrency(self, ctx: ProjectContext) -> int:
        return ctx.settings.workers

    def units(self, ctx: ProjectContext) -> list[str]:
        return [UNIT]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("narration", s.shot_id) for s in ctx.timeline.shots]

    def cost_hint(self, ctx: ProjectContext, unit: str) -> float:
        return ctx.timeline.duration_s * CLIP_FRAMES_PER_SECOND

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        tl = ctx.timeline
        return RecipeParts(
            provider="local:ffmpeg",
            params={
                "placements": [(s.shot_id, s.start, s.narration_offset_s) for s in tl.shots],
                "duration_s": tl.duration_s,
                "audio": {"lufs": TARGET_LUFS, "true_peak": TARGET_TP, "rate": 48000, "codec": aac_encode_args()},
                "music": hash_file(ctx.music) if ctx.music else None,
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        paths, tl = ctx.paths, ctx.timeline
        placements = [(paths.narration_audio(s.shot_id), s.start / tl.fps + s.narration_offset_s) for s in tl.shots]
        mix, measured = build_mix(placements, tl.duration_s, paths.work, ctx.music)
        out = paths.audio_mix
        with atomic_path(out) as tmp:
            run_ffmpeg(["-i", str(mix), "-af", loudnorm_filter(measured), *aac_encode_args(), "-t", f"{tl.duration_s:.6f}",
                        "-f", "mp4", str(tmp)], what="encoding the soundtrack")
        # what QC checks, measured here on the encoded soundtrack (the video carries a stream copy of it)
        delivered = measure_loudness(out)
        probe = soundtrack_probe_path(ctx)
        atomic_write_text(probe, json.dumps({"integrated_lufs": delivered["input_i"], "true_peak_dbtp": delivered["input_tp"],
                                             "sha256": hash_file(out)}) + "\n")
        return NodeOutput(files=[out, probe], details={"duration_s": tl.duration_s, "loudness_in": measured, "music": bool(ctx.music)})


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
