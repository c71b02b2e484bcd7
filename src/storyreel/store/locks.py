"""Locks: one writer per project, one migrator per database.

* :func:`project_lock` — a verb that writes a project (``plan``, ``make``, ``render``, ``imagegen``, and
  later the dashboard's jobs) holds ``<project>/.lock`` (``filelock``: an OS lock the kernel drops when
  the holder dies, SIGKILL included). A second writer waits, saying so, or — with ``wait=False`` —
  stops at once with :class:`ProjectBusy` naming the holder. Right after taking the lock, temp files
  that a killed writer left in the project are removed (no live writer can own them then). When the
  database is PostgreSQL the lock is also a session-level advisory lock (``pg_advisory_lock`` on a key from
  the project ID, held on a connection of its own): workers on other machines exclude each other through the
  database, with no shared disk (NFS locks are not reliable across hosts), and the server drops it when the
  holder's connection dies (issue 29 item 2).
* :func:`migration_lock` — the Alembic upgrade of a workspace's database runs under
  ``<workspace>/.storyreel.db.lock`` (SQLite), so two first runs on a fresh workspace do not both create
  the tables; PostgreSQL takes a transaction-level advisory lock instead (``store/db.py``).

Read-only verbs (``status``, ``cost``, ``list``) take no lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from storyreel.core.atomic import atomic_write_text, remove_stale_temps
from storyreel.core.errors import StoryreelError
from storyreel.store.files import ProjectPaths

log = logging.getLogger("storyreel.locks")


class ProjectBusy(StoryreelError):
    """Another storyreel process is writing the project and ``--no-wait`` was given. Exit code 1."""


def _lock(path: Path) -> FileLock:
    # one lock object per file and process, shared by threads: nested holds count instead of deadlocking
    return FileLock(path, thread_local=False, is_singleton=True)


def _owner(paths: ProjectPaths) -> str:
    try:
        data = json.loads((paths.root / ".lock.owner").read_text(encoding="utf-8"))
        return f"{data['verb']} by pid {data['pid']} on {data['host']} since {data['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another storyreel process"


def advisory_key(name: str) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) for ``name``: the first 8 bytes of its sha256."""
    return int.from_bytes(hashlib.sha256(f"storyreel:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def _advisory(engine, project_id: str, wait: bool, holder) -> Iterator[None]:  # noqa: ANN001 - a SQLAlchemy Engine; holder() → str
    """Hold PostgreSQL's session-level advisory lock of the project on a connection of its own for the block."""
    from sqlalchemy import text

    key = advisory_key(f"project:{project_id}")
    conn = engine.connect()
    try:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            if not wait:
                raise ProjectBusy(f"project {project_id} is busy: {holder()} (on another machine)\n"
                                  "  fix: wait for it to finish, or run again with --wait")
            log.warning("project %s is busy on another machine (%s); waiting for it to finish…", project_id, holder())
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()  # the lock is the session's, not a transaction's
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    finally:
        conn.close()


def held_here(paths: ProjectPaths) -> bool:
    """Whether this process already holds the project's lock (a verb inside a verb: the hold would be nested)."""
    return _lock(paths.lock).is_locked


@contextmanager
def project_lock(paths: ProjectPaths, *, wait: bool = True, verb: str = "make", engine=None) -> Iterator[None]:  # noqa: ANN001
    """Hold the project's lock for the block. Raises :class:`ProjectBusy` when it is held elsewhere and
    ``wait`` is False; otherwise logs a warning and waits. Nested holds in one process are counted. With
    ``engine`` (the workspace's database) on PostgreSQL the outermost hold also takes the project's advisory lock."""
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.check_contained()
    lock = _lock(paths.lock)
    nested = lock.is_locked
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _owner(paths)
        if not wait:
            raise ProjectBusy(f"project {paths.project_id} is busy: {holder}\n  fix: wait for it to finish, or run again with --wait") from None
        log.warning("project %s is busy (%s); waiting for it to finish…", paths.project_id, holder)
        lock.acquire()
    shared = engine is not None and engine.dialect.name == "postgresql" and not nested
    try:
        with _advisory(engine, paths.project_id, wait, lambda: _owner(paths)) if shared else nullcontext():
            with _held(paths, nested, verb):
                yield
    finally:
        lock.release()


@contextmanager
def _held(paths: ProjectPaths, nested: bool, verb: str) -> Iterator[None]:
    """With the lock held: stale temp files removed and the owner recorded (outermost hold), the project's log on."""
    if not nested:
        removed = remove_stale_temps(paths.root)
        if removed:
            log.info("removed %d temp file(s) left by an interrupted run in %s", removed, paths.project_id)
        owner = {"verb": verb, "pid": os.getpid(), "host": socket.gethostname(),
                 "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        atomic_write_text(paths.root / ".lock.owner", json.dumps(owner))
    with _project_log(paths, nested):
        yield


@contextmanager
def _project_log(paths: ProjectPaths, nested: bool) -> Iterator[None]:
    """While a verb writes the project, storyreel's log lines (provider attempts, retries, nodes) also go
    to ``<project>/logs/storyreel.log``; keys never reach a log line (the HTTP client logs paths only)."""
    if nested:
        yield
        return
    paths.logs.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(paths.logs / "storyreel.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("storyreel")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


@contextmanager
def migration_lock(database_file: Path) -> Iterator[None]:
    """Hold ``<database_file>.lock`` (the SQLite database's migration lock) for the block."""
    database_file.parent.mkdir(parents=True, exist_ok=True)
    with _lock(database_file.with_name(f".{database_file.name}.lock")):
        yield
