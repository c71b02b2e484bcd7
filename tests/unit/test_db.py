"""The SQLite connection setup survives contention on a fresh workspace."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from storyreel.store import db


class _FlakyCursor:
    """A cursor whose journal-mode switch answers SQLITE_BUSY ``busy_times`` times (as SQLite does, without
    consulting the busy handler, while another first run holds the lock)."""

    def __init__(self, busy_times: int) -> None:
        self.busy_times = busy_times
        self.mode = "delete"
        self.switches = 0

    def execute(self, sql: str):  # noqa: ANN201
        if sql == "PRAGMA journal_mode=WAL":
            self.switches += 1
            if self.busy_times:
                self.busy_times -= 1
                raise sqlite3.OperationalError("database is locked")
            self.mode = "wal"
        return self

    def fetchone(self):  # noqa: ANN201
        return (self.mode,)


def test_wal_switch_is_retried_while_another_first_run_holds_the_lock():
    cur = _FlakyCursor(busy_times=3)
    db._ensure_wal(cur)
    assert cur.mode == "wal" and cur.switches == 4


def test_a_database_already_in_wal_is_not_switched_again():
    cur = _FlakyCursor(busy_times=0)
    cur.mode = "wal"
    db._ensure_wal(cur)
    assert cur.switches == 0


def test_connecting_waits_for_an_exclusive_lock_on_a_fresh_database(tmp_path: Path):
    path = tmp_path / "storyreel.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    engine = db.engine_for(db.sqlite_url(tmp_path))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    holder.close()
    engine.dispose()
