"""``status``: every node of a project with its computed state — MISSING, STALE (with typed causes) or
FRESH — and nothing run. The plan node is evaluated like every other: its recipe is rebuilt from the
request its last run recorded, the input file as it is now (when it still exists) and today's planner."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.requests import ProjectRequest
from storyreel.api.session import Project, Workspace
from storyreel.api.verbs.plan import plan_params, planner_identity
from storyreel.core.errors import InputError
from storyreel.core.source import read_source
from storyreel.engine.staleness import NodeStatus
from storyreel.stages.pipeline import MEDIA_STAGES
from storyreel.providers.story.llm_story import writer as story_writer
from storyreel.stages.plan import PlanCtx, PlanStage
from storyreel.stages.story import STORY_STAGES, StoryCtx


def status(request: ProjectRequest | None = None, **fields: object) -> list[NodeStatus]:
    """Every node of the project in stage order with its state and causes. Raises :class:`InputError`
    if the project does not exist."""
    request = request or ProjectRequest.build(**fields)
    return project_status(Workspace.open(request.workspace).existing(request.project))


def project_status(project: Project) -> list[NodeStatus]:
    """:func:`status` of an opened project."""
    board = project.storyboard()
    executor = project.executor()
    if board.source.kind == "story":  # every story step, the storyboard's assembly last (issue 27)
        plan = executor.evaluate(list(STORY_STAGES), StoryCtx.load(project.paths, story_writer(project.ws.settings), scene_options=project.ws.settings.story_scene_options), execute=False)
    else:
        plan = executor.evaluate([PlanStage()], _plan_ctx(project, board.source.kind), execute=False)
    report = project.evaluate(MEDIA_STAGES, project.context(board=board), execute=False, executor=executor)
    return list(plan.statuses.values()) + list(report.statuses.values())


def _plan_ctx(project: Project, kind: str) -> PlanCtx:
    """The plan node's context as a make would build it now, from what its last run recorded."""
    settings = project.ws.settings
    last = project.store.latest_success(project.id).get(("plan", "project"))
    details = (last.details or {}) if last else {}
    params = dict(details.get("request") or {})
    origin = details.get("origin")
    if origin and params:
        try:
            source = read_source(Path(origin), kind=params.get("kind"))
        except InputError:
            source = None  # the input moved or no longer reads: judged on the recorded request
        if source is not None:
            params = {**plan_params(source, project.id, params.get("language"), params.get("aspect_ratio"), settings)}
    elif params:
        params["wpm"] = settings.speech_rate_wpm

    def never() -> None:
        raise RuntimeError("status never plans")

    return PlanCtx(never, params, project.paths, planner_identity(kind, settings), origin=origin)  # type: ignore[arg-type]
