"""A one-shot edit watched as the 540p preview against the same edit delivered at 1080p (issue 28 item 5; on demand,
not part of the test run).

    python benchmarks/edit_preview_bench.py [--input hare-and-tortoise.txt] [--runs 3]

The fable is made at 1080p twice (two workspaces, same bytes). In one the edit updates the delivered video
(``storyreel edit …``), in the other — after a first ``storyreel preview`` of the video as made, as the editor has it open —
the same edit updates the preview (``storyreel edit … --preview``). Each edit is then undone (from the build cache) and
made again, ``--runs`` times; the table gives the medians of the verb's own time (``duration_s``: the CLI's start-up is
the same on both sides and left out) and of the wall time, and the ratio preview / delivery. The edits: a trim (one
shot's narration made again) and a move (no shot made again: the crossfades on both sides and the assembly). The build
cache is set to keep nothing the project does not use (``STORYREEL_CACHE_MB=0``), so every repeat makes the edit anew.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"

EDITS = {"trim": ["trim", "ch02-s01", "--in", "0", "--out", "3"], "move": ["move", "ch03-s01", "--to", "2"]}


def cli(*args: str, ws: Path) -> tuple[dict, float]:
    t0 = time.perf_counter()
    env = {**os.environ, "STORYREEL_CACHE_MB": "0"}
    out = subprocess.run([sys.executable, "-m", "storyreel", *args, "--workspace", str(ws), "--json"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"storyreel {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="hare-and-tortoise.txt")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    source = INPUTS / args.input
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        delivery, preview = Path(tmp) / "delivery", Path(tmp) / "preview"
        made, _ = cli("make", str(source), ws=delivery)
        cli("make", str(source), ws=preview)
        pid = made["project_id"]
        cli("preview", pid, ws=preview)  # the editor opens with the preview of the video as made
        for name, edit in EDITS.items():
            times: dict[str, list[tuple[float, float, int]]] = {"delivery": [], "preview": []}
            for _ in range(args.runs):
                for side, ws, extra in (("delivery", delivery, []), ("preview", preview, ["--preview"])):
                    result, wall = cli("edit", pid, *edit, *extra, ws=ws)
                    times[side].append((result["duration_s"], wall, result["executed_count"]))
                    cli("undo", pid, *extra, ws=ws)  # back to the video as made, from the build cache
            d_work, d_wall = (statistics.median(t[i] for t in times["delivery"]) for i in (0, 1))
            p_work, p_wall = (statistics.median(t[i] for t in times["preview"]) for i in (0, 1))
            rows.append((name, times["delivery"][0][2], d_work, d_wall, times["preview"][0][2], p_work, p_wall))
    print(f"{args.input}, medians of {args.runs} runs")
    print("| edit | delivery nodes | delivery (verb / wall) | preview nodes | preview (verb / wall) | preview / delivery (verb / wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, dn, dw, dwall, pn, pw, pwall in rows:
        print(f"| {name} | {dn} | {dw:.2f} s / {dwall:.2f} s | {pn} | {pw:.2f} s / {pwall:.2f} s | {pw / dw:.0%} / {pwall / dwall:.0%} |")


if __name__ == "__main__":
    main()
