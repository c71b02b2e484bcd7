"""Jobs: the pipeline's verbs run on a queue (Huey), with their state in storyreel's own ``jobs`` table.
This package sits above the facade: it calls :mod:`storyreel.api`, never the other way round.

- :mod:`storyreel.jobs.service` — what callers use: submit, rerun, read, cancel, resume.
- :mod:`storyreel.jobs.queue` — the Huey instance of a workspace (``SqliteHuey`` in the workspace by
  default, ``RedisHuey`` with ``STORYREEL_QUEUE_URL``) and the consumer (embedded in ``storyreel serve``,
  standalone in ``storyreel worker``).
- :mod:`storyreel.jobs.runner` — runs one job: heartbeat, progress, cooperative cancel, final state.
- :mod:`storyreel.jobs.progress` — engine events → a weighted 0–100 progress.
"""
