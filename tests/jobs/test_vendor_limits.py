"""Vendor call caps across workers (issue 29 item 4): on the machine's PostgreSQL, the clients of two workers share one
concurrency cap per vendor (advisory-lock slots) and one requests-per-minute window (``vendor_starts``)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storyreel.api import Workspace
from storyreel.providers.http import JsonHttp, gate_for
from storyreel.store.limits import PgCallGate
from storyreel.store.models import VendorStart
from tests.jobs.helpers import scale_env  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


class SlowVendor(ThreadingHTTPServer):
    """Answers every POST after 0.25 s, counting the requests in flight at once."""

    def __init__(self) -> None:
        self.inflight = self.peak = self.calls = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server.lock:
                    server.inflight += 1
                    server.calls += 1
                    server.peak = max(server.peak, server.inflight)
                time.sleep(0.25)
                with server.lock:
                    server.inflight -= 1
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True


def _burst(clients: list[JsonHttp], per_client: int) -> None:
    threads = [threading.Thread(target=c.request, args=("POST", "/v1/images", {"n": i})) for c in clients for i in range(per_client)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


@pytest.fixture
def vendor():  # noqa: ANN201
    server = SlowVendor()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_two_workers_clients_share_one_concurrency_cap(tmp_path: Path, scale_env: dict, vendor: SlowVendor) -> None:
    ws = Workspace.open(tmp_path / "ws")
    ws.store  # noqa: B018 - opening the PostgreSQL store installs the gate for its URL
    gate = gate_for(ws.settings.database_url)
    assert isinstance(gate, PgCallGate)
    url = f"http://127.0.0.1:{vendor.server_address[1]}"

    alone = [JsonHttp("fake-vendor", url, {}, max_concurrency=2, allow_network=False) for _ in range(2)]
    _burst(alone, 4)
    assert vendor.calls == 8 and vendor.peak == 4  # without the gate: two workers, two calls each

    vendor.peak = 0
    shared = [JsonHttp("fake-vendor", url, {}, max_concurrency=2, allow_network=False, gate=gate) for _ in range(2)]
    _burst(shared, 4)
    assert vendor.calls == 16 and vendor.peak == 2  # the cap is the deployment's

    other = JsonHttp("other-vendor", url, {}, max_concurrency=2, allow_network=False, gate=gate)
    vendor.peak = 0
    _burst([shared[0], other], 2)
    assert vendor.peak == 4  # each vendor has its own slots


def test_the_per_minute_cap_counts_every_workers_starts(tmp_path: Path, scale_env: dict) -> None:
    ws = Workspace.open(tmp_path / "ws")
    gate = PgCallGate(ws.store.sessions.kw["bind"])
    old = datetime.now(timezone.utc) - timedelta(seconds=59.2)
    with ws.store.sessions.begin() as s:  # three starts another worker made 59.2 s ago
        s.add_all([VendorStart(vendor="fake-vendor", at=old) for _ in range(3)])
    t0 = time.monotonic()
    gate.start("other-vendor", 3)
    assert time.monotonic() - t0 < 0.5  # another vendor's window is its own
    gate.start("fake-vendor", 3)
    waited = time.monotonic() - t0
    assert 0.5 <= waited < 5, waited  # waited for the oldest start to leave the 60 s window
