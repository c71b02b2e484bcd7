"""``status``: every node of a project with its computed state — MISSING, STALE (with typed causes) or
FRESH — and nothing run. The plan node is evaluated like every other: its recipe is rebuilt from the
request its last run recorded, the input file as it is now (when it still exists) and today's planner."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.plan import plan_params, planner_identity
from storyreel.api.project import context, load_project, open_store, settings_for
from storyreel.api.requests import ProjectRequest
from storyreel.core.errors import InputError
from storyreel.core.settings import Settings
from storyreel.core.source import read_source
from storyreel.engine.executor import Executor
from storyreel.engine.staleness import NodeStatus
from storyreel.stages.pipeline import MEDIA_STAGES
from storyreel.stages.plan import PlanCtx, PlanStage
from storyreel.store.files import ProjectPaths
from storyreel.store.records import RunStore


def status(request: ProjectRequest | None = None, **fields: object) -> list[NodeStatus]:
    """Every node of the project in stage order with its state and causes. Raises :class:`InputError`
    if the project does not exist."""
    request = request or ProjectRequest.build(**fields)
    settings = settings_for(request.workspace)
    board = load_project(request.project, settings)
    paths = ProjectPaths(settings.workspace, request.project)
    store = open_store(settings)
    executor = Executor(store, request.project, paths.root)
    statuses = list(executor.evaluate([PlanStage()], _plan_ctx(request.project, paths, store, settings, board.source.kind), execute=False).statuses.values())
    report = executor.evaluate(MEDIA_STAGES, context(board, settings, store), execute=False)
    return statuses + list(report.statuses.values())


def _plan_ctx(project_id: str, paths: ProjectPaths, store: RunStore, settings: Settings, kind: str) -> PlanCtx:
    """The plan node's context as a make would build it now, from what its last run recorded."""
    last = store.latest_success(project_id).get(("plan", "project"))
    details = (last.details or {}) if last else {}
    params = dict(details.get("request") or {})
    origin = details.get("origin")
    if origin and params:
        try:
            source = read_source(Path(origin), kind=params.get("kind"))
        except InputError:
            source = None  # the input moved or no longer reads: judged on the recorded request
        if source is not None:
            params = {**plan_params(source, project_id, params.get("language"), params.get("aspect_ratio"), settings)}
    elif params:
        params["wpm"] = settings.speech_rate_wpm

    def never() -> None:
        raise RuntimeError("status never plans")

    return PlanCtx(never, params, paths, planner_identity(kind, settings), origin=origin)  # type: ignore[arg-type]
