"""``plan``: validate the input, plan it (rule-based, an LLM, or the chapter-JSON importer) and write
``storyboard.json`` — unless the plan node is fresh, in which case the existing, possibly user-edited,
storyboard is kept and no planner is called."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from pydantic import ValidationError

from storyreel.api.project import open_store, project_settings, settings_for, writing
from storyreel.api.requests import PlanRequest
from storyreel.core.artifact import Storyboard, format_validation_error, load_storyboard, slugify_id
from storyreel.core.chapters_json import chapters_to_storyboard, parse_chapter_document
from storyreel.core.errors import InputError
from storyreel.core.settings import Settings
from storyreel.core.source import Source, read_source
from storyreel.engine.executor import Executor, ProgressFn
from storyreel.providers.base import PlannerRequest
from storyreel.providers.registry import resolve
from storyreel.stages.plan import PlanCtx, PlanStage
from storyreel.store.files import ProjectPaths
from storyreel.store.ledger import CostLedger, hold

IMPORTER = f"import:chapters@{PlanStage.code_version}"


def plan(request: PlanRequest | None = None, *, progress: ProgressFn | None = None, hold: ExitStack | None = None,
         verb: str = "plan", **fields: object) -> tuple[Storyboard, Executor]:
    """Plan ``request`` (or a :class:`PlanRequest` built from ``fields``) into ``storyboard.json``, under
    the project's lock (kept open in ``hold`` when given, so a ``make`` keeps the project to itself).

    Returns the storyboard and the executor that evaluated the plan node (its invocation ID is shared by
    the ``make`` that follows). Raises :class:`~storyreel.store.locks.ProjectBusy` when another process
    writes the project and ``request.wait`` is False. Raises :class:`InputError` (exit 2) before writing anything when the
    input is bad; :class:`~storyreel.core.errors.CostLimitReached` when a paid planner would exceed the cap.
    """
    request = request or PlanRequest.build(**fields)
    settings = settings_for(request.workspace)
    source = read_source(request.input_path, prompt=request.prompt, kind=request.kind)
    params = plan_params(source, request.project_id, request.language, request.aspect_ratio, settings)
    usage: dict = {}
    if source.kind == "chapters":
        board = _valid(lambda: _imported(source, request), source)
        pid, provider, make_board, title = board.project_id, IMPORTER, None, board.settings.title
    else:
        planner = resolve("planner", settings.planner, settings)
        provider = f"{planner.provider_id}@{planner.code_version}"
        planning = PlannerRequest(
            kind=source.kind, text=source.text, name=source.name, sha256=source.sha256, project_id=request.project_id,
            language=request.language, aspect_ratio=request.aspect_ratio, words_per_minute=settings.speech_rate_wpm,
        )
        if not planner.paid:  # free and instant: plan now, the title names the project
            board = _valid(lambda: planner.plan(planning), source)
            pid, make_board, title = board.project_id, None, board.settings.title
        else:  # paid: name the project from the input, call the model only if the plan node must run
            pid = request.project_id or slugify_id(Path(source.name).stem if source.kind == "script" else f"prompt-{source.sha256[7:13]}")
            board, title = None, pid

            def make_board() -> Storyboard:
                return _valid(lambda: _paid_plan(planner, planning.model_copy(update={"project_id": pid}), settings, usage), source)
    pid = _unique_id(pid, source, settings, explicit=request.project_id is not None)
    if board is not None and board.project_id != pid:
        board = board.model_copy(update={"project_id": pid})
    paths = ProjectPaths(settings.workspace, pid, field="--project-id")
    params["project_id"] = pid
    origin = str(request.input_path.resolve()) if request.input_path else None
    ctx = PlanCtx(make_board or (lambda: board), params, paths, provider, usage, origin)
    lock = writing(paths, settings, wait=request.wait, verb=verb)
    if hold is not None:
        hold.enter_context(lock)
        return _plan_locked(ctx, request, source, title, settings, progress)
    with lock:
        return _plan_locked(ctx, request, source, title, settings, progress)


def _plan_locked(ctx: PlanCtx, request: PlanRequest, source: Source, title: str, settings: Settings,
                 progress: ProgressFn | None) -> tuple[Storyboard, Executor]:
    """Record the project and evaluate the plan node (the caller holds the project's lock)."""
    pid = ctx.paths.project_id
    store = open_store(settings)
    store.upsert_project(pid, title=title, input_kind=source.kind, input_name=source.name)
    executor = Executor(store, pid, ctx.paths.root, progress)
    executor.evaluate([PlanStage()], ctx, execute=True, force=request.force)
    planned = load_storyboard(ctx.paths.storyboard)
    if planned.settings.title != title:
        store.upsert_project(pid, title=planned.settings.title)
    return planned, executor


def plan_params(source: Source, project_id: str | None, language: str | None, aspect_ratio: str | None, settings: Settings) -> dict:
    """The plan node's parameters: the input's hash and kind and every override that changes the plan."""
    return {"source": source.sha256, "kind": source.kind, "project_id": project_id, "language": language,
            "aspect_ratio": aspect_ratio, "wpm": settings.speech_rate_wpm}


def planner_identity(kind: str, settings: Settings) -> str:
    """The plan node's provider string for an input ``kind`` under ``settings`` (without calling anything)."""
    if kind == "chapters":
        return IMPORTER
    planner = resolve("planner", settings.planner, settings)
    return f"{planner.provider_id}@{planner.code_version}"


def _paid_plan(planner, planning: PlannerRequest, settings: Settings, usage: dict) -> Storyboard:  # noqa: ANN001
    """Reserve the call's estimate in the project's ledger, plan, commit the actual cost (release on failure)."""
    ledger = CostLedger(open_store(settings).sessions, planning.project_id, project_settings(settings, planning.project_id).max_cost_usd)
    with hold(ledger, "plan[project]", planner.provider_id, lambda: planner.estimate(planning), paid=True) as held:
        planned = planner.plan(planning)
        usage.update(planner.last_usage or {})
        held.commit(usage.get("cost_usd", 0.0))
    return planned


def _valid(build: Callable[[], Storyboard], source: Source) -> Storyboard:
    """``build()``, with a storyboard the input cannot make (a field over its limit) reported as bad
    input naming the fields, never as a traceback."""
    try:
        return build()
    except ValidationError as exc:
        raise InputError("the input cannot be made into a valid storyboard:\n" + format_validation_error(exc), field=source.name,
                         hint="shorten the text named above (see the limits in `storyreel schema`)") from None


def _imported(source: Source, request: PlanRequest) -> Storyboard:
    """Chapter JSON → storyboard (no planner involved)."""
    from storyreel.core.artifact import SourceInfo

    doc = parse_chapter_document(source.data or {}, source.name)
    info = SourceInfo(kind="chapters", name=source.name, sha256=source.sha256)
    board = chapters_to_storyboard(doc, info, request.project_id)
    updates = {k: v for k, v in {"language": request.language, "aspect_ratio": request.aspect_ratio}.items() if v}
    if updates:
        board = board.model_copy(update={"settings": board.settings.model_copy(update=updates)})
    return Storyboard.model_validate_json(board.model_dump_json())


def _unique_id(candidate: str, source: Source, settings: Settings, explicit: bool) -> str:
    """Keep ``candidate`` unless another input already owns that project folder (then add a hash suffix)."""
    if explicit:
        return candidate
    paths = ProjectPaths(settings.workspace, candidate)
    if paths.storyboard.exists():
        try:
            existing = load_storyboard(paths.storyboard)
        except InputError:
            return candidate
        if existing.source.name != source.name:
            return f"{candidate[:57]}-{source.sha256.split(':')[1][:6]}"
    return candidate
