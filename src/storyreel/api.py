"""The facade: ``make``, ``plan``, ``status``, ``list_projects`` — the CLI and the web call only this."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from storyreel.core.artifact import AspectRatio, InputKind, Storyboard, load_storyboard, slugify_id
from storyreel.core.chapters_json import chapters_to_storyboard, parse_chapter_document
from storyreel.core.errors import CostLimitReached, InputError
from storyreel.core.settings import Settings
from storyreel.core.source import Source, read_source
from storyreel.engine import uptodate
from storyreel.engine.executor import Executor, ProgressFn
from storyreel.engine.graph import Node
from storyreel.engine.staleness import NodeStatus, State
from storyreel.media.qc import QcReport, run_qc
from storyreel.media.ffmpeg import Encoding, choose_encoder, default_threads, ffmpeg_exe
from storyreel.providers.base import PlanRequest
from storyreel.providers.registry import resolve
from storyreel.stages.clip import ClipStage, SegmentStage
from storyreel.stages.context import ProjectContext
from storyreel.stages.image import ImageStage
from storyreel.stages.image_prompt import ImagePromptStage
from storyreel.stages.manifest import ManifestStage, write_manifest
from storyreel.store.assets import AssetStore
from storyreel.store.ledger import CostLedger, CostSummary
from storyreel.stages.plan import PlanCtx, PlanStage
from storyreel.stages.narration import NarrationStage
from storyreel.stages.options import ProjectOptions, update_options
from storyreel.stages.qc import QcStage, project_spec
from storyreel.stages.render import RenderStage
from storyreel.store.db import session_factory, sqlite_url
from storyreel.store.files import ProjectPaths
from storyreel.store.records import RunStore

MEDIA_STAGES = (ImagePromptStage(), ImageStage(), ManifestStage(), NarrationStage(), ClipStage(), SegmentStage(), RenderStage(), QcStage())


@dataclass
class MakeResult:
    project_id: str
    status: str
    storyboard_path: Path
    video_path: Path | None
    executed: list[str] = field(default_factory=list)
    invocation: str = ""
    duration_s: float = 0.0
    attention: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "project_id": self.project_id,
            "status": self.status,
            "storyboard_path": str(self.storyboard_path),
            "video_path": str(self.video_path) if self.video_path else None,
            "executed_nodes": self.executed,
            "executed_count": len(self.executed),
            "invocation": self.invocation,
            "duration_s": round(self.duration_s, 3),
            "attention": self.attention,
        }


def _settings(workspace: Path | None, **overrides: object) -> Settings:
    """Process settings with explicit overrides (CLI flags) on top; None values are ignored."""
    given = {k: v for k, v in {"workspace": workspace, **overrides}.items() if v is not None}
    return Settings(**given)


def _store(settings: Settings) -> RunStore:
    settings.workspace.mkdir(parents=True, exist_ok=True)
    return RunStore(session_factory(settings.database_url or sqlite_url(settings.workspace)))


def _imported(source: Source, project_id: str | None, language: str | None, aspect: AspectRatio | None) -> Storyboard:
    """Chapter JSON → storyboard (no planner involved)."""
    from storyreel.core.artifact import SourceInfo

    doc = parse_chapter_document(source.data or {}, source.name)
    info = SourceInfo(kind="chapters", name=source.name, sha256=source.sha256)
    board = chapters_to_storyboard(doc, info, project_id)
    updates = {k: v for k, v in {"language": language, "aspect_ratio": aspect}.items() if v}
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


def plan(
    input_path: Path | None = None,
    *,
    prompt: str | None = None,
    kind: InputKind | None = None,
    workspace: Path | None = None,
    project_id: str | None = None,
    language: str | None = None,
    aspect_ratio: AspectRatio | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[Storyboard, Executor]:
    """Validate the input, plan it and write ``storyboard.json`` (unless the plan is fresh, in which case
    the existing — possibly user-edited — storyboard is kept and no planner is called). Raises
    :class:`InputError` before writing anything when the input is bad."""
    settings = _settings(workspace)
    source = read_source(input_path, prompt=prompt, kind=kind)
    explicit = project_id is not None
    request = PlanRequest(
        kind=source.kind, text=source.text, name=source.name, sha256=source.sha256, project_id=project_id,
        language=language, aspect_ratio=aspect_ratio, words_per_minute=settings.speech_rate_wpm,
    )
    usage: dict = {}
    if source.kind == "chapters":
        board = _imported(source, project_id, language, aspect_ratio)
        pid, provider, make_board, title = board.project_id, "import:chapters@" + PlanStage.code_version, None, board.settings.title
    else:
        planner = resolve("planner", settings.planner, settings)
        provider = f"{planner.provider_id}@{planner.code_version}"
        if planner.provider_id.startswith("local:"):  # free and instant: plan now, the title names the project
            board = planner.plan(request)
            pid, make_board, title = board.project_id, None, board.settings.title
        else:  # paid: name the project from the input, call the model only if the plan node must run
            pid = project_id or slugify_id(Path(source.name).stem if source.kind == "script" else f"prompt-{source.sha256[7:13]}")
            board, title = None, pid

            def make_board() -> Storyboard:
                """Reserve the call's estimate in the project's ledger, plan, commit the actual cost."""
                ledger = CostLedger(store.sessions, pid, _project_settings(settings, pid).max_cost_usd)
                held = ledger.reserve("plan[project]", planner.provider_id, planner.estimate(request))
                try:
                    planned = planner.plan(request.model_copy(update={"project_id": pid}))
                except Exception:
                    ledger.release(held)
                    raise
                usage.update(getattr(planner, "last_usage", {}) or {})
                ledger.commit(held, usage.get("cost_usd", 0.0))
                return planned
    pid = _unique_id(pid, source, settings, explicit)
    if board is not None and board.project_id != pid:
        board = board.model_copy(update={"project_id": pid})
    store = _store(settings)
    paths = ProjectPaths(settings.workspace, pid)
    paths.root.mkdir(parents=True, exist_ok=True)
    store.upsert_project(pid, title=title, input_kind=source.kind, input_name=source.name)
    params = {"source": source.sha256, "kind": source.kind, "project_id": pid, "language": language,
              "aspect_ratio": aspect_ratio, "wpm": settings.speech_rate_wpm}
    ctx = PlanCtx(make_board or (lambda: board), source, params, paths, provider, usage)
    executor = Executor(store, pid, paths.root, progress)
    executor.evaluate([PlanStage()], ctx, execute=True, force=force)
    planned = load_storyboard(paths.storyboard)
    if planned.settings.title != title:
        store.upsert_project(pid, title=planned.settings.title)
    return planned, executor


def _check_provider_flags(image_provider: str | None, llm: str | None) -> None:
    """Reject unknown ``--image-provider``/``--llm`` before anything is written (InputError, exit 2)."""
    for modality, value, flag in (("image", image_provider, "--image-provider"), ("llm", llm, "--llm")):
        if value is not None:
            try:
                resolve(modality, value)
            except InputError as exc:
                raise InputError(str(exc).split("\n")[0], field=flag, hint="use VENDOR:MODEL, e.g. openai:gpt-image-2") from None


def _project_settings(settings: Settings, project_id: str) -> Settings:
    """Process settings with the project's stored choices (``options.json``) on top."""
    overrides = ProjectOptions.load(ProjectPaths(settings.workspace, project_id)).settings_overrides()
    return settings.model_copy(update=overrides) if overrides else settings


