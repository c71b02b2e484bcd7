"""Scoring time per candidate (on demand, not part of the test run).

    python benchmarks/scorer_bench.py [--runs 5]

Makes the offline images of two real inputs (the fable and the Turkish chapter JSON) and times
``local:technical`` on each 1080p candidate, file decode included and excluded. Issue 13's target: ≤ 60 ms
per 1080p candidate on this machine.
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

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"
sys.path.insert(0, str(ROOT / "src"))

from storyreel.providers.scorer.local_technical import LocalTechnical  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="storyreel-scorer-"))
    paths: list[Path] = []
    for name in ("hare-and-tortoise.txt", "chapters-bitcoin-tr.json"):
        cli = [sys.executable, "-m", "storyreel"]
        plan = json.loads(subprocess.run([*cli, "plan", str(INPUTS / name), "--json", "--workspace", str(ws)],
                                         check=True, capture_output=True, text=True).stdout)
        subprocess.run([*cli, "imagegen", plan["project_id"], "--json", "--workspace", str(ws)], check=True, capture_output=True)
        paths += sorted((ws / "projects" / plan["project_id"] / "images").glob("*.png"))
    scorer = LocalTechnical()
    arrays = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    with_decode, pixels_only = [], []
    for _ in range(args.runs):
        for path, rgb in zip(paths, arrays, strict=True):
            t0 = time.perf_counter()
            scorer.score(path)
            with_decode.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            scorer.score(rgb)
            pixels_only.append((time.perf_counter() - t0) * 1000)
    size = "x".join(map(str, arrays[0].shape[1::-1]))
    print(f"{len(paths)} candidates ({size}), {args.runs} runs each")
    print("| local:technical per candidate | median ms | p95 ms | target |\n|---|---|---|---|")
    for label, xs in (("from the PNG file (decode included)", with_decode), ("from decoded pixels", pixels_only)):
        xs.sort()
        print(f"| {label} | {statistics.median(xs):.1f} | {xs[int(0.95 * (len(xs) - 1))]:.1f} | ≤ 60 ms |")


if __name__ == "__main__":
    main()
