"""The made video as an OpenTimelineIO timeline (issue 28 item 6): the interchange DaVinci Resolve, Premiere (through
its adapters), Kdenlive and others read.

:func:`build_timeline` lays out, at the video's frame rate:

- a video track ``Shots``: one clip per shot, named by its shot ID, its media the rendered ``video.mp4`` and its source
  range the shot's slot in it (so the clips play the picture as made — camera move, overlays, crossfades — and their
  durations add up to the video's);
- an audio track ``Narration``: each shot's narration (``audio/<shot>.wav``) at the time it is heard, gaps between;
- an audio track ``Music`` when the project has music;
- the subtitles as markers on the timeline's tracks (the cue's text as the marker's name and comment).

Each clip's metadata under ``storyreel`` names the shot and its chapter (what an import maps back by). Media
references are absolute ``file://`` URLs; written as ``.otioz`` (OTIO's zip bundle) the media go inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build_timeline(ctx: Any, cues: list) -> Any:  # noqa: ANN401 - opentimelineio.schema.Timeline
    """The project (a :class:`~storyreel.stages.context.ProjectContext` whose video is made) as a timeline; ``cues``
    are the video's subtitles (:class:`~storyreel.media.subtitles.Cue`, seconds on the video's clock)."""
    import opentimelineio as otio

    tl = ctx.timeline
    fps = float(tl.fps)
    rt = otio.opentime.RationalTime
    rng = otio.opentime.TimeRange
    timeline = otio.schema.Timeline(name=ctx.storyboard.settings.title)
    timeline.global_start_time = rt(0, fps)
    timeline.metadata["storyreel"] = {"project_id": ctx.storyboard.project_id, "fps": tl.fps, "frames": tl.total_frames,
                                      "size": [tl.width, tl.height]}
    video = otio.schema.Track(name="Shots", kind=otio.schema.TrackKind.Video)
    movie = otio.schema.ExternalReference(target_url=ctx.paths.video.resolve().as_uri(),
                                          available_range=rng(rt(0, fps), rt(tl.total_frames, fps)))
    for timing in tl.shots:
        chapter, _ = ctx.storyboard.shot(timing.shot_id)
        clip = otio.schema.Clip(name=timing.shot_id, media_reference=movie.clone(),
                                source_range=rng(rt(timing.start, fps), rt(timing.slot, fps)))
        clip.metadata["storyreel"] = {"shot_id": timing.shot_id, "chapter_id": chapter.chapter_id, "slot_frames": timing.slot}
        video.append(clip)
    narration = otio.schema.Track(name="Narration", kind=otio.schema.TrackKind.Audio)
    at = 0
    for timing in tl.shots:
        wav = ctx.paths.narration_audio(timing.shot_id)
        start = timing.start + round(timing.narration_offset_s * fps)
        length = round(timing.narration_s * fps)
        if not wav.is_file() or length <= 0:
            continue
        if start > at:
            narration.append(otio.schema.Gap(source_range=rng(rt(0, fps), rt(start - at, fps))))
        ref = otio.schema.ExternalReference(target_url=Path(wav).resolve().as_uri(), available_range=rng(rt(0, fps), rt(length, fps)))
        narration.append(otio.schema.Clip(name=f"{timing.shot_id} narration", media_reference=ref, source_range=rng(rt(0, fps), rt(length, fps))))
        at = start + length
    timeline.tracks.append(video)
    timeline.tracks.append(narration)
    if ctx.music is not None and Path(ctx.music).is_file():
        music = otio.schema.Track(name="Music", kind=otio.schema.TrackKind.Audio)
        ref = otio.schema.ExternalReference(target_url=Path(ctx.music).resolve().as_uri())
        music.append(otio.schema.Clip(name="music", media_reference=ref, source_range=rng(rt(0, fps), rt(tl.total_frames, fps))))
        timeline.tracks.append(music)
    for cue in cues:
        start = round(cue.start_s * fps)
        marker = otio.schema.Marker(name=cue.text, marked_range=rng(rt(start, fps), rt(max(1, round(cue.end_s * fps) - start), fps)),
                                    color=otio.schema.MarkerColor.YELLOW)
        marker.comment = cue.text
        timeline.tracks.markers.append(marker)
    return timeline
