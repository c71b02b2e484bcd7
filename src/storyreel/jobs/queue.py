"""The job queue of a workspace, on Huey (https://huey.readthedocs.io): it only delivers job IDs; the
state of every job lives in storyreel's ``jobs`` table (:mod:`storyreel.store.jobs`).

- Default: ``SqliteHuey`` in ``<workspace>/queue.db`` — nothing to install or start; the consumer runs
  inside ``storyreel serve`` (:func:`embedded_consumer`) or in ``storyreel worker``.
- ``STORYREEL_QUEUE_URL=redis://host:6379/0``: ``RedisHuey``, so ``storyreel worker`` processes on several
  machines (sharing the workspace folder, and the database through ``STORYREEL_DATABASE_URL``) serve one
  dashboard.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from storyreel.core.cancel import SHUTDOWN
from storyreel.core.settings import Settings
from storyreel.jobs import fanout, runner
from storyreel.store.db import private_files, private_workspace
from storyreel.store.jobs import JobStore

log = logging.getLogger("storyreel.jobs")

QUEUE_NAME = "storyreel"


def queue_for(settings: Settings) -> Huey:
    """The Huey of ``settings`` (one per workspace and queue URL in a process), with the job task registered.
    Raises :class:`ValueError` for a queue URL that is not ``redis://`` / ``rediss://`` / ``unix://``."""
    return _queue(str(settings.workspace.resolve()), settings.queue_url)


@lru_cache(maxsize=8)
def _queue(workspace: str, url: str | None) -> Huey:
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"STORYREEL_QUEUE_URL {url!r}: use redis://HOST:PORT/DB")
        huey: Huey = RedisHuey(QUEUE_NAME, url=url, results=False)
    else:
        private_workspace(Path(workspace))
        huey = SqliteHuey(QUEUE_NAME, filename=str(Path(workspace) / "queue.db"), results=False)
        private_files(Path(workspace) / "queue.db")

    @huey.task(name="storyreel.run_node")
    def run_node(task_id: str) -> None:  # a node of another worker's make (issue 29 item 4)
        fanout.run_node_task(task_id, Path(workspace))

    @huey.task(name="storyreel.run_job")
    def run_job(job_id: str) -> None:  # in this consumer's workspace: each machine has its own path to the shared folder
        runner.run_job(job_id, Path(workspace), offer=run_node)

    huey.storyreel_run_job = run_job  # type: ignore[attr-defined]
    huey.storyreel_run_node = run_node  # type: ignore[attr-defined]
    return huey


def describe_queue(settings: Settings) -> str:
    """One line on the job queue ``settings`` name and how many jobs wait in it, for ``storyreel doctor``. Raises the
    Redis client's error when Redis does not answer, :class:`ValueError` for a queue URL that is not Redis."""
    huey = queue_for(settings)
    if settings.queue_url:
        huey.storage.conn.ping()
        return f"Redis at {settings.queue_url.split('@')[-1]}: answers; {len(huey)} job(s) waiting"
    return f"the workspace's SQLite queue ({settings.workspace}/queue.db): {len(huey)} job(s) waiting"


def enqueue(settings: Settings, job_id: str) -> None:
    """Put ``job_id`` on the queue; a consumer of the same queue runs it in its own workspace path."""
    queue_for(settings).storyreel_run_job(job_id)


class _Consumer(Consumer):
    """Huey's consumer; stopping it also stops the jobs it runs at their next checkpoint (they end
    ``interrupted``, resumable), so Ctrl-C takes seconds, not the rest of a render."""

    def stop(self, graceful: bool = False) -> None:
        SHUTDOWN.set()
        super().stop(graceful=graceful)


class _QuietConsumer(_Consumer):
    """A consumer that leaves the process's signal handlers alone (the web server owns them)."""

    def _set_signal_handlers(self) -> None:  # noqa: D401 - huey's hook
        pass


