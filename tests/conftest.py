"""Shared fixtures. The network guard refuses every non-loopback connection: tests never reach the internet."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from storyreel.providers.netguard import is_loopback_address

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
os.environ["STORYREEL_TTS_PROVIDER"] = "local:espeak"
"""The suite's voice: espeak-ng, a fifth of a second per shot. The product's default (``local``: the Piper voice
for English) is what :data:`NEURAL` asks for, in the tests of voices, word timings and a default make
(``tests/e2e/test_voices.py``)."""
NEURAL = {"STORYREEL_TTS_PROVIDER": "local"}
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address):  # noqa: ANN001
    """Refuse every connection to an address that is not loopback — the same test as the product's own network
    guard (:func:`storyreel.providers.netguard.is_loopback_address`)."""
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if not (is_loopback_address(host) or host == "localhost"):
            raise OSError(f"network guard: tests may not connect to {host}")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def run_cli(*args: str, workspace: Path | None = None, check: bool = False, env: dict | None = None,
            process: bool = False) -> subprocess.CompletedProcess:
    """Run the real ``storyreel`` CLI and capture its output: in this process through Typer's ``CliRunner``
    on the CLI's own app (the same commands, options, error handler and exit codes, without starting Python
    and importing the engine again for every call), or — ``process=True``, for tests that run several at once
    or kill one — as ``python -m storyreel``. An exception the CLI did not turn into a message is appended to
    ``stderr`` as a traceback, as a real run would print it."""
    argv = [*args, *(["--workspace", str(workspace)] if workspace is not None else [])]
    if process:
        proc = subprocess.run([sys.executable, "-m", "storyreel", *argv], capture_output=True, text=True, timeout=900,
                              env={**os.environ, "COLUMNS": "200", **(env or {})})
    else:
        proc = _in_process(argv, env or {})
    if check and proc.returncode != 0:
        raise AssertionError(f"storyreel {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def _in_process(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    import logging
    import traceback

    from typer.testing import CliRunner

    from storyreel.cli import app

    logger = logging.getLogger("storyreel")
    level, handlers = logger.level, list(logger.handlers)
    try:
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200", **env}, prog_name="storyreel")
    finally:  # the CLI's console handler wrote to the runner's captured stream: take it away with it
        for handler in [h for h in logger.handlers if h not in handlers]:
            logger.removeHandler(handler)
        logger.setLevel(level)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["storyreel", *argv], result.exit_code, result.stdout, stderr)


def cli_json(*args: str, workspace: Path, env: dict | None = None, process: bool = False) -> dict:
    proc = run_cli(*args, "--json", workspace=workspace, check=True, env=env, process=process)
    return json.loads(proc.stdout)
