"""Database access: engine per URL, Alembic upgrade to head on open (SQLite in the workspace by default)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(workspace: Path) -> str:
    return f"sqlite:///{(workspace / 'storyreel.db').as_posix()}"


BUSY_TIMEOUT_S = 30.0


def _ensure_wal(cur) -> None:  # noqa: ANN001
    """Put the database in WAL mode once. Reading the mode takes no write lock, so connections to a
    database that is already WAL (every one but the first) never contend; switching needs an exclusive
    lock, and SQLite can answer ``SQLITE_BUSY`` there without consulting the busy handler (two first
    runs on a fresh workspace), so the switch is retried for up to :data:`BUSY_TIMEOUT_S`."""
    import sqlite3

    from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

    def busy(exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))

    for attempt in Retrying(
        retry=retry_if_exception(busy), stop=stop_after_delay(BUSY_TIMEOUT_S), wait=wait_random(0.02, 0.1), reraise=True
    ):
        with attempt:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """Engine for ``url``, migrated to the latest Alembic revision. SQLite gets WAL and a busy timeout
    so concurrent readers (status, web) do not block a running make."""
    sqlite = url.startswith("sqlite")
    # sqlite3's own ``timeout`` installs the busy handler at open, before any pragma runs
    engine = create_engine(url, future=True, connect_args={"timeout": BUSY_TIMEOUT_S} if sqlite else {})
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            _ensure_wal(cur)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    upgrade(engine)
    return engine


def _at_head(conn, head: str) -> bool:  # noqa: ANN001
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return False
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def upgrade(engine: Engine) -> None:
    """Apply pending Alembic migrations (no-op, and no Alembic import cost, when already at head).

    Concurrent first runs are serialized: SQLite under a file lock beside the database
    (:func:`storyreel.store.locks.migration_lock`), PostgreSQL under a transaction-level advisory lock;
    the second runner then finds the database at head and does nothing."""
    head = head_revision()
    with engine.connect() as conn:
        if _at_head(conn, head):
            return
    if engine.dialect.name == "sqlite" and engine.url.database and engine.url.database != ":memory:":
        from storyreel.store.locks import migration_lock

        with migration_lock(Path(engine.url.database)):
            _upgrade_locked(engine, head)
    else:
        _upgrade_locked(engine, head)


def _upgrade_locked(engine: Engine, head: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(4242001)"))  # storyreel's migration lock, till commit
        if _at_head(conn, head):
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revision() -> str:
    """Latest revision id, read from the migration files (cheap; avoids loading Alembic)."""
    import re

    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision\s*[:=].*?"([^"]+)"', source, re.M)
        down = re.search(r'^down_revision\s*[:=].*?"([^"]+)"', source, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            downs.add(down.group(1))
    heads = revisions - downs
    if len(heads) != 1:
        raise RuntimeError(f"expected one Alembic head, found {sorted(heads)}")
    return heads.pop()


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
"""The workspace folder and its database and queue files are the owner's alone: they hold every project, the
ledger, password hashes and session digests."""


def private_workspace(workspace: Path) -> Path:
    """Create the workspace folder (owner-only, :data:`PRIVATE_DIR`) when it does not exist yet."""
    if not workspace.exists():
        workspace.mkdir(parents=True, exist_ok=True)
        workspace.chmod(PRIVATE_DIR)
    return workspace


def private_files(*paths: Path) -> None:
    """Make existing files owner-only (:data:`PRIVATE_FILE`): the SQLite database and its WAL and shared-memory files."""
    for path in paths:
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if file.stat().st_mode & 0o077:
                    file.chmod(PRIVATE_FILE)
            except OSError:
                pass


def database(settings: Settings) -> sessionmaker[Session]:
    """Sessions of the database ``settings`` name: ``STORYREEL_DATABASE_URL``, else ``storyreel.db`` in the
    workspace (the folder is created owner-only, the file made owner-only). Migrated on first open; one engine
    per URL and process."""
    if settings.database_url:
        return session_factory(settings.database_url)
    private_workspace(settings.workspace)
    sessions = session_factory(sqlite_url(settings.workspace))
    private_files(settings.workspace / "storyreel.db")
    return sessions


def describe_database(settings: Settings) -> str:
    """One line on the database ``settings`` name — its dialect, address (password hidden) and migration — for
    ``storyreel doctor``. Raises :class:`RuntimeError` when it is not at :func:`head_revision`, and the driver's
    error when it does not answer."""
    sessions = database(settings)  # migrates to head on first open
    with sessions() as s:
        revision = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine = sessions.kw["bind"]
    where = engine.url.render_as_string(hide_password=True)
    if revision != head_revision():
        raise RuntimeError(f"{where} is at migration {revision}, storyreel needs {head_revision()}")
    return f"{engine.dialect.name} at {where}, migrations at {revision}"
