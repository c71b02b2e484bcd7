"""Render benchmark (on demand, not part of the test run): storyreel vs the encode floor vs MoviePy.

    python benchmarks/render_bench.py [--runs 3] [--moviepy-runs 3] [--skip-moviepy] [--long]

Builds a fixed 12-shot, ~60 s, 1080p30 project (chapter JSON with narration from the real inputs,
procedural images, espeak narration) and times, in the same run, medians of ``--runs``:

(a) ``storyreel render PROJECT --force`` (clips + crossfades + audio segments + splice + concat + QC),
    and the same without the QC node (the render proper); each run of (a) is followed by a run of (c) and
    (d), and the ratio reported is the median of the per-run ratios (the machine's speed drifts);
(b) a MoviePy 2.x reference of the same timeline written the way the peer tools write it
    (``moviepy_reference.py``, in its own virtualenv ``benchmarks/.venv-moviepy``);
(c) the encode floor: the very frames storyreel hands its encoder (finished: layers, fades), captured
    to raw yuv420p on disk by one extra render, encoded by one x264 process with the same settings on all
    cores; (d) the design floor: the same frames as the same independent segments, two single-threaded
    x264 processes at once (what the segment design costs at best); and, as before 2026-12-02, (c') the
    output's frames decoded again and encoded (cheaper for x264: the decoded frames lost detail).

It also measures peak RSS (process tree, sampled every 50 ms), a 20-shot project's full build vs a
one-shot edit rebuild, and a no-op ``make``. ``--long`` adds a ~10-minute project (first make, then the render's peak RSS).
Results print as a Markdown table (copy into docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"
sys.path.insert(0, str(ROOT / "src"))

from storyreel.core.artifact import load_storyboard  # noqa: E402
from storyreel.media.ffmpeg import Encoding, ffmpeg_exe  # noqa: E402
from storyreel.media.timeline import CROSSFADE_FRAMES, build_timeline  # noqa: E402

STORYREEL = [sys.executable, "-m", "storyreel"]


def sentences(words_each: int = 13) -> list[str]:
    """Narration lines of ``words_each`` words cut from the real inputs (the Gettysburg Address and the
    fable), so every shot narrates about 5 s."""
    text = " ".join((INPUTS / name).read_text(encoding="utf-8") for name in ("gettysburg-address.txt", "hare-and-tortoise.txt"))
    words = [w for w in text.split() if not w.startswith("#")]
    return [" ".join(words[i:i + words_each]).rstrip(",;:") + "." for i in range(0, len(words) - words_each, words_each)]


def chapters_doc(shots: int, title: str) -> dict:
    """One chapter per shot, one generated visual each, crossfades between all of them; each narration is
    13 words of the real inputs (about 5 s a shot: 12 shots ≈ 60 s)."""
    pool = sentences()
    types = ["b_roll", "diagram", "b_roll", "screen_share"]
    return {
        "schema_version": "1.0", "title": title, "language": "en",
        "chapters": [
            {
                "chapter_id": f"ch{i + 1:02d}", "title": f"Part {i + 1}", "order": i + 1,
                "narration": {"text": pool[i % len(pool)]},
                "visuals": [{"type": types[i % len(types)], "description": pool[i % len(pool)]}],
                "overlays": [], "transitions": {"in": "cut", "out": "crossfade"},
            }
            for i in range(shots)
        ],
    }


class PeakRss:
    """Peak resident memory of a process tree (the process and all descendants, summed)."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(argv: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS bytes of the process tree, stdout. Raises on failure.

    The command runs as on a user's machine: ``PYTHONDONTWRITEBYTECODE`` (set in some sandboxes) is
    dropped, so Python keeps its bytecode cache and every run does not compile storyreel again (≈ 0.3 s)."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    rss = PeakRss(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    peak = rss.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, peak, out


