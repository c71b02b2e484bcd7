"""Best-of-N wall time under a provider concurrency limit (on demand, not part of the test run).

    python benchmarks/candidates_bench.py [--candidates 4] [--latency 1.0] [--concurrency 4] [--runs 3]

A loopback server speaks the OpenAI Images wire format and answers every call after ``--latency``
seconds with ``n`` PNGs at the size asked for (textured like a photograph: ≈ 1.5 MB each at 1536×864, as a vendor's). ``storyreel imagegen`` of the Turkish chapter JSON runs with
``--image-provider openai:gpt-image-2 --candidates N`` and ``STORYREEL_IMAGE_CONCURRENCY`` = the limit, every
shot routed to the vendor (the storyboard's ``template_types`` emptied). OpenAI takes a shot's candidates in
one call (``n``); ``--no-batch`` (``STORYREEL_IMAGE_BATCH=0``) asks for them one call each, as for a vendor
without a native batch.
The image stage's span (first image node started → last finished, from the run records) is compared with
the ideal for that many calls at that limit: ``ceil(calls / limit) × latency`` (which takes receiving the
images as free), and with the transport floor measured in the same run: a bare client making the same
calls at the same limit and decoding the answers (:func:`transport_floor`). Issue 13's target: ≤ 1.15×.
The server also records the most calls it ever had in flight (must not exceed the limit). The ``select``
stage that follows (scoring the N candidates, fitting the chosen one to the frame) is reported beside it.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"


class Vendor(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.latency, self.calls, self.in_flight, self.peak = latency, 0, 0, 0
        self.asked: list[tuple[int, str]] = []  # (n, size) of every call, for the transport floor
        self.lock = threading.Lock()
        self.pngs: dict[str, str] = {}
        for size in ("1536x864", "864x1536", "1536x1536"):  # the sizes storyreel asks for (16:9, 9:16, 1:1), made before the clock runs
            self.png(size)

    def png(self, size: str) -> str:
        """A photograph-like PNG (gradient plus grain) of ``size`` (``WxH``), base64, made once per size."""
        with self.lock:
            if size not in self.pngs:
                w, h = (int(v) for v in size.split("x"))
                sky = Image.linear_gradient("L").resize((w, h)).convert("RGB")
                grain = Image.effect_noise((w, h), 24).convert("RGB")
                buf = io.BytesIO()
                Image.blend(sky, grain, 0.35).save(buf, "PNG")
                self.pngs[size] = base64.b64encode(buf.getvalue()).decode()
            return self.pngs[size]


class Handler(BaseHTTPRequestHandler):
    server: Vendor

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        n, png = int(request.get("n", 1)), self.server.png(request.get("size", "1536x1024"))
        with self.server.lock:
            self.server.asked.append((n, request.get("size", "1536x1024")))
            self.server.calls += 1
            self.server.in_flight += 1
            self.server.peak = max(self.server.peak, self.server.in_flight)
        time.sleep(self.server.latency)
        body = json.dumps({"created": 1, "data": [{"b64_json": png}] * n,
                           "usage": {"input_tokens": 60, "output_tokens": 1056 * n, "total_tokens": 60 + 1056 * n}}).encode()
        with self.server.lock:
            self.server.in_flight -= 1
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def stage_span(workspace: Path, project: str, stage: str = "image") -> float:
    """Seconds from the first ``stage`` node's start to the last one's end in the newest invocation."""
    db = sqlite3.connect(workspace / "storyreel.db")
    inv = db.execute("select invocation from runs where project_id=? and stage=? order by id desc limit 1", (project, stage)).fetchone()[0]
    rows = db.execute("select started_at, finished_at from runs where invocation=? and stage=?", (inv, stage)).fetchall()
    parse = lambda s: datetime.fromisoformat(s)  # noqa: E731
    return (max(parse(f) for _, f in rows) - min(parse(s) for s, _ in rows)).total_seconds()


def transport_floor(url: str, asked: list[tuple[int, str]], limit: int) -> float:
    """Wall seconds for a bare client (httpx, in a process of its own like storyreel) to make the same calls
    at the same limit and decode their images (JSON, base64) — what any client pays on this machine to
    receive them; storyreel's image stage is compared with it as well as with the latency-only ideal."""
    code = (
        "import base64, httpx, json, sys, time\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "url, asked, limit = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])\n"
        "client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=limit))\n"
        "def call(a):\n"
        "    r = client.post(url, json={'n': a[0], 'size': a[1]}); r.raise_for_status()\n"
        "    return [base64.b64decode(d['b64_json']) for d in r.json()['data']]\n"
        "t = time.perf_counter()\n"
        "with ThreadPoolExecutor(limit) as pool: list(pool.map(call, asked))\n"
        "print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", code, url, json.dumps(asked), str(limit)], check=True, capture_output=True, text=True)
    return float(out.stdout)