class Redelivery:
    """The redelivery loop every consumer runs beside its workers (issue 29 item 3): every ``every_s`` seconds (default
    a third of the lease, at most 2 s), jobs whose worker stopped beating are queued again — or failed after their last
    attempt — (:meth:`~storyreel.store.jobs.JobStore.reap`), and those whose backoff is over are put on the queue
    (:meth:`~storyreel.store.jobs.JobStore.due` claims each once, whichever consumer asks first). A tick that fails (the
    database away for a moment) is logged and tried again."""

    def __init__(self, settings: Settings, every_s: float | None = None, *, concurrency: int | None = None) -> None:
        self.settings = settings
        self.every_s = every_s if every_s is not None else min(2.0, settings.job_lease_s / 3)
        self.concurrency = concurrency
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """One round: the IDs put back on the queue."""
        jobs = JobStore.open(self.settings)
        if self.concurrency:  # this consumer is one of the workers a make may fan out to
            self._registry().beat(fanout.process_name(), self.concurrency)
        jobs.reap()
        due = jobs.due()
        for job_id in due:
            log.info("job %s: delivered again (its worker stopped)", job_id)
            enqueue(self.settings, job_id)
        return due

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
                log.warning("redelivery: a round failed", exc_info=True)

    def _registry(self):  # noqa: ANN202 - a WorkerRegistry
        from storyreel.api import Workspace

        return fanout.registry(Workspace(self.settings))

    def start(self) -> None:
        self._stop.clear()
        if self.concurrency:
            try:
                self._registry().beat(fanout.process_name(), self.concurrency)
            except Exception:  # noqa: BLE001 - the next tick registers it
                log.warning("could not register this worker yet", exc_info=True)
        self._thread = threading.Thread(target=self._run, name="storyreel-redelivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.concurrency:
            try:
                self._registry().leave(fanout.process_name())
            except Exception:  # noqa: BLE001 - it ages out of the registry within the lease anyway
                log.warning("could not deregister this worker", exc_info=True)


class EmbeddedConsumer:
    """Huey's consumer in threads of this process (``storyreel serve``): :meth:`start`, :meth:`stop`."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.consumer = _QuietConsumer(queue_for(settings), workers=workers, worker_type="thread", periodic=False,
                                       initial_delay=0.05, max_delay=0.5, backoff=1.1, shutdown_timeout=30)
        self.redelivery = Redelivery(settings, concurrency=workers)
        self.started = False

    def start(self) -> None:
        self.consumer.start()
        self.redelivery.start()
        self.started = True
        log.info("job consumer started (%d worker thread(s))", self.consumer.workers)

    def stop(self) -> None:
        """Stop taking jobs; running ones stop at their next checkpoint and end ``interrupted``."""
        if self.started:
            self.redelivery.stop()
            self.consumer.stop(graceful=True)
            self.started = False
        SHUTDOWN.clear()  # a later consumer in this process (tests) runs jobs again


def run_worker(settings: Settings, concurrency: int, *, health: tuple[str, int] | None = None) -> None:
    """``storyreel worker``: a standalone consumer running ``concurrency`` jobs at once until SIGINT/SIGTERM (Huey's own
    loop and signal handling); with ``health`` (host, port) its endpoint (:mod:`storyreel.jobs.health`) too."""
    from storyreel.jobs.health import HealthServer

    consumer = _Consumer(queue_for(settings), workers=concurrency, worker_type="thread", periodic=False,
                         initial_delay=0.05, max_delay=0.5, backoff=1.1, shutdown_timeout=30)
    logging.getLogger("storyreel").setLevel(logging.INFO)
    if not logging.getLogger().handlers:  # huey's and storyreel's lines on stderr
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    endpoint = None
    if health is not None:
        def alive() -> bool:
            threads = [t for _, t in getattr(consumer, "worker_threads", [])]
            # a thread not started yet is the consumer starting (the endpoint answers from before ``run``): alive
            return bool(threads) and all(t.is_alive() or t.ident is None for t in threads) and not consumer.stop_flag.is_set()

        from storyreel.store.db import describe_database

        endpoint = HealthServer(settings, alive, concurrency, [("database", describe_database), ("queue", describe_queue)],
                                host=health[0], port=health[1])
        endpoint.start()
    log.info("storyreel worker: queue %s, workspace %s, %d job(s) at once%s", settings.queue_url or "sqlite (workspace)",
             settings.workspace, concurrency, f", health on {endpoint.url}" if endpoint else "")
    redelivery = Redelivery(settings, concurrency=concurrency)
    redelivery.start()
    try:
        consumer.run()
    finally:
        redelivery.stop()
        if endpoint is not None:
            endpoint.stop()

