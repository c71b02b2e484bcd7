"""Two storyreel processes at once: on a fresh workspace (the database is created once), and on one
project (one waits for the other, or with --no-wait stops with a clear message); never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import DELIVERY, INPUTS, cli_json

pytestmark = pytest.mark.e2e


def start(*args: str, workspace, env: dict | None = None) -> subprocess.Popen:  # noqa: ANN001
    argv = [sys.executable, "-m", "storyreel", *args, "--workspace", str(workspace), "--json"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_two_first_runs_on_a_fresh_workspace_both_succeed(workspace):
    for _ in range(3):
        procs = [start("plan", str(INPUTS / name), workspace=workspace) for name in ("hare-and-tortoise.txt", "gettysburg-address.txt")]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 and "Traceback" not in err, err
        assert len(cli_json("list", workspace=workspace)["projects"]) == 2


def test_a_second_writer_waits_and_a_no_wait_one_stops_naming_the_holder(workspace):
    # at the 1080p delivery size: the first make still holds the project when the others arrive
    first = start("make", str(INPUTS / "ad-brief.txt"), workspace=workspace, env=DELIVERY)
    time.sleep(1.5)
    second = start("make", str(INPUTS / "ad-brief.txt"), workspace=workspace, env=DELIVERY)
    refused = subprocess.run([sys.executable, "-m", "storyreel", "render", "tide-stone", "--no-wait", "--workspace", str(workspace)],
                             capture_output=True, text=True, timeout=120)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "is busy" in err2 and "waiting" in err2 and "Traceback" not in err1 + err2
    a, b = json.loads(out1), json.loads(out2)
    assert a["executed_count"] > 0 and b["executed_count"] == 0  # the second found the first one's work done
    assert json.loads((Path(a["video_path"]).parent / "qc.json").read_text())["passed"]
    assert refused.returncode == 1 and "busy" in refused.stderr and "make by pid" in refused.stderr and "--wait" in refused.stderr
    assert "Traceback" not in refused.stderr
