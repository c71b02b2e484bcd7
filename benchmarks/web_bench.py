"""The dashboard under load (on demand, not part of the test run).

    python benchmarks/web_bench.py [--projects 1000] [--users 10] [--clients 20] [--requests 600]

Builds a workspace with ``--projects`` projects across ``--users`` users (one real video made through the
dashboard; the rest are rows with real titles and input texts, which is what the gallery and search read),
starts a real ``storyreel serve`` (uvicorn, one process, the embedded consumer), signs every client in
through the login form, and measures with ``--clients`` concurrent clients:

1. idle: p50 / p95 of the gallery page, a search, a status filter, the JSON project list and a project page;
2. while a job renders: the same mix, plus how long each finished node takes to reach an SSE client
   (arrival time minus the event's database timestamp, same clock).

Issue 11's targets: gallery, search and project page p95 ≤ 150 ms idle; events ≤ 1 s after a node
finishes; p95 ≤ 300 ms while a job renders.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():
    INPUTS = ROOT / "examples"
PASSWORD = "benchmark passphrase"
TITLES = ["The Hare and the Tortoise", "Gettysburg Address", "Bitcoin nedir", "Tide & Stone bottle", "Desk lamp promo",
          "River stone story", "Quarterly update", "Onboarding walkthrough", "Recipe: lentil soup", "The Fox and the Grapes"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(ws: Path, projects: int, users: int) -> list[int]:
    """``users`` accounts and ``projects - 1`` project rows with real titles and texts."""
    from storyreel.api.accounts import accounts
    from storyreel.api.project import open_store, settings_for

    acc = accounts(ws)
    ids = [acc.register(f"user{i}", PASSWORD).id for i in range(users)]
    texts = [p.read_text(encoding="utf-8")[:2000] for p in sorted(INPUTS.glob("*.txt"))]
    store = open_store(settings_for(ws))
    rng = random.Random(7)
    statuses = ["done"] * 6 + ["partial", "failed", "canceled", "interrupted"]
    for n in range(projects - 1):
        store.upsert_project(f"seeded-{n:05d}", title=f"{rng.choice(TITLES)} #{n}", input_kind="script", input_name="input.txt",
                             owner_id=ids[n % users], input_excerpt=rng.choice(texts), status=rng.choice(statuses),
                             duration_s=rng.uniform(15, 600))
    return ids


def sign_in(base: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    client.get("/login")
    r = client.post("/login", data={"csrftoken": client.cookies["csrftoken"], "username": user, "password": PASSWORD, "next": "/"})
    assert r.status_code == 303, r.text
    return client


def load(clients: list[httpx.Client], urls: list[str], total: int) -> dict[str, list[float]]:
    """``total`` requests spread over the clients, each picking the next URL in turn; latencies in ms per URL kind."""
    times: dict[str, list[float]] = {}
    lock = threading.Lock()

    def work(i: int) -> None:
        client = clients[i % len(clients)]
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        r = client.get(url)
        ms = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, (url, r.status_code)
        kind = url.split("?")[0] if "?" not in url else url.split("=")[0]
        with lock:
            times.setdefault(kind, []).append(ms)

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(work, range(total)))
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def report(title: str, times: dict[str, list[float]]) -> dict:
    print(f"\n{title}")
    out = {}
    for kind, values in sorted(times.items()):
        out[kind] = {"n": len(values), "p50_ms": round(statistics.median(values), 1), "p95_ms": round(p95(values), 1)}
        print(f"  {kind:<28} n={len(values):4d}  p50 {out[kind]['p50_ms']:7.1f} ms  p95 {out[kind]['p95_ms']:7.1f} ms")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=1000)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="storyreel-webbench-")) / "ws"
    ids = seed(ws, args.projects, args.users)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "storyreel", "serve", "--port", str(port), "--workspace", str(ws)],
                              stdout=open(ws.parent / "serve.log", "wb"), stderr=subprocess.STDOUT, env={**os.environ})  # noqa: SIM115
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        clients = [sign_in(base, f"user{i % args.users}") for i in range(args.clients)]
        owner = clients[0]
        # the one real project (made through the dashboard by user0)
        made = owner.post("/api/projects", json={"text": (INPUTS / "hare-and-tortoise.txt").read_text(encoding="utf-8")},
                          headers={"x-csrftoken": owner.cookies["csrftoken"]}).json()
        pid = made["id"]
        while owner.get(f"/api/jobs/{made['job_id']}").json()["state"] in ("queued", "running"):
            time.sleep(0.5)
        print(f"workspace {ws}: {args.projects} projects, {len(ids)} users; real project {pid}")
        urls = ["/", "/?q=tortoise", "/?status=done", "/api/projects?q=stone"]
        load(clients, urls, args.clients * 10)  # warm-up: templates compiled, connections open
        idle = load(clients, urls, args.requests)
        page_clients = [sign_in(base, "user0") for _ in range(args.clients)]  # 20 sessions of the project's owner
        load(page_clients, [f"/projects/{pid}"], args.clients * 2)
        idle.update(load(page_clients, [f"/projects/{pid}"], args.requests // 4))
        results = {"idle": report("idle", idle)}
        fragments = load(page_clients, [f"/projects/{pid}/summary", f"/projects/{pid}/stale"], args.requests // 8)
        results["fragments"] = report("fragments the project page loads after it (cost + QC, stale nodes)", fragments)

        # while a job renders: a second real video, with an SSE listener measuring event delivery
        job = owner.post("/api/projects", json={"text": (INPUTS / "gettysburg-address.txt").read_text(encoding="utf-8")},
                         headers={"x-csrftoken": owner.cookies["csrftoken"]}).json()
        delays: list[float] = []

        def listen() -> None:
            with httpx.Client(base_url=base, cookies=owner.cookies, timeout=None) as sse, sse.stream("GET", f"/api/jobs/{job['job_id']}/events") as r:
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        event = json.loads(line[5:])
                        if event.get("kind") == "node":
                            delays.append(time.time() - datetime.fromisoformat(event["at"]).timestamp())

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        busy: dict[str, list[float]] = {}
        while owner.get(f"/api/jobs/{job['job_id']}").json()["state"] in ("queued", "running"):
            for kind, values in load(clients, urls, args.clients * 5).items():
                busy.setdefault(kind, []).extend(values)
        listener.join(timeout=10)
        results["rendering"] = report("while a job renders", busy)
        results["sse_delay_s"] = {"n": len(delays), "p50": round(statistics.median(delays), 3), "p95": round(p95(delays), 3),
                                  "max": round(max(delays), 3)}
        print(f"\nprogress events: n={len(delays)} p50 {results['sse_delay_s']['p50']} s, p95 {results['sse_delay_s']['p95']} s, "
              f"max {results['sse_delay_s']['max']} s after the node finished")
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
