"""Fan-out benchmark (issue 29 item 4; on demand, not part of the test run): one ~10-minute chaptered video made by one
single-core worker, then by two, with no shared disk.

    python benchmarks/fanout_bench.py [--shots 120] [--keep]

Needs the machine's PostgreSQL (127.0.0.1:5432, database ``test``) and Redis (127.0.0.1:6379); starts a real S3 API
on loopback (moto's server mode) for the artifact storage. Each worker is a ``storyreel worker`` process with a
workspace folder of its own, pinned to one core with ``taskset`` (``STORYREEL_WORKERS=1``: one encode at a time, x264
on that core). The project is the render benchmark's long fixture (``render_bench.chapters_doc``: one chapter per shot,
13 words of the real inputs each, crossfades), submitted as a chapter JSON upload; the wall time runs from the submit
to the job's end. Reports both times, the ratio (target ≥ 1.7×), which worker ran how many nodes, and whether the two
videos are byte-identical. Results print as a Markdown table (copy into docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from render_bench import chapters_doc  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"
BUCKET = "storyreel-bench"


def s3_server() -> tuple[object, dict]:
    """moto's S3 server on a free loopback port with the bucket made; the AWS_* env pointing at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench-secret").create_bucket(Bucket=BUCKET)
    return server, env


def fresh_env(base: dict, redis_db: int) -> tuple[dict, str]:
    """A PostgreSQL schema and Redis database of its own for one run."""
    import psycopg
    import redis

    schema = f"storyreel_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}").flushdb()
    env = {**base, "STORYREEL_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
           "STORYREEL_QUEUE_URL": f"redis://127.0.0.1:6379/{redis_db}", "STORYREEL_STORAGE_URL": f"s3://{BUCKET}/{schema}",
           "STORYREEL_WORKERS": "1", "STORYREEL_TTS_PROVIDER": "local:espeak", "STORYREEL_RESOLUTION": "1080p"}
    return env, schema


def drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def start_worker(workspace: Path, core: int, env: dict) -> subprocess.Popen:
    workspace.mkdir(parents=True, exist_ok=True)
    log = open(workspace.parent / f"worker-core{core}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-m", "storyreel", "worker", "--concurrency", "1",
                             "--workspace", str(workspace)], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def run(root: Path, doc: dict, cores: list[int], base: dict, redis_db: int) -> dict:
    """One make of ``doc`` by one worker per core in ``cores``: wall seconds, the video's bytes, nodes per worker."""
    env, schema = fresh_env(base, redis_db)
    for name, value in env.items():
        os.environ[name] = value
    from storyreel.api import Workspace, library
    from storyreel.jobs import fanout
    from storyreel.jobs import service as jobs

    workers = [start_worker(root / f"core{c}" / "ws", c, env) for c in cores]
    try:
        web = Workspace.open(root / "web" / "ws")
        deadline = time.monotonic() + 60
        while len(fanout.registry(web).live()) < len(cores):
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not register")
            time.sleep(0.1)
        t0 = time.perf_counter()
        from unittest import mock

        with mock.patch("storyreel.api.library.secrets.token_hex", return_value="bench0"):  # one project ID in both runs
            row, request = library.create_project(web, file_name="bench-long.json", data=json.dumps(doc).encode(), user_id=None)
        job = jobs.submit(web, "make", row["id"], request)
        while True:
            view = jobs.job(web, job.id)
            if view.state not in ("queued", "running"):
                break
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        if view.state != "done":
            raise SystemExit(f"the make ended {view.state}: {view.message}")
        from sqlalchemy import text

        with web.store.sessions() as s:
            per_worker = dict(s.execute(text("SELECT split_part(worker, ':', 2), count(*) FROM node_tasks GROUP BY 1")).all())
            stages = s.execute(text("SELECT stage, count(*), sum(duration_s), min(started_at), max(finished_at) FROM runs "
                                    "WHERE status = 'success' GROUP BY stage ORDER BY min(started_at)")).all()
        start = min(row[3] for row in stages)
        print(f"\n{len(cores)} worker(s): stage, nodes, node seconds, span from the first node's start (s)")
        for stage, count, seconds, first, last in stages:
            print(f"  {stage:14s} {count:4d} {seconds:8.1f}   {(first - start).total_seconds():7.1f} → {(last - start).total_seconds():7.1f}")
        maker = next(w for w in workers if str(w.pid) == view.worker.split(":")[1])
        video = (root / f"core{cores[workers.index(maker)]}" / "ws" / "projects" / row["id"] / "video.mp4").read_bytes()
        qc = json.loads((root / f"core{cores[workers.index(maker)]}" / "ws" / "projects" / row["id"] / "qc.json").read_text())
        duration = next(c for c in qc["checks"] if c["name"] == "duration")["measured"]
        return {"wall_s": wall, "video": video, "nodes": {str(w.pid): per_worker.get(str(w.pid), 0) for w in workers},
                "duration": duration, "qc": qc["passed"]}
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        drop(schema)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shots", type=int, default=120, help="chapters of ~5 s each (120 ≈ 10 minutes)")
    ap.add_argument("--keep", action="store_true", help="keep the workspaces")
    args = ap.parse_args()
    if len(os.sched_getaffinity(0)) < 2 or not shutil.which("taskset"):
        raise SystemExit("needs two cores and taskset")
    root = Path(tempfile.mkdtemp(prefix="storyreel-fanout-"))
    server, base = s3_server()
    doc = chapters_doc(args.shots, "Bench Long")
    try:
        one = run(root / "one", doc, [0], base, 8)
        two = run(root / "two", doc, [0, 1], base, 9)
    finally:
        server.stop()
    ratio = one["wall_s"] / two["wall_s"]
    same = one["video"] == two["video"]
    print(f"\n| measurement ({args.shots} shots, {two['duration']}, 1080p, no shared disk) | wall s | nodes per worker |")
    print("|---|---|---|")
    print(f"| one single-core worker | {one['wall_s']:.1f} | {sum(one['nodes'].values())} |")
    print(f"| two single-core workers | {two['wall_s']:.1f} | {' + '.join(str(n) for n in two['nodes'].values())} |")
    print(f"\nspeed-up **{ratio:.2f}×** (target ≥ 1.7×); videos byte-identical: **{'yes' if same else 'NO'}** "
          f"({len(two['video']):,} bytes); QC passed: {one['qc'] and two['qc']}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"kept: {root}")


if __name__ == "__main__":
    main()
