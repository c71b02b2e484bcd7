"""The session of a verb (dvc's ``Repo``, opened once per command): a :class:`Workspace` — settings and the
database — and a :class:`Project` in it — paths, stored options, the project's settings, cost ledger, lock
and stage context. A verb opens them once from its request and passes them down; nothing below re-derives
settings or reopens the database.

    ws = Workspace.open(request.workspace)          # settings (cached on their sources) + the database
    project = ws.project(request.project)           # paths; options, settings and ledger on first use
    with project.writing(wait=True, verb="render"):  # the project's lock, orphaned reservations settled
        ctx = project.context()                     # what every stage reads
        report = project.evaluate(MEDIA_STAGES, ctx, execute=True)

This is the only module that builds :class:`~storyreel.core.settings.Settings` from the environment
(:func:`settings_for`) and opens the database (:func:`open_store`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from storyreel.core.artifact import Storyboard, load_storyboard
from storyreel.core.errors import CostLimitReached, InputError
from storyreel.core.hashing import FileHashes
from storyreel.core.settings import Settings
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.executor import Executor, ProgressFn, RunReport
from storyreel.engine.graph import Node, Stage
from storyreel.media.ffmpeg import Encoding, choose_encoder, default_threads
from storyreel.providers.http import gate_for, install_gate
from storyreel.providers.registry import resolve
from storyreel.providers.scorer.local_consistency import LocalConsistency
from storyreel.providers.tts.local import for_language
from storyreel.stages.context import ProjectContext
from storyreel.stages.manifest import write_manifest
from storyreel.store.accounts import Accounts
from storyreel.store.assets import AssetStore
from storyreel.store.db import database, private_workspace
from storyreel.store.files import ProjectPaths
from storyreel.store.gallery import ProjectQueries
from storyreel.store.jobs import JobStore
from storyreel.store.limits import PgCallGate
from storyreel.store.journal import CallJournal, received_cost
from storyreel.store.ledger import CostLedger
from storyreel.store.locks import held_here, project_lock
from storyreel.store.objects import ObjectStore
from storyreel.store.options import ProjectOptions, update_options
from storyreel.store.records import RunStore
from storyreel.store.scores import ScoreStore
from storyreel.store.storage import storage_for
from storyreel.store.sync import DELIVERABLES, ProjectMirror, ProjectSync, SharedObjects, TreeStore, evict_copies

log = logging.getLogger("storyreel.api")


# ------------------------------------------------------------------------------------------ settings
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
    """The workspace's database (created and migrated on first use; one engine per URL and process). On PostgreSQL —
    a database workers share — the vendor clients of its workspaces count their calls there too
    (:class:`~storyreel.store.limits.PgCallGate`), so the concurrency and per-minute caps hold across workers."""
    sessions = database(settings)
    engine = sessions.kw["bind"]
    if settings.database_url and engine.dialect.name == "postgresql" and gate_for(settings.database_url) is None:
        install_gate(settings.database_url, PgCallGate(engine))
    return RunStore(sessions)


# ------------------------------------------------------------------------------------------ workspace
class Workspace:
    """A workspace opened for one verb or request: its settings and, on first use, its database, job
    table, accounts and dashboard queries."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @staticmethod
    def private(folder: Path) -> Path:
        """Create the workspace folder owner-only when it does not exist yet (:func:`storyreel.store.db.private_workspace`)."""
        return private_workspace(folder)

    @classmethod
    def open(cls, workspace: Path | None = None) -> Workspace:
        """The workspace ``workspace`` (None: ``STORYREEL_WORKSPACE`` or the per-user data folder)."""
        return cls(settings_for(workspace))

    @property
    def root(self) -> Path:
        return self.settings.workspace

    @cached_property
    def store(self) -> RunStore:
        """Projects and run records (the database is migrated on first open)."""
        return open_store(self.settings)

    @cached_property
    def jobs(self) -> JobStore:
        """The jobs table, with the lease ``STORYREEL_JOB_LEASE_S``."""
        return JobStore.open(self.settings)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.store.sessions)

    @cached_property
    def queries(self) -> ProjectQueries:
        """The dashboard's reads over projects (gallery, costs, one project's row and jobs)."""
        return ProjectQueries(self.store.sessions)

    def check_choices(self, *, image_provider: str | None = None, llm: str | None = None, voice: str | None = None,
                      clips: str | None = None) -> None:
        """The offline preflight of the providers a request names and of a paid planner, before anything is
        planned or written. Raises :class:`~storyreel.core.errors.ConfigError` naming what to set."""
        settings = self.settings
        planner = resolve("planner", settings.planner, settings)
        if planner.paid:
            planner.preflight()
        for modality, value in (("image", image_provider), ("llm", llm), ("tts", voice), ("video", clips)):
            if value is not None and value != "local":
                resolve(modality, value, settings).preflight()

    def project(self, project_id: str, *, field: str = "PROJECT") -> Project:
        """The project ``project_id`` (which may not exist yet). Raises :class:`InputError` naming ``field``
        for an ID that is not valid. With shared storage (``STORYREEL_STORAGE_URL``) this machine's copy is first
        brought up to date (:meth:`Project.refresh`)."""
        project = Project(self, project_id, field=field)
        project.refresh()
        return project

    def evict_copies(self) -> list[str]:
        """With shared storage: keep this machine's project copies within ``STORYREEL_LOCAL_COPIES_MB``
        (:func:`storyreel.store.sync.evict_copies`); the IDs of the copies removed (none on one machine)."""
        storage = storage_for(self.settings.storage_url)
        if storage is None:
            return []
        return evict_copies(self.root, storage, self.trees, self.settings.local_copies_mb * 2**20)

    @cached_property
    def trees(self) -> TreeStore | None:
        """The projects' trees in the shared storage (None without ``STORYREEL_STORAGE_URL``)."""
        return TreeStore(self.store.sessions) if self.settings.storage_url else None

    def existing(self, project_id: str, *, field: str = "PROJECT") -> Project:
        """The project ``project_id``, which must have a storyboard. Raises :class:`InputError` otherwise."""
        project = self.project(project_id, field=field)
        if not project.paths.storyboard.exists():
            raise InputError(f"no project {project_id!r} in {self.root}", field=field, hint="see `storyreel list`")
        return project


