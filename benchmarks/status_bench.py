"""``status`` at the storyboard's limit (on demand, not part of the test run).

    python benchmarks/status_bench.py [--shots 2000] [--runs 3]

Plans a script of real text (the inputs' scripts repeated) into a storyboard of about ``--shots`` shots
— the limit is :data:`storyreel.core.artifact.MAX_SHOTS` — and times ``storyreel status --json`` (every
node's state and causes, nothing run), median of ``--runs``, beside the same on a 12-shot project.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyreel.core.source import MAX_SCRIPT_CHARS

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"


def cli(*args: str, ws: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "storyreel", *args, "--workspace", str(ws), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def timed_status(project: str, ws: Path, runs: int) -> tuple[float, int]:
    times, nodes = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        nodes = len(cli("status", project, ws=ws)["nodes"])
        times.append(time.perf_counter() - t0)
    return statistics.median(times), nodes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    body = "\n\n".join((INPUTS / name).read_text() for name in ("hare-and-tortoise.txt", "gettysburg-address.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        small = cli("plan", str(INPUTS / "hare-and-tortoise.txt"), ws=ws)
        part = lambda i: f"## Part {i + 1}\n\n{body}"  # noqa: E731 - one chapter per copy (≤ 500 chapters, ≤ 200 shots each)
        per_copy = max(1, cli("plan", str(_write(Path(tmp), "one.txt", part(0))), ws=ws)["shots"])
        copies = max(1, min(args.shots // per_copy, MAX_SCRIPT_CHARS // (len(part(0)) + 2)))  # within the script limit
        text = "\n\n".join(part(i) for i in range(copies))
        big = cli("plan", str(_write(Path(tmp), "big.txt", text)), "--project-id", "big", ws=ws)
        s_small, n_small = timed_status(small["project_id"], ws, args.runs)
        s_big, n_big = timed_status("big", ws, args.runs)
    print("| project | shots | nodes | `status` median |")
    print("|---|---:|---:|---:|")
    print(f"| {small['project_id']} | {small['shots']} | {n_small} | {s_small:.2f} s |")
    print(f"| big (real text repeated) | {big['shots']} | {n_big} | {s_big:.2f} s |")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


if __name__ == "__main__":
    main()
