"""``qc``: media QC of a video file, or of a project's ``video.mp4`` against the project's own spec
(timeline duration, fades, subtitle cues)."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.requests import QcRequest
from storyreel.api.session import Workspace
from storyreel.core.errors import InputError
from storyreel.core.vocabulary import check_id
from storyreel.media.qc import QcReport, run_qc
from storyreel.stages.qc import project_spec


def qc(request: QcRequest | None = None, **fields: object) -> QcReport:
    """The QC report. Raises :class:`InputError` when the target is neither an existing file nor a
    project, or the project has no video yet."""
    request = request or QcRequest.build(**fields)
    path = Path(request.target)
    if path.is_file():
        return run_qc(path)
    check_id(request.target, "TARGET")  # not a file: it must be a project ID
    project = Workspace.open(request.workspace).existing(request.target)
    if not project.paths.video.exists():
        raise InputError(f"project {request.target!r} has no video.mp4 yet", field="PROJECT", hint="run `storyreel make` first")
    return run_qc(project.paths.video, project_spec(project.context()))
