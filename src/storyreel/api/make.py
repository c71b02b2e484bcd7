"""``make``: the main job — input → storyboard → image prompts, images, narration, clips, crossfade
segments → ``video.mp4`` + QC. Only nodes that are not fresh run; a fully fresh result is stamped so the
same request repeated answers from file stats (:mod:`storyreel.engine.uptodate`)."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from storyreel.api.plan import plan
from storyreel.api.project import check_choices, context, open_store, preflight, settings_for
from storyreel.api.requests import MakeRequest, PlanRequest
from storyreel.api.results import RunResult
from storyreel.core.errors import CostLimitReached
from storyreel.core.settings import Settings
from storyreel.engine import uptodate
from storyreel.engine.executor import Executor, ProgressFn
from storyreel.media.ffmpeg import ffmpeg_exe
from storyreel.stages.context import ProjectContext
from storyreel.stages.manifest import write_manifest
from storyreel.stages.pipeline import MEDIA_STAGES
from storyreel.store.files import ProjectPaths
from storyreel.store.options import update_options
from storyreel.store.records import RunStore


def make(request: MakeRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """Make the video of ``request`` (or of a :class:`MakeRequest` built from ``fields``).

    Raises :class:`~storyreel.core.errors.InputError` (exit 2) for bad input, :class:`~storyreel.core.errors.StageError`
    (exit 1) when nodes fail and :class:`CostLimitReached` at the cost cap; finished nodes stay cached
    for the next run either way.
    """
    t0 = time.perf_counter()
    request = request or MakeRequest.build(**fields)
    settings = settings_for(request.workspace)
    stamp_key = request.stamp_identity()
    uptodate.forget(settings.workspace, stamp_key)
    check_choices(settings, image_provider=request.image_provider, llm=request.llm)  # before any work
    with ExitStack() as hold:  # the project's lock, taken by plan() once the project is known, kept to the end
        # 1. the storyboard (planned, imported, or kept when fresh)
        board, plan_exec = plan(PlanRequest.build(**request.model_dump(include=set(PlanRequest.model_fields))), progress=progress, hold=hold, verb="make")
        return _media(request, board, plan_exec.invocation, settings, stamp_key, progress, t0)


def _media(request: MakeRequest, board, invocation: str, settings: Settings, stamp_key: dict,  # noqa: ANN001
           progress: ProgressFn | None, t0: float) -> RunResult:
    """Steps 2–4 of :func:`make` (the caller holds the project's lock)."""
    # 2. the project's stored choices, then the media stages
    update_options(ProjectPaths(settings.workspace, board.project_id), image_provider=request.image_provider, llm=request.llm, max_cost_usd=request.max_cost,
                   candidates=request.candidates, judge=request.judge, enhance=request.enhance)
    store = open_store(settings)
    ctx = context(board, settings, store)
    preflight(ctx)
    executor = Executor(store, board.project_id, ctx.paths.root, progress)
    executor.invocation = invocation
    try:
        report = executor.evaluate(MEDIA_STAGES, ctx, execute=True, force=request.force)
    except CostLimitReached:
        store.upsert_project(board.project_id, status="cost_limit")
        write_manifest(ctx)
        raise
    except Exception:
        store.upsert_project(board.project_id, status="failed")
        raise
    # 3. the project's status and the result
    attention = {s.node.name: s.attention for s in report.statuses.values() if s.attention}
    status_word = "partial" if attention else "done"
    store.upsert_project(board.project_id, status=status_word, video_path=str(ctx.paths.video))
    result = RunResult(
        project_id=board.project_id, status=status_word, attention=attention, storyboard_path=ctx.paths.storyboard,
        video_path=ctx.paths.video, executed=[f"{r.stage}[{r.unit}]" for r in store.for_invocation(executor.invocation) if r.status == "success"],
        invocation=report.invocation, duration_s=time.perf_counter() - t0,
    )
    # 4. a fully fresh result is stamped: the same request repeated answers from file stats
    if not attention:
        _stamp(stamp_key, request.input_path, ctx, store, result)
    return result


def _stamp(key: dict, input_path: Path | None, ctx: ProjectContext, store: RunStore, result: RunResult) -> None:
    """Record what this fully fresh make depended on (:mod:`storyreel.engine.uptodate`)."""
    paths, workspace = ctx.paths, ctx.settings.workspace
    files = [input_path.resolve()] if input_path else []
    files += [paths.root / rel for run in store.latest_success(ctx.storyboard.project_id).values() for rel in run.outputs]
    files += [paths.storyboard, Path(ffmpeg_exe())] + ([ctx.music] if ctx.music else [])
    prompts = workspace / "prompts"
    watch = [paths.options, workspace / "encoder.json", prompts]
    watch += sorted(prompts.glob("*.md")) if prompts.is_dir() else []
    done = {**result.as_dict(), "executed_nodes": [], "executed_count": 0, "duration_s": 0.0, "invocation": ""}
    uptodate.write(workspace, key, files, watch, Settings.env_names(), done)
