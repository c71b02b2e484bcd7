"""Chaos: ``make`` killed with SIGKILL at chosen moments — a create in flight at the vendor, a create just
answered, a download under way, a clip, an audio segment and the video being written, the run records being
committed — and resumed. After every kill nothing final is torn; at the end the video is whole, no image the
vendor made is bought twice, and the ledger never counts less than the vendor billed: what it committed is
at most the bill, and committed + uncertain at least the bill. (A kill between the journal's "sent" mark and
the request leaving the machine can leave an uncertain entry for a create the vendor never saw — unknowable, so
counted; ``test_uncertain_spend.py`` checks the bill to the cent where the outcome is knowable.)

Each kill lands on its moment by watching the vendor's counters and the project's folder (a temp file being
written), not by sleeping: eight kills cover every phase of a make in a fraction of the time random ones took.
Before each run one shot is edited — its description (a new image to buy, its clip, the assembly) or its
narration (its voice, audio segment, clip, the splice) — so every run has the work its kill aims at.

The vendor is Replicate: a prediction is journaled the moment its create answers, and one whose create answer
a kill lost is found in the vendor's list and adopted, so a kill can never buy an image twice. (A vendor that
documents no deduplication — OpenAI — pays again for a create a kill interrupted, and the ledger counts it as
uncertain: ``test_uncertain_spend.py``.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import cli_json
from .conftest import SHORT, SHORT_GENERATED, assert_artifacts_whole, fable_file
from .vendors import FakeVendors

pytestmark = pytest.mark.chaos


def edit(storyboard: Path, take: int, what: str) -> None:
    """Change one b-roll shot's ``description`` (its prompt and image must be made — and bought — again) or its
    ``narration`` (its voice, audio segment and clip)."""
    board = json.loads(storyboard.read_text())
    shots = [s for c in board["chapters"] for s in c["shots"] if s["visual"]["type"] == "b_roll"]
    shot = shots[take % len(shots)]
    if what == "description":
        shot["visual"]["description"] = shot["visual"]["description"].split(" (take")[0] + f" (take {take})"
    else:
        shot["narration"] = shot["narration"].split(" Take")[0] + f" Take {take}."
    storyboard.write_text(json.dumps(board, indent=2))


def writing(root: Path, pattern: str) -> Callable[[], bool]:
    """True while a temp file matching ``pattern`` (relative to the project) is being written."""
    return lambda: any(root.glob(pattern))


def test_make_survives_sigkill_at_every_phase_and_never_pays_twice(tmp_path):
    fake = FakeVendors(latency_s=0.3, timeout_s=3.0).start()  # slow answers widen the windows around them
    try:
        ws, source = tmp_path / "ws", fable_file(tmp_path, SHORT)
        root = ws / "projects" / "hare-chaos"
        env = {**os.environ, "COLUMNS": "200", **fake.settings_env("replicate")}
        argv = [sys.executable, "-m", "storyreel", "make", str(source), "--workspace", str(ws)]
        video = root / "video.mp4"
        moments: list[tuple[str, str, Callable[[], bool]]] = [
            ("create in flight", "description", lambda: fake.creates > len(fake.bill.items)),
            ("create just answered", "description", lambda: len(fake.bill.items) > billed_before),
            ("download under way", "description", lambda: fake.bill.requests > requests_before + 1),
            ("clip being encoded", "description", writing(root, "clips/.*.sr-tmp*")),
            ("audio segment being encoded", "narration", writing(root, "audio/segments/.*.sr-tmp*")),
            ("soundtrack being spliced", "narration", writing(root, "audio/.narration-mix.*.sr-tmp*")),
            ("video being written", "description", writing(root, ".video.*.sr-tmp*")),
            ("video written, QC and records pending", "narration", lambda: video.exists() and video.stat().st_mtime_ns > video_before),
        ]
        killed, takes = [], 0
        for moment, what, ready in moments:
            if root.is_dir():
                takes += 1
                edit(root / "storyboard.json", takes, what)
            billed_before, requests_before = len(fake.bill.items), fake.bill.requests
            video_before = video.stat().st_mtime_ns if video.exists() else 0
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            while not ready() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed.append(moment)
            else:
                assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
            proc.wait()
            proc.stderr.close()
            if root.is_dir():
                assert_artifacts_whole(root)
        final = cli_json("make", str(source), workspace=ws, env=fake.settings_env("replicate"))
        assert final["status"] == "done"
        assert assert_artifacts_whole(root) >= 4 * 3 + 1
        again = cli_json("make", str(source), workspace=ws, env=fake.settings_env("replicate"))
        assert again["executed_count"] == 0
        cost = cli_json("cost", "hare-chaos", workspace=ws, env=fake.settings_env("replicate"))
        prompts = [p for _, p, _ in fake.bill.items]
        manifest = json.loads((root / "images" / "manifest.json").read_text())
        used = {e["prompt"] for e in manifest["images"] if e["status"] == "generated"}
        print(f"\nkilled {len(killed)} runs: {killed}; vendor: {fake.bill.requests} requests, {len(prompts)} images billed "
              f"${fake.bill.total:.6f}; ledger committed ${cost['spent_usd']:.6f} + uncertain ${cost['uncertain_usd']:.6f} "
              f"({cost['uncertain_calls']} calls), reserved ${cost['reserved_usd']:.6f}")
        assert len(killed) >= 7, killed  # the moments were reached and killed, not run past (the splice may be too quick to catch)
        assert sorted(set(prompts)) == sorted(prompts)  # no image was bought twice
        assert len(used) == SHORT_GENERATED and used <= set(prompts)  # every image in the video was bought, once
        assert cost["spent_usd"] <= fake.bill.total + 1e-6 <= cost["spent_usd"] + cost["uncertain_usd"] + 2e-6
        assert cost["reserved_usd"] == 0
        assert not list(root.rglob(".*.sr-tmp*"))  # temp files of killed writers were cleaned up
    finally:
        fake.stop()
