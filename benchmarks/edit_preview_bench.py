"""One-shot edits watched as the 540p preview against the same edits delivered at 1080p (issue 28 item 5; on demand,
not part of the test run).

    python benchmarks/edit_preview_bench.py [--input hare-and-tortoise.txt] [--runs 3]

The fable is made at 1080p twice (two workspaces, same storyboard). In one each edit updates the delivered video
(``api.edit``, as ``storyreel edit``), in the other — after a first preview of the video as made, as the dashboard's editor
has it — the same edit updates the preview (``preview=True``). Edits run in this one warm process, as in the dashboard's
worker (a CLI call adds the same start-up to both sides). Each edit is undone after it and made again ``--runs`` times
with the build cache keeping nothing the project does not use (``STORYREEL_CACHE_MB=0``), so every repeat does the work
anew; the table gives medians, the nodes each side ran, and the ratio preview / delivery, for the whole edit and for
its picture work (the picture stages' node times: ``clip``, ``segment``, ``render``, ``qc`` against their ``@preview``
nodes) — the rest (new narration, images, the soundtrack) is the same work on both sides.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"

EDITS = {
    "move a shot within its chapter": {"op": "move", "shot_id": "ch01-s03", "to": 2},
    "delete a shot": {"op": "delete", "shot_id": "ch02-s02"},
    "trim: drop its last words": {"op": "trim", "shot_id": "ch02-s01", "in_s": 0, "out_s": 3.0},
    "split a shot": {"op": "split", "shot_id": "ch01-s02", "at": 3.0},
}
PICTURE = ("clip", "segment", "render", "qc")


def picture_seconds(project, invocation: str) -> float:  # noqa: ANN001
    """Seconds the picture stages' nodes of one invocation took (the delivery's or the preview's)."""
    return sum(r.duration_s for r in project.store.for_invocation(invocation)
               if r.status == "success" and r.stage.split("@")[0] in PICTURE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="hare-and-tortoise.txt")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["STORYREEL_CACHE_MB"] = "0"
    from storyreel import api

    source = INPUTS / args.input
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"delivery": Path(tmp) / "delivery", "preview": Path(tmp) / "preview"}
        pid = ""
        for ws in sides.values():
            pid = api.make(input_path=source, workspace=ws).project_id
        api.preview(project=pid, workspace=sides["preview"])  # the editor opens with the preview of the video as made
        project = {side: api.Workspace.open(ws).project(pid) for side, ws in sides.items()}
        for name, fields in EDITS.items():
            samples: dict[str, list[tuple[float, float, int]]] = {"delivery": [], "preview": []}
            for run in range(args.runs + 1):  # the first round warms the process up and is not counted
                for side, ws in sides.items():
                    t0 = time.perf_counter()
                    result = api.edit(project=pid, workspace=ws, preview=side == "preview", **fields)
                    took = time.perf_counter() - t0
                    if run:
                        samples[side].append((took, picture_seconds(project[side], result.invocation), len(result.executed)))
                    api.edit(project=pid, workspace=ws, op="undo", preview=side == "preview")
            med = {side: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v), v[0][2]) for side, v in samples.items()}
            rows.append((name, med["delivery"], med["preview"]))
    print(f"{args.input}: medians of {args.runs} runs, in one warm process (2 cores)")
    print("| one-shot edit | 1080p update (nodes) | its picture work | 540p preview (nodes) | its picture work "
          "| preview / 1080p, whole edit | preview / 1080p, picture work |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (dw, dp, dn), (pw, pp, pn) in rows:
        print(f"| {name} | {dw:.2f} s ({dn}) | {dp:.2f} s | {pw:.2f} s ({pn}) | {pp:.2f} s | {pw / dw:.0%} | {pp / dp:.0%} |")


if __name__ == "__main__":
    main()
