"""Best-of-N wall time under a provider concurrency limit (on demand, not part of the test run).

    python benchmarks/candidates_bench.py [--candidates 4] [--latency 1.0] [--concurrency 4] [--runs 3]

A loopback server speaks the OpenAI Images wire format and answers every call after ``--latency``
seconds (a 1536×864 PNG, as a vendor would). ``storyreel imagegen`` of the Turkish chapter JSON runs with
``--image-provider openai:gpt-image-2 --candidates N`` and ``STORYREEL_IMAGE_CONCURRENCY`` = the limit, every
shot routed to the vendor (the storyboard's ``template_types`` emptied). OpenAI takes a shot's candidates in
one call (``n``); ``--no-batch`` (``STORYREEL_IMAGE_BATCH=0``) asks for them one call each, as for a vendor
without a native batch.
The image stage's span (first image node started → last finished, from the run records) is compared with
the ideal for that many calls at that limit: ``ceil(calls / limit) × latency``. Issue 13's target: ≤ 1.15×.
The server also records the most calls it ever had in flight (must not exceed the limit).
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
        self.lock = threading.Lock()
        buf = io.BytesIO()
        Image.new("RGB", (1536, 864), (40, 90, 140)).save(buf, "PNG")
        self.png = base64.b64encode(buf.getvalue()).decode()


class Handler(BaseHTTPRequestHandler):
    server: Vendor

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_POST(self) -> None:  # noqa: N802
        n = int(json.loads(self.rfile.read(int(self.headers.get("content-length", 0)))).get("n", 1))
        with self.server.lock:
            self.server.calls += 1
            self.server.in_flight += 1
            self.server.peak = max(self.server.peak, self.server.in_flight)
        time.sleep(self.server.latency)
        body = json.dumps({"created": 1, "data": [{"b64_json": self.server.png}] * n,
                           "usage": {"input_tokens": 60, "output_tokens": 1056 * n, "total_tokens": 60 + 1056 * n}}).encode()
        with self.server.lock:
            self.server.in_flight -= 1
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def image_span(workspace: Path, project: str) -> float:
    """Seconds from the first image node's start to the last one's end in the newest invocation."""
    db = sqlite3.connect(workspace / "storyreel.db")
    inv = db.execute("select invocation from runs where project_id=? and stage='image' order by id desc limit 1", (project,)).fetchone()[0]
    rows = db.execute("select started_at, finished_at from runs where invocation=? and stage='image'", (inv,)).fetchall()
    parse = lambda s: datetime.fromisoformat(s)  # noqa: E731
    return (max(parse(f) for _, f in rows) - min(parse(s) for s, _ in rows)).total_seconds()


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
    subprocess.run([*cli, "imagegen", plan["project_id"], "--image-provider", "openai:gpt-image-2", "--candidates", str(candidates),
                    "--max-cost", "50", "--json", "--workspace", str(ws)], check=True, capture_output=True, env=env)
    server.shutdown()
    span = image_span(ws, plan["project_id"])
    ideal = math.ceil(server.calls / limit) * latency
    return {"calls": server.calls, "peak": server.peak, "span": span, "ideal": ideal, "ratio": span / ideal}


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
    print("| image stage | median s | ideal s | ratio | target |\n|---|---|---|---|---|")
    print(f"| N={args.candidates}{' (one call each)' if args.no_batch else ' (batch n)'} | {statistics.median(x['span'] for x in results):.2f} | {r['ideal']:.2f} | "
          f"{statistics.median(x['ratio'] for x in results):.3f} | ≤ 1.15 |")


if __name__ == "__main__":
    main()
