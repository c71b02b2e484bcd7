"""Stage ``render``: the final video — stream-copy concat of the segments and of the soundtrack, sidecars.

Outputs ``video.mp4`` (H.264 High, yuv420p, BT.709, +faststart, AAC 48 kHz stereo), ``video.srt``,
``video.vtt`` and ``thumbnail.jpg``. The soundtrack (narration on the timeline, an optional ducked music
bed, −16 LUFS) is the ``mix`` stage's, made while the clips were encoded; nothing is re-encoded here.
"""

from __future__ import annotations

from typing import ClassVar

from PIL import Image

from storyreel.core.atomic import atomic_path, atomic_write_text
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.media.ffmpeg import concat_list, concat_mux_args, run_ffmpeg
from storyreel.media.subtitles import make_cues, to_srt, to_vtt
from storyreel.stages.context import ProjectContext
from storyreel.stages.mix import UNIT as MIX_UNIT

UNIT = "video"


class RenderStage(Stage[ProjectContext]):
    name: ClassVar[str] = "render"
    code_version: ClassVar[str] = "render/5"  # /5: the soundtrack is the mix stage's, stream-copied

    def units(self, ctx: ProjectContext) -> list[str]:
        return [UNIT]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node(kind, u) for kind, u in ctx.timeline.segments()] + [Node("mix", MIX_UNIT)] + [
            Node("narration", s.shot_id) for s in ctx.timeline.shots
        ]

    def cues(self, ctx: ProjectContext):  # noqa: ANN201
        width, height = ctx.frame_size
        fps = ctx.timeline.fps
        cues = []
        for timing in ctx.timeline.shots:
            _, shot = ctx.storyboard.shot(timing.shot_id)
            _, words = ctx.narration(timing.shot_id)
            offset = timing.start / fps + timing.narration_offset_s
            cues += [c.shifted(offset) for c in make_cues(shot.narration, words, width, height)]
        return cues

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        tl = ctx.timeline
        return RecipeParts(
            provider="local:ffmpeg",
            params={
                "shots": [(s.shot_id, s.start, s.slot, s.narration_offset_s) for s in tl.shots],
                "segments": tl.segments(),
                "total_frames": tl.total_frames,
                "cues": [(c.text, c.start_s, c.end_s) for c in self.cues(ctx)],
                "audio": "stream copy of mix[audio]",
            },
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        paths, tl = ctx.paths, ctx.timeline
        # 1. concat list of segments in play order
        listing = paths.work / "segments.txt"
        atomic_write_text(listing, concat_list([(paths.clip(u), n) for _, u, n in tl.segment_frames()], tl.fps))
        # 2. stream-copy concat + the soundtrack, written atomically
        with atomic_path(paths.video) as tmp:
            run_ffmpeg(concat_mux_args(listing, paths.audio_mix, tmp, tl.duration_s), what="assembling video.mp4")
        # 3. sidecars and thumbnail
        cues = self.cues(ctx)
        srt, vtt = paths.deliverable("video.srt"), paths.deliverable("video.vtt")
        atomic_write_text(srt, to_srt(cues))
        atomic_write_text(vtt, to_vtt(cues))
        thumb = paths.deliverable("thumbnail.jpg")
        first = Image.open(paths.image(tl.shots[0].shot_id)).convert("RGB")
        first.thumbnail((1280, 1280))
        with atomic_path(thumb) as tmp_thumb:
            first.save(tmp_thumb, "JPEG", quality=88)
        return NodeOutput(
            files=[paths.video, srt, vtt, thumb],
            details={"duration_s": tl.duration_s, "frames": tl.total_frames},
        )