def make_project(ws: Path, shots: int, title: str) -> tuple[str, Path, float]:
    doc = ws / f"{title}.json"
    doc.write_text(json.dumps(chapters_doc(shots, title.replace("-", " ").title()), indent=1), encoding="utf-8")
    wall, _, out = timed([*STORYREEL, "make", str(doc), "--json", "--workspace", str(ws)])
    result = json.loads(out)
    return result["project_id"], Path(result["storyboard_path"]).parent, wall


def node_seconds(ws: Path, project: str, invocation_nodes: list[str]) -> dict[str, float]:
    """Per-stage summed node durations of the latest successful runs (from the run records)."""
    from storyreel.store.db import session_factory, sqlite_url
    from storyreel.store.records import RunStore

    store = RunStore(session_factory(sqlite_url(ws)))
    latest = store.latest_success(project)
    sums: dict[str, float] = {}
    for (stage, unit), run in latest.items():
        if f"{stage}[{unit}]" in invocation_nodes:
            sums[stage] = sums.get(stage, 0.0) + run.duration_s
    return sums


CAPTURE = """
import sys, threading
from pathlib import Path
import storyreel.media.encoder as enc
out_dir = Path(sys.argv[1])
local = threading.local()
finish, encode_segment = enc._finish, enc.encode_segment
def capturing_segment(frames, layers, out, *args, **kw):
    name = Path(out).name.split(".")[1]  # atomic temp name: .<unit>.<random>.sr-tmp.mp4
    with open(out_dir / f"{name}.yuv", "wb") as local.sink:
        return encode_segment(frames, layers, out, *args, **kw)
def capturing_finish(frame, *args):
    black = finish(frame, *args)
    local.sink.write(memoryview(frame).cast("B"))
    return black
enc._finish, enc.encode_segment = capturing_finish, capturing_segment
from storyreel.cli import app
sys.argv = ["storyreel", *sys.argv[2:]]
app()
"""


def capture_encoder_input(ws: Path, project: str, out_dir: Path) -> list[tuple[Path, int]]:
    """One more ``render --force`` that also writes every segment's finished frames (what x264 receives) to
    ``out_dir/<unit>.yuv``; returns (file, frames) in play order (from the concat list)."""
    import re

    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", CAPTURE, str(out_dir), "render", project, "--force", "--json", "--workspace", str(ws)],
                   check=True, stdout=subprocess.DEVNULL)
    listing = (ws / "projects" / project / "work" / "segments.txt").read_text()
    units = [Path(p).stem for p in re.findall(r"^file '(.+)'$", listing, re.M)]
    frame = 1920 * 1080 * 3 // 2
    return [(out_dir / f"{u}.yuv", (out_dir / f"{u}.yuv").stat().st_size // frame) for u in units]


def x264_args(threads: int | None = None) -> list[str]:
    """storyreel's x264 settings (preset, CRF, lookahead, B-frames, the CPU cap of media/encoder.py)."""
    from storyreel.media.encoder import x264_cpu_param

    e = Encoding()
    params = ":".join(p for p in (e.x264_params, x264_cpu_param()) if p)
    return ["-c:v", "libx264", "-preset", e.preset, "-crf", str(e.crf), *(["-threads", str(threads)] if threads else []),
            "-x264-params", params, "-pix_fmt", "yuv420p"]


def raw_input_args(path: str) -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1920x1080", "-r", "30", "-i", path]


def design_floor(segments: list[tuple[Path, int]], out_dir: Path, workers: int = 2) -> tuple[float, float]:
    """(wall s, CPU s): the segments encoded as storyreel's pool does — ``workers`` single-threaded x264
    processes at once, longest first — from raw files."""
    import resource
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[Path, int]) -> None:
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", *raw_input_args(str(item[0])), *x264_args(1),
                        str(out_dir / f"{item[0].stem}.mp4")], check=True)

    for path, _ in segments:  # page cache warm
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, sorted(segments, key=lambda s: -s[1])))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def moviepy_venv() -> Path:
    venv = HERE / ".venv-moviepy"
    py = venv / "bin" / "python"
    if not py.exists():
        if venv.is_symlink() or venv.is_file():  # a dangling link or a stray file: start over
            venv.unlink()
        elif venv.exists():
            shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "moviepy==2.2.1"], check=True)
    return py


