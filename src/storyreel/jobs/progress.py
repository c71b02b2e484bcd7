"""Engine progress events → a job's 0–100 progress, current stage and node, and its event log.

Progress is the share of planned nodes finished, each weighted by its stage's typical seconds per node:
measured on ``make`` of the hare-and-tortoise fable, offline, 2 cores (``runs.duration_s`` summed per stage
over 7 shots: clip 49.1 s, image 10.1 s, segment 8.0 s over 6, render 1.9 s, qc 0.5 s, narration 0.1 s);
``audio_segment`` and ``mix`` scaled to ``clip`` by ``render_bench.py``'s per-stage split of 2026-12-02
(12 shots: clip 4.6 s, audio_segment 0.46 s per node; mix 0.3 s).
A ``make`` gives planning the first 5 %; the media stages the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from storyreel.engine.graph import Node

WEIGHTS = {"image_prompt": 0.01, "enhance": 0.01, "reference": 0.2, "stage_image": 1.4, "image": 1.4, "select": 0.05, "manifest": 0.01, "narration": 0.05, "motion_prompt": 0.01, "end_frame": 1.4,
           "motion": 3.0, "audio_segment": 0.7, "clip": 7.0, "segment": 1.3,
           "mix": 0.45, "render": 0.3, "qc": 0.5}
"""Relative cost of one node per stage (unknown stages weigh 1)."""

PLAN_SHARE = 5.0
"""Percent of a ``make`` given to planning."""

FINISHED = ("done", "skip", "attention", "fail")


class JobProgress:
    """A :data:`~storyreel.engine.executor.ProgressFn` that keeps the job's progress.

    ``report(progress, stage, node, event)`` is called with ``event`` (a dict for the job's log) for every
    node that finished, failed or needs attention, and — at most every ``every_s`` seconds — without one
    for starts and skips. Thread-safe (nodes finish in the executor's worker threads)."""

    def __init__(self, report: Callable[[float, str | None, str | None, dict | None], None], *, plans: bool,
                 every_s: float = 0.25) -> None:
        self.report, self.plans, self.every_s = report, plans, every_s
        self.counts: dict[str, int] = {}
        self.finished: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.last = 0.0
        self.value = 0.0

    def __call__(self, event: str, node: Node, detail: str) -> None:
        with self.lock:
            if event == "plan":
                self.counts[node.stage] = int(detail)
                return
            if event in FINISHED:
                self.finished.setdefault(node.stage, set()).add(node.unit)
            self.value = max(self.value, self._progress())  # never goes back (a render re-evaluates its sources)
            logged = event in ("done", "attention", "fail")
            now = time.monotonic()
            if not logged and now - self.last < self.every_s:
                return
            self.last = now
            entry = {"event": event, "node": node.name, "stage": node.stage, "detail": detail[:500]} if logged else None
            self.report(self.value, node.stage, node.name, entry)  # under the lock: the log's order is the values' order

    def _progress(self) -> float:
        media = {s: n for s, n in self.counts.items() if s != "plan"}
        plan_done = 1.0 if "plan" in self.finished or media else 0.0
        total = sum(WEIGHTS.get(s, 1.0) * n for s, n in media.items())
        done = sum(WEIGHTS.get(s, 1.0) * min(len(self.finished.get(s, ())), n) for s, n in media.items())
        share = done / total if total else 0.0
        if not self.plans:
            return round(100.0 * share, 1)
        return round(PLAN_SHARE * plan_done + (100.0 - PLAN_SHARE) * share, 1)
