"""Honest accounting with a vendor that documents no idempotency (OpenAI's image creates): an
``Idempotency-Key`` header is sent, but the loopback vendor ignores it, as OpenAI may. A create whose answer
was lost — after the client's timeout, or because the run was killed — is never sent again blindly: it is an
*uncertain* spend, counted at its estimate and listed by ``storyreel cost``, and what the vendor billed equals
what the ledger committed plus what it holds as uncertain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ..conftest import cli_json, run_cli
from .conftest import GENERATED, fable_file
from .vendors import FakeVendors

pytestmark = pytest.mark.chaos


def _ledger(ws, env) -> dict:  # noqa: ANN001
    return cli_json("cost", "hare-chaos", workspace=ws, env=env)


def test_creates_answered_after_the_timeout_are_uncertain_and_the_bill_equals_the_ledger(tmp_path):
    fake = FakeVendors(first_faults=("timeout", "timeout"), timeout_s=1.0).start()
    try:
        ws, env = tmp_path / "ws", fake.settings_env("openai")
        cli_json("plan", str(fable_file(tmp_path)), workspace=ws, env=env)
        first = run_cli("imagegen", "hare-chaos", "--json", workspace=ws, env=env)
        assert first.returncode == 1 and "Traceback" not in first.stderr
        assert fake.creates == GENERATED  # the two lost creates were not sent again
        cost = _ledger(ws, env)
        assert cost["uncertain_calls"] == 2 and all("timeout" in u["why"] for u in cost["uncertain"])
        again = run_cli("imagegen", "hare-chaos", "--json", workspace=ws, env=env)  # a person runs it again
        assert again.returncode == 0, again.stderr
        cost = _ledger(ws, env)
        assert len(fake.bill.items) == GENERATED + 2  # the vendor made (and billed) the two lost images too
        assert cost["uncertain_calls"] == 2 and cost["reserved_usd"] == 0
        assert round(cost["spent_usd"] + cost["uncertain_usd"], 6) == pytest.approx(fake.bill.total, abs=1e-6)
    finally:
        fake.stop()


def test_a_make_killed_with_creates_in_flight_counts_them_when_run_again(tmp_path):
    fake = FakeVendors(latency_s=1.5, timeout_s=5.0).start()  # slow answers: the creates are in flight when the kill lands
    try:
        ws, source, env = tmp_path / "ws", fable_file(tmp_path), fake.settings_env("openai")
        proc = subprocess.Popen([sys.executable, "-m", "storyreel", "make", str(source), "--workspace", str(ws)],
                                env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while fake.creates < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        in_flight = fake.creates - len(fake.bill.returned)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert in_flight >= 4, (fake.creates, fake.bill.returned)
        time.sleep(fake.latency_s + 0.5)  # the vendor finishes (and bills) the work it had started
        done = cli_json("make", str(source), workspace=ws, env=env)
        assert done["status"] == "done"
        cost = _ledger(ws, env)
        assert cost["uncertain_calls"] == in_flight and cost["reserved_usd"] == 0
        assert len(fake.bill.items) == GENERATED + in_flight
        assert round(cost["spent_usd"] + cost["uncertain_usd"], 6) == pytest.approx(fake.bill.total, abs=1e-6)
    finally:
        fake.stop()
