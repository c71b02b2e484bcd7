"""Opening a workspace and a project for a verb: settings, the database, the project's options and
the context every stage reads. Shared by every module of the facade; nothing here runs a stage."""

from __future__ import annotations

from pathlib import Path

from storyreel.core.artifact import Storyboard, load_storyboard
from storyreel.core.errors import InputError
from storyreel.core.settings import Settings
from storyreel.media.ffmpeg import Encoding, choose_encoder, default_threads
from storyreel.providers.registry import resolve
from storyreel.stages.context import ProjectContext
from storyreel.store.assets import AssetStore
from storyreel.store.db import session_factory, sqlite_url
from storyreel.store.files import ProjectPaths
from storyreel.store.ledger import CostLedger
from storyreel.store.options import ProjectOptions
from storyreel.store.records import RunStore


def settings_for(workspace: Path | None) -> Settings:
    """Process settings (environment, ``.env``, ``storyreel.toml``) with ``workspace`` on top when given."""
    return Settings(workspace=workspace) if workspace is not None else Settings()


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


def context(board: Storyboard, settings: Settings, store: RunStore | None = None) -> ProjectContext:
    """Everything the media stages read: storyboard, folder, settings with the project's options,
    providers, encoding, music bed, cost ledger and asset store."""
    paths = ProjectPaths(settings.workspace, board.project_id)
    settings = project_settings(settings, board.project_id)
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
    )
