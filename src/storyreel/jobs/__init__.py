"""Jobs: the pipeline's verbs run on a queue (Huey), with their state in storyreel's own ``jobs`` table.

- :mod:`storyreel.jobs.queue` — the Huey instance of a workspace (``SqliteHuey`` in the workspace by
  default, ``RedisHuey`` with ``STORYREEL_QUEUE_URL``) and the consumer (embedded in ``storyreel serve``,
  standalone in ``storyreel worker``).
- :mod:`storyreel.jobs.runner` — runs one job: heartbeat, progress, cooperative cancel, final state.
- :mod:`storyreel.jobs.progress` — engine events → a weighted 0–100 progress.

Callers use :mod:`storyreel.api.jobs` (submit, cancel, resume, read).
"""