def moviepy_spec(root: Path, out: Path, mix: Path) -> Path:
    board = load_storyboard(root / "storyboard.json")
    durations = {s.shot_id: json.loads((root / "audio" / f"{s.shot_id}.json").read_text())["duration_s"] for _, s in board.shots()}
    tl = build_timeline(board, durations)
    xf = CROSSFADE_FRAMES / tl.fps
    shots = []
    for i, s in enumerate(tl.shots):
        kb = s.camera
        # with padding = -crossfade each clip overlaps the next by one crossfade: slot + crossfade long
        extra = xf if i < len(tl.shots) - 1 else 0.0
        shots.append({
            "image": str(root / "images" / f"{s.shot_id}.png"), "duration_s": s.slot / tl.fps + extra,
            "zoom": [kb.z0, kb.z1], "fx": [kb.fx0, kb.fx1], "fy": [kb.fy0, kb.fy1],
        })
    spec = {"width": tl.width, "height": tl.height, "fps": tl.fps, "crossfade_s": xf, "shots": shots,
            "audio": str(mix), "out": str(out), "threads": os.cpu_count() or 2}
    path = out.with_suffix(".json")
    path.write_text(json.dumps(spec, indent=1))
    return path


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--moviepy-runs", type=int, default=3)
    ap.add_argument("--skip-moviepy", action="store_true")
    ap.add_argument("--long", action="store_true", help="also measure a ~10-minute render's peak RSS")
    ap.add_argument("--keep", action="store_true", help="keep the workspace")
    args = ap.parse_args()

    ws = Path(tempfile.mkdtemp(prefix="storyreel-bench-"))
    print(f"workspace {ws}", file=sys.stderr)
    results: dict[str, object] = {}
    pid, root, first_make = make_project(ws, 12, "bench-twelve")
    facts_dur = json.loads((root / "qc.json").read_text())
    results["first_make_s"] = first_make

    # (c) the encode floor: the frames storyreel hands x264, captured raw, one x264 process on all cores;
    # (d) the design floor: the same frames as the same segments, two single-threaded encoders at once.
    # (a) storyreel render --force. Run i of (a), (c) and (d) follow one another, so a machine that slows
    # down or speeds up over the minutes of the bench moves the render and its floors together; the
    # ratio reported is the median of the per-run ratios.
    captured = capture_encoder_input(ws, pid, ws / "captured")
    concat = "concat:" + "|".join(str(p) for p, _ in captured)
    walls, rss, proper, splits = [], [], [], []
    floor_walls, floor_rss, design_walls, design_cpu = [], [], [], []
    for _ in range(args.runs):
        wall, peak, out = timed([*STORYREEL, "render", pid, "--force", "--json", "--workspace", str(ws)])
        nodes = json.loads(out)["executed_nodes"]
        per = node_seconds(ws, pid, nodes)
        walls.append(wall)
        rss.append(peak)
        proper.append(wall - per.get("qc", 0.0))
        splits.append(per)
        for p, _n in captured:
            subprocess.run(["cat", str(p)], stdout=subprocess.DEVNULL, check=True)  # page cache warm
        wall, peak, _ = timed([ffmpeg_exe(), "-loglevel", "error", "-y", *raw_input_args(concat), *x264_args(), str(ws / "floor.mp4")])
        floor_walls.append(wall)
        floor_rss.append(peak)
        wall, cpu = design_floor(captured, ws / "captured")
        design_walls.append(wall)
        design_cpu.append(cpu)
    results["render_s"], results["render_no_qc_s"], results["render_rss_mb"] = median(walls), median(proper), max(rss) / 2**20
    results["render_ratio"] = median([a / c for a, c in zip(walls, floor_walls, strict=True)])
    results["render_design_ratio"] = median([a / d for a, d in zip(walls, design_walls, strict=True)])
    results["runs"] = [(round(a, 1), round(c, 1), round(d, 1)) for a, c, d in zip(walls, floor_walls, design_walls, strict=True)]
    results["split"] = {stage: median([p.get(stage, 0.0) for p in splits]) for stage in splits[0]}
    duration = next(c for c in facts_dur["checks"] if c["name"] == "duration")["measured"]
    results["video"] = duration
    for p, _n in captured:
        p.unlink()
    results["floor_s"], results["floor_rss_mb"] = median(floor_walls), max(floor_rss) / 2**20
    results["design_floor_s"], results["design_floor_cpu_s"] = median(design_walls), median(design_cpu)
    # (c') the output's frames decoded again, one x264 process (the floor as measured before 2026-12-02)
    raw = ws / "frames.yuv"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(root / "video.mp4"), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)], check=True)
    decoded_walls = []
    for _ in range(args.runs):
        subprocess.run(["cat", str(raw)], stdout=subprocess.DEVNULL, check=True)
        decoded_walls.append(timed([ffmpeg_exe(), "-loglevel", "error", "-y", *raw_input_args(str(raw)), *x264_args(), str(ws / "floor.mp4")])[0])
    raw.unlink()
    results["decoded_floor_s"] = median(decoded_walls)

    # (b) MoviePy reference
    if not args.skip_moviepy:
        py = moviepy_venv()
        mix = ws / "mix.m4a"
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(root / "video.mp4"), "-vn", "-c:a", "copy", str(mix)], check=True)
        spec = moviepy_spec(root, ws / "moviepy.mp4", mix)
        mp_walls, mp_rss = [], []
        for _ in range(args.moviepy_runs):
            wall, peak, _ = timed([str(py), str(HERE / "moviepy_reference.py"), str(spec)])
            mp_walls.append(wall)
            mp_rss.append(peak)
            print(f"moviepy run: {wall:.1f} s, {peak / 2**20:.0f} MB", file=sys.stderr)
        results["moviepy_s"], results["moviepy_rss_mb"] = median(mp_walls), max(mp_rss) / 2**20

    # incremental: a 20-shot project, one shot edited; then a no-op make
    pid20, root20, full20 = make_project(ws, 20, "bench-twenty")
    board = root20 / "storyboard.json"
    doc20 = ws / "bench-twenty.json"
    edits = []
    for i, line in enumerate(["Slow and steady wins the race, said the tortoise.", "The hare slept by the road while the tortoise walked on.",
                              "We can not dedicate, we can not consecrate this ground."][: max(1, args.runs)]):
        data = json.loads(board.read_text())
        data["chapters"][8 + i]["shots"][0]["narration"] = line  # a different shot each time
        board.write_text(json.dumps(data, indent=2))
        edit_wall, _, out = timed([*STORYREEL, "make", str(doc20), "--json", "--workspace", str(ws)])
        edits.append(edit_wall)
        results["edit_nodes"] = json.loads(out)["executed_count"]
    edit_wall = median(edits)
    noop = [timed([*STORYREEL, "make", str(doc20), "--json", "--workspace", str(ws)])[0] for _ in range(args.runs)]
    full_eval = []
    for _ in range(args.runs):  # the same no-op without the up-to-date stamp: the full evaluation
        shutil.rmtree(ws / ".stamps", ignore_errors=True)
        full_eval.append(timed([*STORYREEL, "make", str(doc20), "--json", "--workspace", str(ws)])[0])
    results.update(full20_s=full20, edit20_s=edit_wall, noop_s=median(noop), noop_eval_s=median(full_eval))

    if args.long:  # a ~10-minute video: its first make (every stage), then the render's own peak RSS
        doc = ws / "bench-long.json"
        doc.write_text(json.dumps(chapters_doc(120, "Bench Long"), indent=1), encoding="utf-8")
        wall, peak, out = timed([*STORYREEL, "make", str(doc), "--json", "--workspace", str(ws)])
        made = json.loads(out)
        results["long_make_s"], results["long_make_rss_mb"] = wall, peak / 2**20
        wall, peak, _ = timed([*STORYREEL, "render", made["project_id"], "--force", "--json", "--workspace", str(ws)])
        q = json.loads((Path(made["storyboard_path"]).parent / "qc.json").read_text())
        results["long_video"] = next(c for c in q["checks"] if c["name"] == "duration")["measured"]
        results["long_render_s"], results["long_rss_mb"] = wall, peak / 2**20

    report(results, args)
    if not args.keep:
        shutil.rmtree(ws, ignore_errors=True)


