"""``render``: re-render ``video.mp4`` from the project's existing images and narration — clips,
crossfade segments, the concat + audio pass, and QC — with the preset, CRF and music bed kept in the
project's ``options.json``."""

from __future__ import annotations

import time

from storyreel.api.project import context, load_project, open_store, settings_for, writing
from storyreel.api.requests import RenderRequest
from storyreel.api.results import RunResult
from storyreel.core.errors import InputError
from storyreel.engine.executor import Executor, ProgressFn
from storyreel.engine.staleness import State
from storyreel.stages.pipeline import MEDIA_STAGES, RENDER_STAGES, SOURCE_STAGES
from storyreel.store.files import ProjectPaths
from storyreel.store.options import update_options


def render(request: RenderRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """Re-render the project of ``request`` (or of a :class:`RenderRequest` built from ``fields``);
    ``force`` re-encodes every segment.

    Raises :class:`InputError` (exit 2) for an unknown project, a bad option, or when images or narration
    are missing or stale (run ``make`` first); :class:`~storyreel.core.errors.StageError` (exit 1) when a
    node or a QC check fails.
    """
    t0 = time.perf_counter()
    request = request or RenderRequest.build(**fields)
    settings = settings_for(request.workspace)
    board = load_project(request.project, settings)
    paths = ProjectPaths(settings.workspace, request.project)
    with writing(paths, settings, wait=request.wait, verb="render"):
        return _render_locked(request, board, paths, settings, progress, t0)


def _render_locked(request: RenderRequest, board, paths: ProjectPaths, settings, progress: ProgressFn | None,  # noqa: ANN001
                   t0: float) -> RunResult:
    store = open_store(settings)
    executor = Executor(store, request.project, paths.root, progress)
    # 1. the sources must be fresh: render never makes images or narration
    ready = executor.evaluate(SOURCE_STAGES, context(board, settings, store), execute=False)
    missing = [s.node.name for s in ready.statuses.values() if s.state != State.FRESH]
    if missing:
        raise InputError(
            f"{len(missing)} source node(s) are missing or stale: {', '.join(missing[:6])}",
            field="PROJECT", hint=f"run `storyreel make` for {request.project} first (render reuses images and narration)",
        )
    # 2. store the options, then run the render stages only
    update_options(paths, preset=request.preset, crf=request.crf, music=request.music, no_music=request.no_music)
    ctx = context(board, settings, store)
    report = executor.evaluate(MEDIA_STAGES, ctx, execute=True, force=request.force, only=lambda n: n.stage in RENDER_STAGES)
    store.upsert_project(request.project, status="done", video_path=str(paths.video))
    return RunResult(
        project_id=request.project, status="done", storyboard_path=paths.storyboard, video_path=paths.video,
        executed=[n.name for n in report.executed], invocation=report.invocation, duration_s=time.perf_counter() - t0,
    )
