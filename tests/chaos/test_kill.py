"""Chaos: ``make`` killed with SIGKILL at random moments — before, during and just after the vendor's
answers, mid-encode, mid-commit — and resumed. After every kill nothing final is torn; at the end the
video is whole, no image the vendor made is bought twice, and the ledger's committed + uncertain total
equals what the vendor billed.

The vendor is Replicate: a prediction is journaled the moment its create answers, and one whose create
answer a kill lost is found in the vendor's list and adopted, so a kill can never buy an image twice. (A
vendor that documents no deduplication — OpenAI — pays again for a create a kill interrupted, and the ledger
counts it as uncertain: ``test_uncertain_spend.py``.)"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import cli_json
from .conftest import SHORT, SHORT_GENERATED, assert_artifacts_whole, fable_file
from .vendors import FakeVendors

pytestmark = pytest.mark.chaos
KILLS = 20


def new_take(storyboard: Path, take: int) -> None:
    """Edit one b-roll shot's description: its prompt and image must be made (and bought) again."""
    board = json.loads(storyboard.read_text())
    shots = [s for c in board["chapters"] for s in c["shots"] if s["visual"]["type"] == "b_roll"]
    shot = shots[take % len(shots)]
    shot["visual"]["description"] = shot["visual"]["description"].split(" (take")[0] + f" (take {take})"
    storyboard.write_text(json.dumps(board, indent=2))


def test_make_survives_sigkill_anywhere_and_never_pays_twice(tmp_path):
    fake = FakeVendors(latency_s=0.25, timeout_s=3.0).start()  # slow answers widen the windows around them
    rng = random.Random(2026)
    try:
        ws, source = tmp_path / "ws", fable_file(tmp_path, SHORT)
        env = {**os.environ, "COLUMNS": "200", **fake.settings_env("replicate")}
        argv = [sys.executable, "-m", "storyreel", "make", str(source), "--workspace", str(ws)]
        moments, finished_early, takes = [], 0, 0
        while len(moments) < KILLS and len(moments) + finished_early < 3 * KILLS:
            # early kills land around the image calls, later ones in the encoders and the commits
            delay = rng.uniform(0.4, 2.2) if len(moments) % 2 == 0 else rng.uniform(0.4, 4.5)
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                moments.append(round(delay, 2))
            else:
                finished_early += 1
                assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
                takes += 1
                new_take(ws / "projects" / "hare-chaos" / "storyboard.json", takes)  # more paid work to interrupt
            proc.wait()
            if (ws / "projects" / "hare-chaos").is_dir():
                assert_artifacts_whole(ws / "projects" / "hare-chaos")
        final = cli_json("make", str(source), workspace=ws, env=fake.settings_env("replicate"))
        assert final["status"] == "done"
        root = ws / "projects" / "hare-chaos"
        assert assert_artifacts_whole(root) >= 4 * 3 + 1
        again = cli_json("make", str(source), workspace=ws, env=fake.settings_env("replicate"))
        assert again["executed_count"] == 0
        cost = cli_json("cost", "hare-chaos", workspace=ws, env=fake.settings_env("replicate"))
        prompts = [p for _, p, _ in fake.bill.items]
        print(f"\nkilled {len(moments)} runs at {sorted(moments)} s ({finished_early} finished first); vendor: "
              f"{fake.bill.requests} requests, {len(prompts)} images billed ${fake.bill.total:.6f}; ledger committed "
              f"${cost['spent_usd']:.6f} + uncertain ${cost['uncertain_usd']:.6f} ({cost['uncertain_calls']} calls), "
              f"reserved ${cost['reserved_usd']:.6f}")
        assert len(moments) >= 20
        assert sorted(set(prompts)) == sorted(prompts) and len(prompts) == SHORT_GENERATED + takes  # each image bought once
        assert round(cost["spent_usd"] + cost["uncertain_usd"], 6) == pytest.approx(fake.bill.total, abs=1e-6)
        assert cost["reserved_usd"] == 0
        assert not list(root.rglob(".*.sr-tmp*"))  # temp files of killed writers were cleaned up
    finally:
        fake.stop()