def report(r: dict, args: argparse.Namespace) -> None:
    floor = r["floor_s"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {Path(ffmpeg_exe()).name}; medians of {args.runs} runs"
        + ("" if args.skip_moviepy else f" ({args.moviepy_runs} for MoviePy)"),
        f"Project: 12 shots, {r['video']}, 1080p30, Ken Burns on every shot, 0.5 s crossfades; first make {r['first_make_s']:.1f} s",
        "",
        "| measurement | wall s | × floor | peak RSS MB | target |",
        "|---|---|---|---|---|",
        f"| (c) encode floor: one x264 process (all cores) on the frames storyreel encodes | {floor:.1f} | 1.00 | {r['floor_rss_mb']:.0f} | |",
        f"| (d) design floor: the same frames as the same segments, 2 single-threaded x264 at once "
        f"(CPU {r['design_floor_cpu_s']:.1f} s) | {r['design_floor_s']:.1f} | {r['design_floor_s'] / floor:.2f} | | |",
        f"| (c') the output decoded again, one x264 process (the floor as measured until 2026-12-02) | {r['decoded_floor_s']:.1f} | "
        f"{r['decoded_floor_s'] / floor:.2f} | | |",
        f"| (a) `storyreel render --force` without the QC pass | {r['render_no_qc_s']:.1f} | {r['render_no_qc_s'] / floor:.2f} | | ≤ 1.25× |",
        f"| (a) `storyreel render --force` incl. QC (demux, audio EBU R128; black frames probed per segment) | {r['render_s']:.1f} | {r['render_s'] / floor:.2f} | {r['render_rss_mb']:.0f} | |",
        f"| (a) / (c) run by run (each render beside its floors), median of the ratios | | **{r['render_ratio']:.2f}** | | ≤ 1.25× |",
        f"| (a) / (d) run by run, median of the ratios | | {r['render_design_ratio']:.2f} | | |",
    ]
    if "moviepy_s" in r:
        lines.append(
            f"| (b) MoviePy 2.2.1 reference | {r['moviepy_s']:.1f} | {r['moviepy_s'] / floor:.2f} | {r['moviepy_rss_mb']:.0f} | "
            f"storyreel ≥ 8× faster: {r['moviepy_s'] / r['render_s']:.1f}× |"
        )
    lines += [
        f"| 20-shot project: full build (first make) | {r['full20_s']:.1f} | | | |",
        f"| 20-shot project: one shot's narration edited, rebuild ({r['edit_nodes']} nodes) | {r['edit20_s']:.1f} | "
        f"{100 * r['edit20_s'] / r['full20_s']:.0f} % of full | | ≤ 12 % |",
        f"| no-op `make` (whole CLI process, answered from the up-to-date stamp) | {r['noop_s']:.2f} | | | ≤ 1 s |",
        f"| no-op `make` without the stamp (full evaluation of every node) | {r['noop_eval_s']:.2f} | | | |",
    ]
    if "long_rss_mb" in r:
        lines.append(f"| ~10-minute video ({r['long_video']}): `render --force` | {r['long_render_s']:.1f} | | {r['long_rss_mb']:.0f} | ≤ 600 MB |")
        lines.append(f"| the same project's first `make` (every stage) | {r['long_make_s']:.1f} | | {r['long_make_rss_mb']:.0f} | |")
    lines += ["", "Runs (a, c, d wall s): " + ", ".join(f"{a} / {c} / {d}" for a, c, d in r["runs"])]
    lines += ["", "Per stage, `render --force` (summed node seconds from the run records, medians; nodes of one pool overlap):", "",
              "| stage | node seconds |", "|---|---|"]
    lines += [f"| {stage} | {sec:.1f} |" for stage, sec in r["split"].items()]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