def _context(board: Storyboard, settings: Settings) -> ProjectContext:
    paths = ProjectPaths(settings.workspace, board.project_id)
    settings = _project_settings(settings, board.project_id)
    options = ProjectOptions.load(paths)
    try:
        codec = choose_encoder(settings.video_encoder, settings.workspace)
    except ValueError as exc:
        raise InputError(str(exc), field="STORYREEL_VIDEO_ENCODER") from exc
    return ProjectContext(
        storyboard=board,
        paths=paths,
        settings=settings,
        image_provider=resolve("image", settings.image_provider, settings),
        template_provider=resolve("image", "local:cards", settings),
        tts_provider=resolve("tts", settings.tts_provider, settings),
        encoding=Encoding(
            preset=options.preset or settings.x264_preset, crf=settings.crf if options.crf is None else options.crf,
            threads=default_threads(settings.workers), codec=codec,
        ),
        music=options.music_path(paths),
        ledger=CostLedger(_store(settings).sessions, board.project_id, settings.max_cost_usd),
        llm=resolve("llm", settings.llm, settings),
        assets=AssetStore(_store(settings).sessions),
    )


def _load_project(project_id: str, settings: Settings) -> Storyboard:
    paths = ProjectPaths(settings.workspace, project_id)
    if not paths.storyboard.exists():
        raise InputError(f"no project {project_id!r} in {settings.workspace}", field="PROJECT", hint="see `storyreel list`")
    return load_storyboard(paths.storyboard)


