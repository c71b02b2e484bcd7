"""Opening a workspace and a project for a verb: settings, the database, the project's options and
the context every stage reads. Shared by every module of the facade; nothing here runs a stage."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from storyreel.core.artifact import Storyboard, load_storyboard
from storyreel.core.errors import InputError
from storyreel.core.settings import Settings
from storyreel.media.ffmpeg import Encoding, choose_encoder, default_threads
from storyreel.providers.registry import resolve
from storyreel.providers.scorer.local_consistency import LocalConsistency
from storyreel.stages.context import ProjectContext
from storyreel.store.assets import AssetStore
from storyreel.store.db import session_factory, sqlite_url
from storyreel.store.files import ProjectPaths
from storyreel.store.journal import received_cost
from storyreel.store.ledger import CostLedger
from storyreel.store.locks import project_lock
from storyreel.store.options import ProjectOptions
from storyreel.store.records import RunStore
from storyreel.store.scores import ScoreStore

log = logging.getLogger("storyreel.api")


def settings_for(workspace: Path | None) -> Settings:
    """Process settings (environment, ``.env``, ``storyreel.toml``) with ``workspace`` on top when given.

    Cached on everything they are read from — the settings' environment variables, the working directory
    and the stat of ``.env`` and ``storyreel.toml`` there — so a server answering many requests builds them
    once (building costs ≈ 2.5 ms) and any change is seen at the next call. Treat the result as read-only
    (``model_copy(update=…)`` for a variant)."""
    return _settings(str(workspace) if workspace is not None else None, _sources())


def _sources() -> tuple:
    names = _env_names()
    env = tuple((k, v) for k, v in os.environ.items() if k in names)
    cwd = os.getcwd()
    files = []
    for name in (".env", "storyreel.toml"):
        try:
            st = os.stat(os.path.join(cwd, name))
            files.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            files.append((name, None, None))
    return env, cwd, tuple(files)


@lru_cache(maxsize=1)
def _env_names() -> frozenset[str]:
    return frozenset(Settings.env_names())


@lru_cache(maxsize=32)
def _settings(workspace: str | None, sources: tuple) -> Settings:
    return Settings(workspace=Path(workspace)) if workspace is not None else Settings()


def open_store(settings: Settings) -> RunStore:
    """The workspace's database (created and migrated on first use)."""
    settings.workspace.mkdir(parents=True, exist_ok=True)
    return RunStore(session_factory(settings.database_url or sqlite_url(settings.workspace)))


def project_settings(settings: Settings, project_id: str) -> Settings:
    """Process settings with the project's stored choices (``options.json``) on top."""
    overrides = ProjectOptions.load(ProjectPaths(settings.workspace, project_id)).settings_overrides()
    return settings.model_copy(update=overrides) if overrides else settings


def load_project(project_id: str, settings: Settings) -> Storyboard:
    """The project's validated storyboard. Raises :class:`InputError` when there is no such project."""
    paths = ProjectPaths(settings.workspace, project_id)
    if not paths.storyboard.exists():
        raise InputError(f"no project {project_id!r} in {settings.workspace}", field="PROJECT", hint="see `storyreel list`")
    return load_storyboard(paths.storyboard)