def run_once(candidates: int, latency: float, limit: int, batch: bool = True) -> dict:
    server = Vendor(latency)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ws = Path(tempfile.mkdtemp(prefix="storyreel-cands-"))
    env = {**os.environ, "STORYREEL_OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/v1", "OPENAI_API_KEY": "sk-bench",
           "STORYREEL_IMAGE_CONCURRENCY": str(limit), "STORYREEL_ALLOW_NETWORK": "0", "STORYREEL_IMAGE_BATCH": "1" if batch else "0"}
    cli = [sys.executable, "-m", "storyreel"]
    plan = json.loads(subprocess.run([*cli, "plan", str(INPUTS / "chapters-bitcoin-tr.json"), "--json", "--workspace", str(ws)],
                                     check=True, capture_output=True, text=True, env=env).stdout)
    board_path = Path(plan["storyboard_path"])
    board = json.loads(board_path.read_text())
    board["settings"]["template_types"] = []  # every shot goes to the vendor: the span is the vendor's rounds
    board_path.write_text(json.dumps(board))
    made = subprocess.run([*cli, "imagegen", plan["project_id"], "--image-provider", "openai:gpt-image-2", "--candidates", str(candidates),
                           "--max-cost", "50", "--json", "--workspace", str(ws)], capture_output=True, text=True, env=env)
    if made.returncode != 0:
        server.shutdown()
        raise SystemExit(f"imagegen failed (exit {made.returncode}):\n{made.stderr[-3000:]}")
    calls, peak, asked = server.calls, server.peak, list(server.asked)
    floor = transport_floor(f"http://127.0.0.1:{server.server_address[1]}/v1/images/generations", asked, limit)
    server.shutdown()
    span = stage_span(ws, plan["project_id"])
    ideal = math.ceil(calls / limit) * latency
    return {"calls": calls, "peak": peak, "span": span, "ideal": ideal, "ratio": span / ideal,
            "floor": floor, "floor_ratio": span / floor, "select": stage_span(ws, plan["project_id"], "select")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-batch", action="store_true", help="one call per candidate (a vendor without a native batch)")
    args = ap.parse_args()
    results = [run_once(args.candidates, args.latency, args.concurrency, not args.no_batch) for _ in range(args.runs)]
    r = results[0]
    print(f"{r['calls']} calls (N={args.candidates}), {args.latency:.2f} s each, limit {args.concurrency} in flight; "
          f"peak in flight seen by the vendor: {max(x['peak'] for x in results)}")
    med = lambda key: statistics.median(x[key] for x in results)  # noqa: E731
    print("| image stage | median s | latency-only ideal s | ratio | bare-client floor s | ratio | target | select stage s |\n"
          "|---|---|---|---|---|---|---|---|")
    print(f"| N={args.candidates}{' (one call each)' if args.no_batch else ' (batch n)'} | {med('span'):.2f} | {r['ideal']:.2f} | "
          f"{med('ratio'):.3f} | {med('floor'):.2f} | {med('floor_ratio'):.3f} | ≤ 1.15 | {med('select'):.2f} |")


if __name__ == "__main__":
    main()