def make(
    input_path: Path | None = None,
    *,
    prompt: str | None = None,
    kind: InputKind | None = None,
    workspace: Path | None = None,
    project_id: str | None = None,
    language: str | None = None,
    aspect_ratio: AspectRatio | None = None,
    force: bool = False,
    image_provider: str | None = None,
    llm: str | None = None,
    max_cost: float | None = None,
    progress: ProgressFn | None = None,
) -> MakeResult:
    """The main job: input → storyboard → images, narration, clips, segments → ``video.mp4``.

    Only nodes that are not fresh run (``force`` re-runs all). Raises :class:`InputError` (exit 2) for bad
    input and :class:`StageError` (exit 1) when nodes fail; finished nodes stay cached for the next run.
    """
    t0 = time.perf_counter()
    settings = _settings(workspace)
    _check_provider_flags(image_provider, llm)
    request = uptodate.make_request(
        input_path, workspace, prompt=prompt, kind=kind, project_id=project_id, language=language,
        aspect_ratio=aspect_ratio, image_provider=image_provider, llm=llm, max_cost=max_cost,
    )
    uptodate.forget(settings.workspace, request)
    board, plan_exec = plan(
        input_path, prompt=prompt, kind=kind, workspace=settings.workspace, project_id=project_id,
        language=language, aspect_ratio=aspect_ratio, force=force, progress=progress,
    )
    update_options(ProjectPaths(settings.workspace, board.project_id), image_provider=image_provider, llm=llm, max_cost_usd=max_cost)
    ctx = _context(board, settings)
    store = _store(settings)
    executor = Executor(store, board.project_id, ctx.paths.root, progress)
    executor.invocation = plan_exec.invocation
    try:
        report = executor.evaluate(MEDIA_STAGES, ctx, execute=True, force=force)
    except CostLimitReached:
        store.upsert_project(board.project_id, status="cost_limit")
        write_manifest(ctx)
        raise
    except Exception:
        store.upsert_project(board.project_id, status="failed")
        raise
    executed = [n.name for n in store_invocation_nodes(store, executor.invocation)]
    attention = {s.node.name: s.attention for s in report.statuses.values() if s.attention}
    status_word = "partial" if attention else "done"
    store.upsert_project(board.project_id, status=status_word, video_path=str(ctx.paths.video))
    result = MakeResult(
        project_id=board.project_id,
        status=status_word,
        attention=attention,
        storyboard_path=ctx.paths.storyboard,
        video_path=ctx.paths.video,
        executed=executed,
        invocation=report.invocation,
        duration_s=time.perf_counter() - t0,
    )
    if not attention:
        _stamp(request, input_path, ctx, store, result)
    return result


def _stamp(request: dict, input_path: Path | None, ctx: ProjectContext, store: RunStore, result: MakeResult) -> None:
    """Record what this fully fresh make depended on, so repeating it with nothing changed is answered
    from the stamp (:mod:`storyreel.engine.uptodate`)."""
    paths, workspace = ctx.paths, ctx.settings.workspace
    files = [input_path.resolve()] if input_path else []
    files += [paths.root / rel for run in store.latest_success(ctx.storyboard.project_id).values() for rel in run.outputs]
    files += [paths.storyboard, Path(ffmpeg_exe())] + ([ctx.music] if ctx.music else [])
    prompts = workspace / "prompts"
    watch = [paths.root / "options.json", workspace / "encoder.json", prompts]
    watch += sorted(prompts.glob("*.md")) if prompts.is_dir() else []
    done = {**result.as_dict(), "executed_nodes": [], "executed_count": 0, "duration_s": 0.0, "invocation": ""}
    uptodate.write(workspace, request, files, watch, Settings.env_names(), done)


def store_invocation_nodes(store: RunStore, invocation: str) -> list[Node]:
    return [Node(r.stage, r.unit) for r in store.for_invocation(invocation) if r.status == "success"]


def status(project_id: str, *, workspace: Path | None = None) -> list[NodeStatus]:
    """Every node of a project with its computed state (MISSING | STALE | FRESH) and causes; runs nothing.
    Raises :class:`InputError` if the project does not exist."""
    settings = _settings(workspace)
    board = _load_project(project_id, settings)
    paths = ProjectPaths(settings.workspace, project_id)
    store = _store(settings)
    latest = store.latest_success(project_id)
    statuses: list[NodeStatus] = []
    plan_run = latest.get(("plan", "project"))
    statuses.append(NodeStatus(Node("plan", "project"), State.FRESH if plan_run else State.MISSING))
    ctx = _context(board, settings)
    report = Executor(store, project_id, paths.root).evaluate(MEDIA_STAGES, ctx, execute=False)
    statuses += list(report.statuses.values())
    return statuses


RENDER_STAGES = frozenset({"clip", "segment", "render", "qc"})


