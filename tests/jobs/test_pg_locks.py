"""The project lock through PostgreSQL (issue 29 item 2): two workspaces on separate folders — two machines with no
shared disk — share one database; a verb writing a project in one makes the other wait (or, with ``--no-wait``, stop
with ProjectBusy), and a holder killed with SIGKILL lets go at once (the server drops a dead session's locks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storyreel.api import Workspace
from storyreel.store.locks import ProjectBusy, advisory_key, project_lock
from tests.jobs.helpers import scale_env  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

HOLD = """
import sys, time
from pathlib import Path
from storyreel.api import Workspace
from storyreel.store.locks import project_lock
project = Workspace.open(Path(sys.argv[1])).project("shared-1")
with project_lock(project.paths, verb="make", engine=project.store.sessions.kw["bind"]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_two_machines_share_the_project_lock_through_postgresql(tmp_path: Path, scale_env: dict) -> None:  # noqa: F811
    one, two = Workspace.open(tmp_path / "host-a"), Workspace.open(tmp_path / "host-b")
    a, b = one.project("shared-1"), two.project("shared-1")
    engine_a, engine_b = a.store.sessions.kw["bind"], b.store.sessions.kw["bind"]
    assert engine_a.dialect.name == "postgresql" and advisory_key("project:shared-1") == advisory_key("project:shared-1")
    order: list[str] = []
    with project_lock(a.paths, verb="make", engine=engine_a):
        with pytest.raises(ProjectBusy, match="busy.*on another machine"):
            with project_lock(b.paths, wait=False, verb="make", engine=engine_b):
                pass
        with project_lock(a.paths, verb="pick", engine=engine_a):  # nested in one process: counted, not a deadlock
            order.append("nested")

        def other() -> None:
            with project_lock(b.paths, verb="make", engine=engine_b):
                order.append("b")

        waiter = threading.Thread(target=other)
        waiter.start()
        time.sleep(0.5)
        assert order == ["nested"]  # b waits on the other machine
        order.append("a done")
    waiter.join(timeout=10)
    assert order == ["nested", "a done", "b"]

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "host-a")], stdout=subprocess.PIPE,
                              env={**os.environ, **scale_env}, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ProjectBusy):
            with project_lock(b.paths, wait=False, engine=engine_b):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        deadline = time.monotonic() + 10
        while True:  # the server notices the dead session (its socket closed) and drops its locks
            try:
                with project_lock(b.paths, wait=False, engine=engine_b):
                    break
            except ProjectBusy:
                assert time.monotonic() < deadline, "the dead holder's lock was never dropped"
                time.sleep(0.1)
    finally:
        if holder.poll() is None:
            holder.kill()
