"""A project's folder kept in step with the shared artifact storage, for machines with no shared disk (issue 29).

Each machine (a worker, the dashboard) has its own workspace folder; a project's files live, for all of them, in the
bucket (:mod:`storyreel.store.storage`) as content-addressed objects, and the project's *tree* — which file holds
which content — in the database (``project_files``, with a ``project_trees.generation`` bumped on every change). So:

- a verb that writes a project (:meth:`storyreel.api.session.Project.writing`) first **pulls** the tree under the
  project lock (the file lock here, PostgreSQL's advisory lock across machines): the files it lacks or holds in another
  version are fetched (through the local build cache) and the ones the tree dropped are removed — unless this copy is
  already at the tree's generation (one query). At the end it **pushes** the folder: new objects uploaded, the tree's
  rows changed, the deliverables copied under ``projects/<id>/`` in the bucket;
- every finished node's outputs are pushed as soon as the node succeeds (:class:`SharedObjects`, the executor's build
  cache), and every entry of the paid-call journal as it is written (:class:`ProjectMirror`): a worker killed mid-job
  leaves the next one every finished node (it runs none of them again) and every paid answer or job ID (it never pays
  twice);
- a reader (a dashboard page) refreshes the project the same way when no verb on this machine is writing it.

What is not shared: the lock files, the stat cache (``.file-hashes.json``), this copy's marker (``.synced.json``), the
local build cache (``cache/``) and temp files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from filelock import FileLock, Timeout
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.atomic import TEMP_MARK, atomic_write_text
from storyreel.core.hashing import FileHashes
from storyreel.store.files import ProjectPaths
from storyreel.store.models import ProjectFile, ProjectTree
from storyreel.store.objects import ObjectStore
from storyreel.store.storage import BucketStorage

log = logging.getLogger("storyreel.sync")

LOCAL_ONLY = frozenset({".lock", ".lock.owner", ".synced.json", ".file-hashes.json", "cache"})
"""Top-level names of a project folder that stay on their machine."""

DELIVERABLES = ("video.mp4", "video.srt", "video.vtt", "thumbnail.jpg", "qc.json")
"""Files also stored by name under ``projects/<id>/`` in the bucket (issue 29: "the deliverables … stored under the
project"), for people and tools browsing it."""

Entry = tuple[str, int]
"""A file in a tree: (digest ``sha256:<hex>``, size in bytes)."""


class TreeStore:
    """The ``project_trees`` / ``project_files`` rows (short transactions)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def generation(self, project_id: str) -> int:
        """The tree's generation (0: the project has no tree yet)."""
        with self.sessions() as s:
            return s.scalar(select(ProjectTree.generation).where(ProjectTree.project_id == project_id)) or 0

    def files(self, project_id: str) -> tuple[int, dict[str, Entry]]:
        """(generation, path → (digest, size)) read in one transaction."""
        with self.sessions() as s:
            generation = s.scalar(select(ProjectTree.generation).where(ProjectTree.project_id == project_id)) or 0
            rows = s.execute(select(ProjectFile.path, ProjectFile.digest, ProjectFile.size)
                             .where(ProjectFile.project_id == project_id)).all()
        return generation, {path: (digest, size) for path, digest, size in rows}

    def ensure(self, project_id: str) -> None:
        """Create the project's tree row if it has none (before a verb's threads push: they then only update it)."""
        if self.generation(project_id) or self._exists(project_id):
            return
        try:
            with self.sessions.begin() as s:
                s.add(ProjectTree(project_id=project_id, generation=0))
        except IntegrityError:
            pass  # another machine created it meanwhile

    def _exists(self, project_id: str) -> bool:
        with self.sessions() as s:
            return s.get(ProjectTree, project_id) is not None

    def files_at(self, project_id: str, paths: set[str]) -> dict[str, Entry]:
        """The tree's entries for ``paths`` (those it has)."""
        if not paths:
            return {}
        with self.sessions() as s:
            rows = s.execute(select(ProjectFile.path, ProjectFile.digest, ProjectFile.size)
                             .where(ProjectFile.project_id == project_id, ProjectFile.path.in_(list(paths)))).all()
        return {path: (digest, size) for path, digest, size in rows}

    def change(self, project_id: str, changed: dict[str, Entry], removed: list[str]) -> int:
        """Record ``changed`` files and drop ``removed`` ones; returns the new generation (unchanged when there is
        nothing to record). One writer per project at a time (the project lock), so a read-then-write is safe."""
        if not changed and not removed:
            return self.generation(project_id)
        with self.sessions.begin() as s:
            if removed:
                s.execute(delete(ProjectFile).where(ProjectFile.project_id == project_id, ProjectFile.path.in_(removed)))
            if changed:
                existing = set(s.scalars(select(ProjectFile.path).where(ProjectFile.project_id == project_id,
                                                                        ProjectFile.path.in_(list(changed)))))
                for path, (digest, size) in changed.items():
                    if path in existing:
                        s.execute(update(ProjectFile).where(ProjectFile.project_id == project_id, ProjectFile.path == path)
                                  .values(digest=digest, size=size))
                    else:
                        s.add(ProjectFile(project_id=project_id, path=path, digest=digest, size=size))
            tree = s.get(ProjectTree, project_id, with_for_update=True)
            if tree is None:
                tree = ProjectTree(project_id=project_id, generation=0)
                s.add(tree)
            tree.generation = (tree.generation or 0) + 1
            s.flush()
            return tree.generation

    def drop(self, project_id: str) -> None:
        """Forget the project's tree (the project was deleted)."""
        with self.sessions.begin() as s:
            s.execute(delete(ProjectFile).where(ProjectFile.project_id == project_id))
            s.execute(delete(ProjectTree).where(ProjectTree.project_id == project_id))


class ProjectSync:
    """One project folder on this machine against the shared storage. Thread-safe (pushes from the executor's threads)."""

    def __init__(self, storage: BucketStorage, tree: TreeStore, paths: ProjectPaths, objects: ObjectStore) -> None:
        self.storage = storage
        self.tree = tree
        self.paths = paths
        self.objects = objects
        self.hashes: FileHashes = objects.hashes
        self._lock = threading.Lock()

    @property
    def _marker(self) -> Path:
        return self.paths.root / ".synced.json"

    def _read_marker(self) -> tuple[int, dict[str, str]]:
        try:
            data = json.loads(self._marker.read_text(encoding="utf-8"))
            return int(data["generation"]), dict(data["files"])
        except (OSError, ValueError, KeyError, TypeError):
            return -1, {}

    def _write_marker(self, generation: int, files: dict[str, Entry]) -> None:
        atomic_write_text(self._marker, json.dumps({"generation": generation, "files": {p: d for p, (d, _) in files.items()}}))

    def _inside(self, rel: str) -> Path:
        """``rel`` (a tree path) as a path in the project folder; :class:`ValueError` for one that would leave it."""
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts[0] in LOCAL_ONLY:
            raise ValueError(f"not a project file path: {rel!r}")
        return self.paths.root.joinpath(*pure.parts)

    # ---------------------------------------------------------------------------------------- fetching
    def fetch(self, digest: str) -> bool:
        """Make object ``digest`` present in the local build cache (downloaded when only the bucket has it). False
        when neither has it."""
        if self.objects.has(digest):
            return True
        try:
            self.storage.download(digest, self.objects.path(digest))
        except FileNotFoundError:
            return False
        return self.objects.has(digest)

    def pull(self, *, writing: bool = False) -> int:
        """Bring this copy to the tree's generation: fetch what differs, remove what the tree dropped since this copy's
        last sync. Call with the project lock held (``writing``: the tree's row is created if missing, so the verb's
        threads only update it) or through :meth:`refresh`. Returns how many files were fetched. Raises
        :class:`OSError` when an object the tree names is missing from the bucket or damaged."""
        if writing:
            self.tree.ensure(self.paths.project_id)
        with self._lock:
            generation, files = self.tree.files(self.paths.project_id)
            mine, known = self._read_marker()
            if generation == 0 or generation == mine:
                return 0
            fetched = sum(self._bring(rel, digest) for rel, (digest, _size) in files.items())
            for rel in set(known) - set(files):
                try:
                    self._inside(rel).unlink(missing_ok=True)
                except ValueError:
                    continue
            self._write_marker(generation, files)
            self.hashes.save()
            if fetched:
                log.info("%s: %d file(s) fetched from %s (generation %d)", self.paths.project_id, fetched, self.storage.url, generation)
                self.objects.prune()  # the versions this copy no longer holds stay within STORYREEL_CACHE_MB
            return fetched

    def pull_only(self, wanted: Callable[[str], bool] | set[str]) -> int:
        """Fetch the tree's files whose path ``wanted`` accepts (or names, a set: only those rows are read) and that this
        copy lacks or holds in another version — nothing removed, this copy's generation unchanged (a helper's partial
        copy: the next full :meth:`pull` still runs). Returns how many were fetched. Raises like :meth:`pull`."""
        if isinstance(wanted, set):
            files = self.tree.files_at(self.paths.project_id, wanted)
            accept: Callable[[str], bool] = wanted.__contains__
        else:
            _, files = self.tree.files(self.paths.project_id)
            accept = wanted
        fetched = sum(self._bring(rel, digest) for rel, (digest, _size) in files.items() if accept(rel))
        self.hashes.save()
        return fetched

    def _bring(self, rel: str, digest: str) -> bool:
        """Make the project file ``rel`` hold object ``digest``: nothing when it does, else fetched (through the local
        build cache) and placed. True when placed. Raises :class:`OSError` when the bucket lacks it or it is damaged."""
        try:
            dest = self._inside(rel)
        except ValueError:
            log.warning("%s: the shared tree names %r, which is not a project file; skipped", self.paths.project_id, rel)
            return False
        try:
            if dest.is_file() and self.hashes.hash(dest) == digest:
                return False
        except OSError:
            pass
        if not self.fetch(digest):
            raise OSError(f"{self.storage.url} has no object {digest} for {self.paths.project_id}/{rel}")
        self.objects.place(digest, dest)
        return True

    def refresh(self) -> int:
        """:meth:`pull` for a reader: skipped while a verb on this machine writes the project (its copy is the newest
        there is), so a page never swaps files under a running job. Returns how many files were fetched."""
        generation = self.tree.generation(self.paths.project_id)
        if generation == 0 or generation == self._read_marker()[0]:
            return 0
        self.paths.root.mkdir(parents=True, exist_ok=True)
        probe = FileLock(self.paths.lock, thread_local=False, is_singleton=False)  # a lock held in this process conflicts too
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return 0
        try:
            return self.pull()
        except Exception as exc:  # noqa: BLE001 - a page shows this copy rather than fail; a verb's own pull raises
            log.warning("%s: could not bring this copy up to %s (%s); showing it as it is", self.paths.project_id,
                        self.storage.url, exc)
            return 0
        finally:
            probe.release()

    # ---------------------------------------------------------------------------------------- pushing
    def scan(self) -> dict[str, Entry]:
        """Every shared file of the project folder: relative POSIX path → (digest, size)."""
        found: dict[str, Entry] = {}
        root = self.paths.root
        if not root.is_dir():
            return found
        for folder, dirs, names in os.walk(root):
            here = Path(folder)
            if here == root:
                dirs[:] = [d for d in dirs if d not in LOCAL_ONLY]
            dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
            for name in names:
                path = here / name
                if TEMP_MARK in name or (here == root and name in LOCAL_ONLY) or path.is_symlink():
                    continue
                try:
                    found[path.relative_to(root).as_posix()] = (self.hashes.hash(path), path.stat().st_size)
                except OSError:
                    continue  # gone meanwhile
        return found

    def push(self) -> int:
        """Publish the whole folder: objects the bucket lacks uploaded, the tree's rows changed, the deliverables copied.
        Call with the project lock held. Returns the tree's generation."""
        with self._lock:
            local = self.scan()
            _, remote = self.tree.files(self.paths.project_id)
            changed = {p: e for p, e in local.items() if remote.get(p, ("",))[0] != e[0]}
            removed = [p for p in remote if p not in local]
            generation = self._commit(changed, removed)
            self._write_marker(generation, local)
            self.hashes.save()
            return generation

    def push_files(self, files: list[Path], removed: list[Path] = ()) -> None:
        """Publish these files of the project at once (a finished node's outputs, a journal entry) and drop ``removed``
        ones from the tree. Raises the storage's error when the bucket refuses (the node then fails: an output only
        this machine has would be lost with it)."""
        root = self.paths.root
        changed: dict[str, Entry] = {}
        for path in files:
            if path.is_file():
                changed[path.relative_to(root).as_posix()] = (self.hashes.hash(path), path.stat().st_size)
        self._commit(changed, [p.relative_to(root).as_posix() for p in removed])

    def _commit(self, changed: dict[str, Entry], removed: list[str]) -> int:
        root = self.paths.root
        for rel, (digest, _size) in changed.items():
            self.storage.upload(root / rel, digest)
        generation = self.tree.change(self.paths.project_id, changed, removed)
        prefix = f"projects/{self.paths.project_id}/"
        for rel, (digest, _size) in changed.items():
            if rel in DELIVERABLES:
                self.storage.publish(digest, prefix + rel)
        gone = [prefix + rel for rel in removed if rel in DELIVERABLES]
        if gone:
            self.storage.remove(gone)
        return generation

    # ---------------------------------------------------------------------------------------- serving
    def stored(self, path: Path) -> tuple[str, int] | None:
        """Where the bucket holds ``path`` (a file of the project): (key, size) — the deliverable's own name, else its
        object — or None when the tree does not list it."""
        try:
            rel = path.relative_to(self.paths.root).as_posix()
        except ValueError:
            return None
        with self.tree.sessions() as s:
            row = s.execute(select(ProjectFile.digest, ProjectFile.size)
                            .where(ProjectFile.project_id == self.paths.project_id, ProjectFile.path == rel)).first()
        if row is None:
            return None
        from storyreel.store.storage import object_key

        return (f"projects/{self.paths.project_id}/{rel}" if rel in DELIVERABLES else object_key(row.digest)), int(row.size)


class SharedObjects(ObjectStore):
    """The executor's build cache when the storage is shared: what a node makes is kept here *and* pushed (object
    uploaded, the file recorded in the project's tree) before the node counts as done; an output another machine made
    is fetched by its digest when a node's recipe key matches an earlier run's (a shared build cache)."""

    def __init__(self, sync: ProjectSync, folder: Path, hashes: FileHashes, max_bytes: int | None = None) -> None:
        super().__init__(folder, hashes, max_bytes)
        self.sync = sync

    def put(self, source: Path, digest: str) -> None:
        super().put(source, digest)
        self.sync.push_files([source])

    def has(self, digest: str) -> bool:
        if super().has(digest):
            return True
        try:
            self.sync.storage.download(digest, self.path(digest))
        except FileNotFoundError:
            return False
        return super().has(digest)

    def removed(self, files: list[Path]) -> None:
        self.sync.push_files([], removed=files)


class ProjectMirror:
    """What the paid-call journal (:mod:`storyreel.store.journal`) calls after each write and removal, so another machine
    resuming the project sees every job ID and answer (``ProjectPaths.mirror``)."""

    def __init__(self, sync: ProjectSync) -> None:
        self.sync = sync

    def written(self, *files: Path) -> None:
        self.sync.push_files(list(files))

    def removed(self, *files: Path) -> None:
        self.sync.push_files([], removed=[f for f in files])


def _size(folder: Path) -> int:
    total = 0
    for here, _, names in os.walk(folder):
        for name in names:
            try:
                total += (Path(here) / name).lstat().st_size
            except OSError:
                pass
    return total


def _used_at(folder: Path) -> float:
    """When this copy was last synced or written (its marker's or stat cache's time, else the folder's)."""
    times = []
    for name in (".synced.json", ".file-hashes.json", ".lock.owner"):
        try:
            times.append((folder / name).stat().st_mtime)
        except OSError:
            pass
    return max(times) if times else folder.stat().st_mtime


def evict_copies(workspace: Path, storage: BucketStorage, tree: TreeStore, keep_bytes: int) -> list[str]:
    """Remove the least recently used project copies of ``workspace`` until they fit ``keep_bytes`` — only copies no verb
    here is writing (their lock free) and whose every file the shared storage holds (a file the tree lists with the
    same digest, or an object the bucket has): the next job on the project fetches what it needs again. Returns the
    project IDs removed."""
    root = workspace / "projects"
    if not root.is_dir():
        return []
    copies = [(p, _size(p)) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    total = sum(size for _, size in copies)
    removed: list[str] = []
    for folder, size in sorted(copies, key=lambda c: _used_at(c[0])):
        if total <= keep_bytes:
            break
        probe = FileLock(folder / ".lock", thread_local=False, is_singleton=False)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            continue
        try:
            paths = ProjectPaths(workspace, folder.name)
            if tree.generation(paths.project_id) == 0:
                continue  # never shared: this copy is the only one
            local = ObjectStore(paths.objects, FileHashes(folder / ".file-hashes.json"))
            sync = ProjectSync(storage, tree, paths, local)
            _, files = tree.files(paths.project_id)
            if any(files.get(rel, ("",))[0] != digest and not storage.has(digest) for rel, (digest, _) in sync.scan().items()):
                continue  # something here is nowhere else
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
            removed.append(folder.name)
        except Exception:  # noqa: BLE001 - a copy that cannot be judged stays
            log.warning("could not judge the local copy %s", folder, exc_info=True)
        finally:
            probe.release()
    if removed:
        log.info("removed %d local project copies (kept within %d MB): %s", len(removed), keep_bytes // 2**20, ", ".join(removed))
    return removed
