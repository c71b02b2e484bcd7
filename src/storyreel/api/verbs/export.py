"""``export``: a made project's timeline for other editors (issue 28 item 6) — OpenTimelineIO as ``.otio`` (JSON, media
by absolute URL) or ``.otioz`` (a zip with the media inside), from :func:`storyreel.media.otio.build_timeline`.
Read-only: the project is not changed."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.session import Project
from storyreel.core.errors import InputError


def export(project: Project, fmt: str, output: Path | None) -> Path:
    """Write the project's timeline as ``fmt`` (``otio`` | ``otioz``) to ``output`` (default: ``storyreel_<project>.<fmt>``
    in the project folder) and return the path. Raises :class:`InputError` for a project without a made video
    (``PROJECT``), an unknown format (``--format``) or an output that cannot be written (``--output``)."""
    import opentimelineio as otio

    from storyreel.stages.render import RenderStage

    if fmt not in ("otio", "otioz"):
        raise InputError(f"{fmt!r} is not an export format", field="--format", hint="use otio or otioz")
    if not project.paths.video.is_file():
        raise InputError(f"{project.id} has no video yet", field="PROJECT", hint="make the video first")
    out = output or project.paths.root / f"storyreel_{project.id}.{fmt}"
    if out.suffix != f".{fmt}":
        raise InputError(f"{out.name}: an {fmt} export is written to a .{fmt} file", field="--output", hint=f"name the file *.{fmt}")
    if not out.parent.is_dir():
        raise InputError(f"no folder {out.parent}", field="--output", hint="give a path in an existing folder")
    ctx = project.context()
    from storyreel.media.otio import build_timeline

    timeline = build_timeline(ctx, RenderStage().cues(ctx))
    tmp = out.with_name(f".{out.name}.part{out.suffix}")
    otio.adapters.write_to_file(timeline, str(tmp))
    tmp.replace(out)
    return out
