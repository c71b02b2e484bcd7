"""Offline b-roll with pictures (on demand, not part of the test run).

    python benchmarks/broll_bench.py [--runs 5]

Plans the four real inputs, then for every b-roll shot whose narration names something the artwork shows,
times ``render_card`` (the 1080p still in memory: background, motif, matched OpenMoji art rasterized by
resvg and composed) and writing it as PNG, medians over ``--runs``; also the share of b-roll shots with a
subject and the size of the vendored artwork. Prints a Markdown table (docs/performance.md).
"""

from __future__ import annotations

import argparse
import io
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
NAMES = ["hare-and-tortoise.txt", "gettysburg-address.txt", "ad-brief.txt", "chapters-bitcoin-tr.json"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from storyreel.core.artifact import load_storyboard
    from storyreel.providers.image.art import PACK, art_pack
    from storyreel.providers.image.local_cards import render_card
    from storyreel.stages.image import ImageStage

    art_pack()
    render_times, write_times, shown, total = [], [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        for name in NAMES:
            subprocess.run([sys.executable, "-m", "storyreel", "plan", str(INPUTS / name), "--workspace", str(ws)], check=True,
                           capture_output=True)
        for board_path in sorted((ws / "projects").glob("*/storyboard.json")):
            board = load_storyboard(board_path)
            ctx = _ctx(board, ws)
            for _, shot in board.shots():
                if shot.visual.type != "b_roll":
                    continue
                total += 1
                request = ImageStage().request(ctx, shot.shot_id)
                from storyreel.providers.image.local_cards import broll_subjects

                if not broll_subjects(request):
                    continue
                shown += 1
                render_card(request)  # warm: the artwork's first rasterization
                rs, ws_ = [], []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    image = render_card(request)
                    t1 = time.perf_counter()
                    image.save(io.BytesIO(), format="PNG", compress_level=1)
                    rs.append(t1 - t0)
                    ws_.append(time.perf_counter() - t1)
                render_times.append(statistics.median(rs))
                write_times.append(statistics.median(ws_))
    print("| matched b-roll shots | render (median) | render (max) | + PNG write (median) | art pack |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {shown} of {total} ({shown / total:.0%}) | {statistics.median(render_times):.3f} s | {max(render_times):.3f} s | "
          f"{statistics.median(write_times):.3f} s | {PACK.stat().st_size / 1e6:.2f} MB |")


def _ctx(board, ws: Path):  # noqa: ANN001, ANN202
    from storyreel.api.project import context, settings_for

    return context(board, settings_for(ws))


if __name__ == "__main__":
    main()
