"""Engine events → job progress: weighted by stage, monotonic, logged in order even from many threads."""

from __future__ import annotations

import threading
import time

from storyreel.engine.graph import Node
from storyreel.jobs.progress import PLAN_SHARE, WEIGHTS, JobProgress


def test_progress_is_the_weighted_share_of_finished_nodes() -> None:
    seen: list[tuple[float, dict | None]] = []
    progress = JobProgress(lambda value, stage, node, event: seen.append((value, event)), plans=True, every_s=0)
    progress("plan", Node("plan", "*"), "1")
    progress("done", Node("plan", "project"), "")
    assert seen[-1][0] == PLAN_SHARE  # planning done, media not planned yet
    for stage, count in (("image", 2), ("clip", 2), ("render", 1)):
        progress("plan", Node(stage, "*"), str(count))
    progress("done", Node("image", "a"), "")
    total = 2 * WEIGHTS["image"] + 2 * WEIGHTS["clip"] + WEIGHTS["render"]
    assert seen[-1][0] == round(PLAN_SHARE + (100 - PLAN_SHARE) * WEIGHTS["image"] / total, 1)
    progress("skip", Node("image", "b"), "fresh")  # a fresh node counts as finished
    progress("done", Node("image", "b"), "")  # and is never counted twice
    assert seen[-1][0] == round(PLAN_SHARE + (100 - PLAN_SHARE) * 2 * WEIGHTS["image"] / total, 1)
    for unit in ("a", "b"):
        progress("done", Node("clip", unit), "")
    progress("fail", Node("render", "video"), "boom")
    assert seen[-1][0] == 100.0 and seen[-1][1]["event"] == "fail" and seen[-1][1]["detail"] == "boom"


def test_concurrent_nodes_are_logged_in_the_order_of_their_values() -> None:
    log: list[float] = []

    def report(value, stage, node, event) -> None:  # noqa: ANN001
        time.sleep(0.001)  # a database write
        if event is not None:
            log.append(value)

    progress = JobProgress(report, plans=False, every_s=0)
    progress("plan", Node("clip", "*"), "200")
    threads = [threading.Thread(target=lambda i=i: [progress("done", Node("clip", f"s{i}-{k}"), "") for k in range(25)]) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log == sorted(log) and log[-1] == 100.0 and len(log) == 200
