"""Chaos: a ``make`` with vendor clips killed (SIGKILL) while the vendor is still making them, then run again:
every prediction created before the kill is polled again by its journaled ID (or, when the kill lost its create's
answer, found in the vendor's list and adopted) — none is created twice — and the ledger equals the vendor's bill
with nothing left uncertain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import INPUTS, cli_json
from ..providers.video_fakes import TOKEN, FakeReplicate, vendor_mp4

pytestmark = pytest.mark.chaos

AD = str(INPUTS / "ad-brief.txt")
CLIPS = ("--clips", "replicate:kwaivgi/kling-v3-video")


def test_a_make_killed_while_the_vendor_renders_resumes_its_predictions(httpserver, tmp_path: Path) -> None:
    fake = FakeReplicate(vendor_mp4(tmp_path / "vendor.mp4"), httpserver.url_for("/delivery/clip.mp4"), polls=10**9).serve(httpserver)
    env = {"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN, "STORYREEL_VIDEO_POLL_S": "0.05",
           "STORYREEL_HTTP_BACKOFF_S": "0.01"}
    ws = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-m", "storyreel", "make", AD, *CLIPS, "--workspace", str(ws)],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(fake.creates) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the creates' answers journaled, polling under way
    proc.kill()
    proc.wait(timeout=30)
    before = len(fake.creates)
    assert before >= 2, proc.stderr.read().decode()[-2000:] if proc.stderr else ""

    fake.polls = 1  # the vendor finishes everything now (also what it made while storyreel was down)
    made = cli_json("make", AD, *CLIPS, workspace=ws, env=env)
    assert made["status"] == "done"
    root = ws / "projects" / made["project_id"]
    moving = sorted(p.name.split(".")[0] for p in (root / "clips").glob("*.motion.mp4"))
    inputs = [json.dumps(c["input"], sort_keys=True) for c in fake.creates]
    assert len(fake.creates) == len(moving) and len(set(inputs)) == len(inputs)  # each clip created exactly once
    costs = cli_json("cost", made["project_id"], workspace=ws)
    assert costs["uncertain_calls"] == 0 and costs["spent_usd"] == pytest.approx(fake.bill, abs=1e-6)
    assert json.loads((root / "qc.json").read_text())["passed"]