def context(board: Storyboard, settings: Settings, store: RunStore | None = None, overrides: dict | None = None) -> ProjectContext:
    """Everything the media stages read: storyboard, folder, settings with the project's options (and
    ``overrides`` on top, e.g. a dry run's flags that are not stored), providers, encoding, music bed,
    cost ledger and asset store."""
    paths = ProjectPaths(settings.workspace, board.project_id)
    settings = project_settings(settings, board.project_id)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if given:
        settings = settings.model_copy(update=given)
    options = ProjectOptions.load(paths)
    store = store or open_store(settings)
    try:
        codec = choose_encoder(settings.video_encoder, settings.workspace)
    except ValueError as exc:
        raise InputError(str(exc), field="STORYREEL_VIDEO_ENCODER") from exc
    return ProjectContext(
        storyboard=board,
        paths=paths,
        settings=settings,
        image_provider=resolve("image", settings.image_provider, settings),
        template_provider=resolve("image", "local:cards", settings, overridable=False),
        tts_provider=resolve("tts", settings.tts_provider, settings),
        encoding=Encoding(
            preset=options.preset or settings.x264_preset, crf=settings.crf if options.crf is None else options.crf,
            threads=default_threads(settings.workers), codec=codec,
        ),
        music=options.music_path(paths),
        ledger=CostLedger(store.sessions, board.project_id, settings.max_cost_usd),
        llm=resolve("llm", settings.llm, settings),
        assets=AssetStore(store.sessions),
        scorer=resolve("scorer", settings.scorer, settings),
        scores=ScoreStore(store.sessions),
        judge=resolve("judge", settings.judge, settings) if settings.judge else None,
        consistency=LocalConsistency(),
    )


def preflight(ctx: ProjectContext, *, online: bool = True) -> None:
    """Check, before any paid work, every provider this project's run will call: keys present, base
    URLs allowed and — ``online`` — one free call per paid image provider (key refused, unknown model,
    unreachable URL). Raises :class:`~storyreel.core.errors.ConfigError` naming what to set."""
    from storyreel.stages.image import route

    units = [shot.shot_id for _, shot in ctx.storyboard.shots()]
    generated = [u for u in units if route(ctx, u) == "generated"]
    if generated:
        ctx.image_provider.preflight(online=online and ctx.image_provider.paid)
        if any(not ctx.storyboard.shot(u)[1].visual.image_prompt for u in generated) and ctx.llm is not None:
            ctx.llm.preflight()
    ctx.tts_provider.preflight()
    if ctx.judge is not None and ctx.settings.image_candidates > 1:
        ctx.judge.preflight()


def check_choices(settings: Settings, *, image_provider: str | None = None, llm: str | None = None) -> None:
    """The offline preflight of the providers named on the command line and of a paid planner, before
    anything is planned or written. Raises :class:`~storyreel.core.errors.ConfigError`."""
    planner = resolve("planner", settings.planner, settings)
    if planner.paid:
        planner.preflight()
    for modality, value in (("image", image_provider), ("llm", llm)):
        if value is not None:
            resolve(modality, value, settings).preflight()


def settled_status(ctx: ProjectContext, store: RunStore) -> str:
    """The project's status word after a verb that finished without error: ``done`` when every node is
    fresh with nothing needing attention, else ``partial`` (some node missing, stale or a stand-in)."""
    from storyreel.engine.executor import Executor
    from storyreel.engine.staleness import State
    from storyreel.stages.pipeline import MEDIA_STAGES

    report = Executor(store, ctx.storyboard.project_id, ctx.paths.root).evaluate(MEDIA_STAGES, ctx, execute=False)
    settled = all(s.state == State.FRESH and not s.attention for s in report.statuses.values())
    return "done" if settled else "partial"


@contextmanager
def writing(paths: ProjectPaths, settings: Settings, *, wait: bool, verb: str) -> Iterator[None]:
    """Hold the project's lock for a verb that writes it (:func:`storyreel.store.locks.project_lock`) and,
    once it is held, settle what a run that died left in the ledger: reservations whose answer is in the
    received journal are committed at its cost, the others kept as uncertain (never silently released)."""
    with project_lock(paths, wait=wait, verb=verb):
        if paths.received.is_dir() or paths.storyboard.exists():
            store = open_store(settings)
            ledger = CostLedger(store.sessions, paths.project_id, project_settings(settings, paths.project_id).max_cost_usd)
            settled = ledger.reconcile(lambda key: received_cost(paths, key))
            if any(settled.values()):
                log.warning("%s: a run that stopped left paid calls behind: %d committed from the received journal, "
                            "%d uncertain (see `storyreel cost %s`)", paths.project_id, settled["committed"], settled["uncertain"],
                            paths.project_id)
        yield
