"""Shared fixtures. The network guard refuses every non-loopback connection: tests never reach the internet."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT.parent / "shared" / "inputs"
if not INPUTS.is_dir():  # a clone without shared/ beside it: the shipped copies are identical
    INPUTS = ROOT / "examples"

os.environ["STORYREEL_ALLOW_NETWORK"] = "0"
os.environ["STORYREEL_RESOLUTION"] = "360p"
"""The small-frame render profile: every test renders at 640×360 (360×640 vertical) unless it checks the 1080p
delivery spec, which asks for ``STORYREEL_RESOLUTION=1080p`` (:data:`DELIVERY`) — 16× fewer pixels to draw, warp
and encode, the same layout, timeline, soundtrack and QC."""
DELIVERY = {"STORYREEL_RESOLUTION": "1080p"}
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address):  # noqa: ANN001
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if not (host.startswith("127.") or host in ("localhost", "::1")):
            raise OSError(f"network guard: tests may not connect to {host}")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def run_cli(*args: str, workspace: Path | None = None, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``storyreel`` CLI (``python -m storyreel``) and capture its output."""
    argv = [sys.executable, "-m", "storyreel", *args]
    if workspace is not None:
        argv += ["--workspace", str(workspace)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200", **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"storyreel {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def cli_json(*args: str, workspace: Path, env: dict | None = None) -> dict:
    proc = run_cli(*args, "--json", workspace=workspace, check=True, env=env)
    return json.loads(proc.stdout)
