"""``render``: re-render ``video.mp4`` from the project's existing images and narration — clips,
crossfade segments, the soundtrack, the assembly and QC — with the preset, CRF and music bed kept in the
project's ``options.json``. Render never makes images or narration: it refuses to start while any of them
is missing or stale."""

from __future__ import annotations

from collections.abc import Callable

from storyreel.api.requests import RenderRequest
from storyreel.api.results import RunResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core.errors import InputError
from storyreel.engine.executor import Executor
from storyreel.engine.graph import Node
from storyreel.engine.staleness import State
from storyreel.stages.context import ProjectContext
from storyreel.stages.pipeline import RENDER_STAGES, SOURCE_STAGES


class Render(Verb[RenderRequest, RunResult]):
    """``storyreel render``: the render stages only; ``force`` re-encodes every segment."""

    name = "render"
    preflight = False  # calls no provider

    def prepare(self, project: Project, request: RenderRequest, executor: Executor) -> None:
        """The sources must be fresh (judged under the lock: a make writing them makes this render wait).
        Raises :class:`InputError` (run ``make`` first) naming the missing ones."""
        ready = project.evaluate(SOURCE_STAGES, project.context(), execute=False, executor=executor)
        missing = [s.node.name for s in ready.statuses.values() if s.state != State.FRESH]
        if missing:
            raise InputError(
                f"{len(missing)} source node(s) are missing or stale: {', '.join(missing[:6])}",
                field="PROJECT", hint=f"run `storyreel make` for {project.id} first (render reuses images and narration)",
            )

    def options(self, request: RenderRequest) -> dict:
        return {"preset": request.preset, "crf": request.crf, "music": request.music, "no_music": request.no_music}

    def only(self, request: RenderRequest, ctx: ProjectContext) -> Callable[[Node], bool]:
        return lambda node: node.stage in RENDER_STAGES