# ------------------------------------------------------------------------------------------ project
class Project:
    """One project of a workspace for the length of a verb. ``options`` and ``settings`` are read on first
    use and read again after :meth:`keep_options`; everything else derives from them."""

    def __init__(self, ws: Workspace, project_id: str, *, field: str = "PROJECT") -> None:
        self.ws = ws
        self.paths = ProjectPaths(ws.root, project_id, field=field)
        self.id = self.paths.project_id

    @property
    def store(self) -> RunStore:
        return self.ws.store

    @cached_property
    def options(self) -> ProjectOptions:
        """The project's stored choices (``options.json``). Raises :class:`InputError` for a broken file."""
        return ProjectOptions.load(self.paths)

    @cached_property
    def settings(self) -> Settings:
        """The workspace's settings with the project's stored choices on top."""
        overrides = self.options.settings_overrides()
        return self.ws.settings.model_copy(update=overrides) if overrides else self.ws.settings

    @property
    def ledger(self) -> CostLedger:
        """The project's cost ledger against its cap."""
        return CostLedger(self.store.sessions, self.id, self.settings.max_cost_usd)

    def storyboard(self) -> Storyboard:
        """The validated storyboard. Raises :class:`InputError` when there is no such project."""
        if not self.paths.storyboard.exists():
            raise InputError(f"no project {self.id!r} in {self.ws.root}", field="PROJECT", hint="see `storyreel list`")
        return load_storyboard(self.paths.storyboard)

    def keep_options(self, **values: Any) -> None:
        """Store the given choices in ``options.json`` (None keeps the stored one; ``music`` / ``no_music``
        as :func:`~storyreel.store.options.update_options`); later reads of the settings see them."""
        update_options(self.paths, **values)
        self.__dict__.pop("options", None)
        self.__dict__.pop("settings", None)

    # -------------------------------------------------------------------------------- shared storage
    @cached_property
    def sync(self) -> ProjectSync | None:
        """This project's folder against the shared storage (:mod:`storyreel.store.sync`), or None on one machine."""
        storage = storage_for(self.ws.settings.storage_url)
        if storage is None:
            return None
        local = ObjectStore(self.paths.objects, FileHashes(self.paths.root / ".file-hashes.json"), self.ws.settings.cache_mb * 1024 * 1024)
        return ProjectSync(storage, self.ws.trees, self.paths, local)

    def refresh(self) -> int:
        """Bring this machine's copy up to the shared tree unless a verb here is writing the project (then this copy is
        the newest). Returns the files fetched (0 on one machine)."""
        return self.sync.refresh() if self.sync is not None else 0

    def stored(self, path: Path) -> tuple[int, Callable[[int, int | None], Iterator[bytes]]] | None:
        """A file of the project as the shared storage holds it, for serving without a local copy: (size in bytes,
        ``read(start, end)`` → chunks of bytes ``[start, end)``); None on one machine or for a file the tree lacks."""
        if self.sync is None:
            return None
        found = self.sync.stored(path)
        if found is None:
            return None
        key, size = found
        return size, lambda start, end: self.sync.storage.read(key, start, end)

    def publish(self) -> None:
        """Push this copy to the shared storage under the project's lock (files written outside a verb: a new project's
        input). Nothing on one machine."""
        if self.sync is not None:
            with self.writing(wait=True, verb="publish"):
                pass

    def unshare(self) -> None:
        """Forget the project's tree and its deliverables' names in the bucket (its objects may be shared by other
        projects and stay). Nothing on one machine."""
        if self.sync is not None:
            self.ws.trees.drop(self.id)
            self.sync.storage.remove([f"projects/{self.id}/{name}" for name in DELIVERABLES])

    # ----------------------------------------------------------------------------------- the lock
    @contextmanager
    def writing(self, *, wait: bool, verb: str) -> Iterator[Project]:
        """Hold the project's lock for a verb that writes it (:func:`storyreel.store.locks.project_lock`: the file lock,
        and on PostgreSQL the project's advisory lock, so workers on other machines wait too) and, once it is held, settle what a run that died left in the ledger: reservations whose answer is
        in the received journal are committed at its cost, the others kept as uncertain (never silently
        released), and reservations of requests that never went out are released. With shared storage the outermost
        hold also pulls this copy to the project's tree first and pushes the folder at the end (:meth:`_shared`).
        Raises :class:`~storyreel.store.locks.ProjectBusy` when busy and ``wait`` is False."""
        outermost = not held_here(self.paths)
        with project_lock(self.paths, wait=wait, verb=verb, engine=self.store.sessions.kw.get("bind")), self._shared(outermost):
            self._reconcile()
            yield self

    @contextmanager
    def _shared(self, outermost: bool) -> Iterator[None]:
        """With shared storage and the outermost hold of the lock: this copy pulled to the tree first, every journal
        write mirrored meanwhile, the folder pushed at the end (whatever ended the block)."""
        if self.sync is None or not outermost:
            yield
            return
        self.sync.pull(writing=True)
        self.paths.mirror = ProjectMirror(self.sync)
        try:
            yield
        finally:
            self.paths.mirror = None
            try:
                self.sync.push()
            except Exception:  # noqa: BLE001 - the verb's own outcome (or error) is what the caller must see
                log.exception("%s: could not publish the project to %s; the next writer starts from its last published state",
                              self.id, self.sync.storage.url)

    def _reconcile(self) -> None:
        """Settle what a run that died left in the ledger (see :meth:`writing`)."""
        if self.paths.received.is_dir() or self.paths.storyboard.exists():
            settled = self.ledger.reconcile(lambda key: received_cost(self.paths, key), lambda key: CallJournal(self.paths, key).attempted())
            if settled["committed"] or settled["uncertain"]:
                log.warning("%s: a run that stopped left paid calls behind: %d committed from the received journal, "
                            "%d uncertain (see `storyreel cost %s`)", self.id, settled["committed"], settled["uncertain"], self.id)

    # --------------------------------------------------------------------------------- the stages
    def context(self, overrides: dict | None = None, board: Storyboard | None = None) -> ProjectContext:
        """Everything the media stages read: storyboard (``board``, else the one on disk), folder,
        settings with the project's options (and ``overrides`` on top: a dry run's flags that are not
        stored), providers, encoding, music bed, cost ledger, asset and score stores."""
        board = board or self.storyboard()
        settings = self.settings
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        if given:
            settings = settings.model_copy(update=given)
        try:
            codec = choose_encoder(settings.video_encoder, settings.workspace)
        except ValueError as exc:
            raise InputError(str(exc), field="STORYREEL_VIDEO_ENCODER") from exc
        options = self.options
        return ProjectContext(
            storyboard=board,
            paths=self.paths,
            settings=settings,
            image_provider=resolve("image", settings.image_provider, settings),
            template_provider=resolve("image", "local:cards", settings, overridable=False),
            fallback_image_provider=resolve("image", settings.image_fallback, settings, overridable=False) if settings.image_fallback else None,
            tts_provider=resolve("tts", for_language(settings.tts_provider, board.settings.language), settings),
            video_provider=None if settings.clips_provider == "local" else resolve("video", settings.clips_provider, settings),
            encoding=Encoding(
                preset=options.preset or settings.x264_preset, crf=settings.crf if options.crf is None else options.crf,
                threads=default_threads(settings.workers), codec=codec,
            ),
            music=options.music_path(self.paths),
            ledger=CostLedger(self.store.sessions, board.project_id, settings.max_cost_usd),
            llm=resolve("llm", settings.llm, settings),
            assets=AssetStore(self.store.sessions),
            scorer=resolve("scorer", settings.scorer, settings),
            scores=ScoreStore(self.store.sessions),
            judge=resolve("judge", settings.judge, settings) if settings.judge else None,
            consistency=LocalConsistency(),
        )

    def executor(self, progress: ProgressFn | None = None) -> Executor:
        """The project's executor, with its build cache (:mod:`storyreel.store.objects`, ``STORYREEL_CACHE_MB``)."""
        limit = self.ws.settings.cache_mb * 1024 * 1024
        if self.sync is not None:  # a node's outputs are pushed before it counts as done; other machines' are fetched
            return Executor(self.store, self.id, self.paths.root, progress,
                            objects=lambda hashes: SharedObjects(self.sync, self.paths.objects, hashes, limit))
        return Executor(self.store, self.id, self.paths.root, progress,
                        objects=lambda hashes: ObjectStore(self.paths.objects, hashes, limit))

    def evaluate(self, stages: Sequence[Stage[Any]], ctx: Any, *, execute: bool, force: bool = False,
                 only: Callable[[Node], bool] | None = None, executor: Executor | None = None) -> RunReport:
        """Every node of ``stages`` with its status; with ``execute`` the ones not fresh run (only those
        ``only`` accepts). At the cost cap the image manifest is still written, listing what was not made,
        and :class:`CostLimitReached` is raised."""
        executor = executor or self.executor()
        try:
            return executor.evaluate(stages, ctx, execute=execute, force=force, only=only)
        except CostLimitReached:
            if isinstance(ctx, ProjectContext):
                write_manifest(ctx)
            raise

    # ------------------------------------------------------------------------------- the database
    def record(self, **fields: Any) -> None:
        """Create or update the project's row (title, input, video path, …)."""
        self.store.upsert_project(self.id, **fields)

    def mark(self, status: ProjectStatus, **fields: Any) -> None:
        """Set the project's status word (the runner's :func:`~storyreel.api.runner.settle` decides which)."""
        self.store.upsert_project(self.id, status=ProjectStatus(status).value, **fields)

    @property
    def status(self) -> ProjectStatus | None:
        """The status word in the database (None before the project has a row)."""
        row = self.store.project(self.id)
        return ProjectStatus(row.status) if row is not None and row.status else None
