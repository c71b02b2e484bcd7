"""A worker's health endpoint (issue 29 item 5): what an orchestrator (Kubernetes probes, ECS/Nomad health checks, a
load balancer) asks a ``storyreel worker --health-port PORT`` process.

- ``GET /healthz`` — liveness: 200 while the consumer's worker threads run, else 503 (restart the process).
- ``GET /readyz`` — readiness: 200 when the database and the queue answer too, else 503 naming what failed.

Both answer JSON: the worker's name (``host:pid``), its concurrency, the jobs it is running now (ID, kind, project,
stage, progress) and each check. Served by the standard library's threaded HTTP server on a thread of its own; bind it
to a private interface (default 127.0.0.1, ``--health-host 0.0.0.0`` inside a container) — it shows job IDs.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from storyreel.core.settings import Settings
from storyreel.store.jobs import JobStore

log = logging.getLogger("storyreel.jobs")


class HealthServer:
    """The endpoint of one worker process. ``alive()`` says whether its consumer's threads run; ``probes`` are the
    readiness checks, (name, probe(settings) → one line, raising when it fails)."""

    def __init__(self, settings: Settings, alive: Callable[[], bool], concurrency: int,
                 probes: list[tuple[str, Callable[[Settings], str]]], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = settings
        self.probes = probes
        self.alive = alive
        self.concurrency = concurrency
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                if self.path.split("?")[0] not in ("/healthz", "/readyz"):
                    self._answer(404, {"error": "no such path: use /healthz or /readyz"})
                    return
                status, body = server.report(ready=self.path.startswith("/readyz"))
                self._answer(status, body)

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the http.server API
                log.debug("health: " + format, *args)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def report(self, *, ready: bool) -> tuple[int, dict]:
        """(HTTP status, JSON body) of ``/readyz`` (``ready``) or ``/healthz``."""
        checks = {"consumer": "running" if self.alive() else "stopped"}
        ok = checks["consumer"] == "running"
        running: list[dict] = []
        if ready:
            for name, probe in self.probes:
                try:
                    checks[name] = probe(self.settings)
                except Exception as exc:  # noqa: BLE001 - a probe reports whatever the driver raised
                    checks[name] = f"failed: {type(exc).__name__}: {str(exc)[:200]}"
                    ok = False
            if ok:
                try:
                    running = [{"id": j.id, "kind": j.kind, "project": j.project_id, "stage": j.stage, "progress": j.progress}
                               for j in JobStore.open(self.settings).running_on(self.name)]
                except Exception:  # noqa: BLE001 - the database answered a moment ago; the list is a nicety
                    log.warning("health: could not list the running jobs", exc_info=True)
        body = {"status": "ok" if ok else "failing", "worker": self.name, "concurrency": self.concurrency,
                "running": running, "checks": checks}
        return (200 if ok else 503), body

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="storyreel-health", daemon=True)
        self._thread.start()
        log.info("health endpoint on %s (/healthz, /readyz)", self.url)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
