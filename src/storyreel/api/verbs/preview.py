"""``preview``: the project's current version at the preview profile (issue 28 item 5; :mod:`storyreel.stages.preview`)
— 540p, x264 ultrafast, written under ``preview/`` — so an edit can be watched in seconds. Images, narration and the
soundtrack are the project's own nodes (made when missing, as ``make`` would); the delivered ``video.mp4`` and the
project's status are left as they are: the delivery render stays ``make``/``render``/the dashboard's Export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storyreel.api.requests import PreviewRequest
from storyreel.api.results import RunResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core.errors import InputError
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.graph import Stage
from storyreel.stages.context import ProjectContext
from storyreel.store.files import PreviewPaths
from storyreel.store.history import History


class Preview(Verb[PreviewRequest, RunResult]):
    """``storyreel preview PROJECT``: the result's ``video_path`` is ``preview/video.mp4``. Raises :class:`InputError`
    for a project with no storyboard yet."""

    name = "preview"

    def check(self, project: Project, request: PreviewRequest) -> None:
        if not project.paths.storyboard.exists():
            raise InputError(f"{project.id} has no storyboard yet", field="PROJECT", hint="make the video first")

    def stages(self, request: PreviewRequest, ctx: ProjectContext) -> Sequence[Stage[Any]]:
        from storyreel.stages.preview import preview_stages

        return preview_stages(ctx)

    def settles(self, request: PreviewRequest) -> bool:
        return False

    def result(self, project: Project, ctx: ProjectContext, report, status: ProjectStatus, request: PreviewRequest,  # noqa: ANN001
               started: float) -> RunResult:
        result = RunResult.of(project, report, status, started)
        preview = PreviewPaths(project.paths).video
        History(project.paths).previewed(preview)
        return result.model_copy(update={"video_path": preview})
