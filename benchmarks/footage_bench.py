"""What storyreel adds to a vendor's clip (issue 26): per second of clip, the time to measure its colour grade,
then to decode it, fit it to the frame, grade it and encode the shot's segment — against the same segment drawn
as a Ken Burns move on a still (the offline default) in the same run.

The "vendor" clip is made here with ffmpeg (a moving test pattern with a sound track, 24 fps, at the vendor's
usual 1280×720 for a 16:9 project), ``--seconds`` long; the segment is encoded at ``--resolution`` with the
project's encoder settings (libx264 veryfast, CRF 20). Each figure is the median of ``--runs``.

Run: ``python benchmarks/footage_bench.py [--seconds 5] [--resolution 1080p] [--runs 3]``."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from storyreel.core.artifact import frame_size
    from storyreel.media.encoder import encode_segment
    from storyreel.media.ffmpeg import Encoding, default_threads, ffmpeg_exe
    from storyreel.media.footage import FootageFrames
    from storyreel.media.grade import match
    from storyreel.media.motion import ShotFrames, body_frames, load_still
    from storyreel.media.timeline import FPS, KenBurns, ShotTiming

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--resolution", default="1080p")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    width, height = frame_size("16:9", args.resolution)
    frames = args.seconds * FPS
    timing = ShotTiming("s", 0, 0, frames, 0, 0, 0.45, args.seconds - 1.0, KenBurns.for_move("zoom_in"))
    enc = Encoding(threads=default_threads(1))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        vendor = folder / "vendor.mp4"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24", "-f", "lavfi", "-i", "sine",
                        "-t", str(args.seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(vendor)], check=True)
        still = folder / "still.png"
        Image.new("RGB", (1920, 1080), (40, 90, 150)).save(still)
        times: dict[str, list[float]] = {"grade (measure once)": [], "footage segment (decode, fit, grade, encode)": [],
                                         "Ken Burns segment (warp, encode)": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            grade, _ = match(vendor, still)
            times["grade (measure once)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            source = FootageFrames(vendor, timing, width, height, grade=grade)
            encode_segment(body_frames(source), [], folder / "footage.mp4", enc, width, height, frames, what="footage")
            source.close()
            times["footage segment (decode, fit, grade, encode)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            kb = ShotFrames(load_still(still), timing, width, height)
            encode_segment(body_frames(kb), [], folder / "kenburns.mp4", enc, width, height, frames, what="ken burns")
            times["Ken Burns segment (warp, encode)"].append(time.perf_counter() - t0)
    report = {"seconds_of_clip": args.seconds, "resolution": args.resolution,
              "per_second_of_clip": {k: round(statistics.median(v) / args.seconds, 3) for k, v in times.items()}}
    footage = report["per_second_of_clip"]["footage segment (decode, fit, grade, encode)"]
    report["footage_vs_ken_burns"] = round(footage / report["per_second_of_clip"]["Ken Burns segment (warp, encode)"], 2)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
