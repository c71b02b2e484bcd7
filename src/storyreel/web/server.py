"""``storyreel serve``: the dashboard on uvicorn, with the embedded job consumer.

``processes`` > 1 runs that many uvicorn worker processes (requests are CPU-bound Python: one process uses
one core); exactly one of them — the one holding ``<workspace>/consumer.lock`` — runs the job consumer.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("storyreel.web")

_ENV_WORKSPACE, _ENV_WORKERS = "STORYREEL_SERVE_WORKSPACE", "STORYREEL_SERVE_JOB_WORKERS"


def default_processes() -> int:
    """One HTTP process per core, at most 4 (each holds ≈ 100 MB)."""
    return max(1, min(4, os.cpu_count() or 1))


def app_from_env():  # noqa: ANN201 - uvicorn's factory for worker processes
    from storyreel.web.app import create_app

    workspace = os.environ.get(_ENV_WORKSPACE)
    return create_app(Path(workspace) if workspace else None, workers=int(os.environ.get(_ENV_WORKERS, "1")))


def serve(*, workspace: Path | None, host: str, port: int, workers: int, processes: int | None = None) -> None:
    """Serve the dashboard of ``workspace`` on ``host:port`` until Ctrl-C; ``workers`` jobs run at once in
    this server (0: only ``storyreel worker`` processes run them); ``processes`` HTTP worker processes
    (default: one per core, up to 4). Binds 127.0.0.1 unless told otherwise."""
    import uvicorn

    from storyreel import api

    settings = api.Workspace.open(workspace).settings
    api.Workspace.private(settings.workspace)
    processes = processes or default_processes()
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: anyone who can reach this address sees the login page; put HTTPS in front "
                    "(and set STORYREEL_COOKIE_SECURE=1)", host)
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    print(f"storyreel dashboard: http://{shown}:{port}/  (workspace {settings.workspace}; {processes} process(es), "
          f"{workers} job worker(s); Ctrl-C stops)", flush=True)
    # X-Forwarded-For is honoured by the app itself, from STORYREEL_TRUSTED_PROXIES only (web/app.py)
    options = {"host": host, "port": port, "log_level": "warning", "proxy_headers": False}
    if processes == 1:
        from storyreel.web.app import create_app

        uvicorn.run(create_app(settings.workspace, workers=workers), **options)
        return
    os.environ[_ENV_WORKSPACE] = str(settings.workspace)
    os.environ[_ENV_WORKERS] = str(workers)
    uvicorn.run("storyreel.web.server:app_from_env", factory=True, workers=processes, **options)