def render(
    project_id: str,
    *,
    workspace: Path | None = None,
    force: bool = False,
    preset: str | None = None,
    crf: int | None = None,
    music: Path | None = None,
    no_music: bool = False,
    progress: ProgressFn | None = None,
) -> MakeResult:
    """Re-render ``video.mp4`` from the project's existing images and narration: clips, crossfade
    segments, the final concat + audio pass, and QC. ``preset``/``crf``/``music`` are stored in the
    project's ``options.json`` (kept by later runs); ``force`` re-encodes every segment.

    Raises :class:`InputError` (exit 2) for an unknown project, a bad option, or when images or
    narration are missing or stale (run ``make`` first); :class:`StageError` (exit 1) when a node or
    a QC check fails.
    """
    t0 = time.perf_counter()
    settings = _settings(workspace)
    board = _load_project(project_id, settings)
    paths = ProjectPaths(settings.workspace, project_id)
    store = _store(settings)
    executor = Executor(store, project_id, paths.root, progress)
    ready = executor.evaluate([ImagePromptStage(), ImageStage(), NarrationStage()], _context(board, settings), execute=False)
    missing = [s.node.name for s in ready.statuses.values() if s.state != State.FRESH]
    if missing:
        raise InputError(
            f"{len(missing)} source node(s) are missing or stale: {', '.join(missing[:6])}",
            field="PROJECT", hint=f"run `storyreel make` for {project_id} first (render reuses images and narration)",
        )
    update_options(paths, preset=preset, crf=crf, music=music, no_music=no_music)
    ctx = _context(board, settings)
    report = executor.evaluate(MEDIA_STAGES, ctx, execute=True, force=force, only=lambda n: n.stage in RENDER_STAGES)
    executed = [n.name for n in report.executed]
    store.upsert_project(project_id, status="done", video_path=str(paths.video))
    return MakeResult(
        project_id=project_id, status="done", storyboard_path=paths.storyboard, video_path=paths.video,
        executed=executed, invocation=report.invocation, duration_s=time.perf_counter() - t0,
    )


def qc(target: str, *, workspace: Path | None = None) -> QcReport:
    """Run media QC on a video file, or on a project's ``video.mp4`` with the project's spec
    (timeline duration, fades, subtitle cues). Raises :class:`InputError` when ``target`` is neither
    an existing file nor a project."""
    path = Path(target)
    if path.is_file():
        return run_qc(path)
    settings = _settings(workspace)
    board = _load_project(target, settings)
    ctx = _context(board, settings)
    if not ctx.paths.video.exists():
        raise InputError(f"project {target!r} has no video.mp4 yet", field="PROJECT", hint="run `storyreel make` first")
    return run_qc(ctx.paths.video, project_spec(ctx))


def imagegen(
    project_id: str,
    *,
    workspace: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    chapter: str | None = None,
    shot: str | None = None,
    image_provider: str | None = None,
    llm: str | None = None,
    max_cost: float | None = None,
    progress: ProgressFn | None = None,
):  # noqa: ANN201 - returns storyreel.imagegen.ImagegenResult
    """Image prompts, images and ``images/manifest.json`` for a project's shots (all, one chapter or one
    shot); ``dry_run`` writes the request payloads and prices the plan without calling anything.
    Raises :class:`InputError` (exit 2) for an unknown project/chapter/shot, :class:`CostLimitReached`
    at the cap, :class:`StageError` when nodes fail."""
    from storyreel import imagegen as ig

    settings = _settings(workspace)
    board = _load_project(project_id, settings)
    _check_provider_flags(image_provider, llm)
    shots = ig.select_shots(_context(board, settings), chapter, shot)
    update_options(ProjectPaths(settings.workspace, project_id), image_provider=image_provider, llm=llm, max_cost_usd=max_cost)
    ctx = _context(board, settings)
    store = _store(settings)
    if dry_run:
        return ig.dry_run(ctx, shots, store)
    try:
        return ig.run(ctx, shots, store, force=force, progress=progress)
    except CostLimitReached:
        store.upsert_project(project_id, status="cost_limit")
        raise


def cost(project_id: str, *, workspace: Path | None = None) -> tuple[CostSummary, list[dict]]:
    """The project's cost ledger: summary against the cap and each paid node's committed cost.
    Raises :class:`InputError` for an unknown project."""
    settings = _settings(workspace)
    _load_project(project_id, settings)
    store = _store(settings)
    summary = CostLedger(store.sessions, project_id, _project_settings(settings, project_id).max_cost_usd).summary()
    runs = [
        {"node": f"{r.stage}[{r.unit}]", "provider": r.provider, "cost_usd": r.cost_usd, "finished_at": r.finished_at.isoformat()}
        for r in store.latest_success(project_id).values() if r.cost_usd
    ]
    return summary, sorted(runs, key=lambda r: r["node"])


def list_projects(*, workspace: Path | None = None) -> list[dict]:
    """Projects in the workspace, newest first: id, title, input, status, video path, updated time."""
    store = _store(_settings(workspace))
    return [
        {
            "project_id": p.id,
            "title": p.title,
            "input": p.input_name,
            "kind": p.input_kind,
            "status": p.status,
            "video_path": p.video_path,
            "updated_at": p.updated_at.isoformat() if p.updated_at else None,
        }
        for p in store.projects()
    ]
