"""Fault injection: 30 % of every vendor's answers are 429, 500, 503, 502, timeouts after the work or
connection resets after the work. The run completes (repeated as a user would) or records what failed,
and the ledger's committed + uncertain total equals what the vendor billed, to the cent."""

from __future__ import annotations

import pytest

from ..conftest import cli_json, run_cli
from .conftest import GENERATED, assert_artifacts_whole, fable_file
from .vendors import FakeVendors

pytestmark = pytest.mark.chaos
SEEDS = {"openai": 11, "gemini": 12, "replicate": 13, "chat": 14}


@pytest.mark.parametrize("vendor", ["openai", "gemini", "replicate", "chat"])
def test_the_ledger_matches_the_vendors_bill_under_faults(tmp_path, vendor):
    fake = FakeVendors(fault_rate=0.3, seed=SEEDS[vendor], timeout_s=1.0).start()
    try:
        ws, env = tmp_path / "ws", fake.settings_env(vendor)
        cli_json("plan", str(fable_file(tmp_path)), workspace=ws, env=env)
        runs = []
        for _ in range(10):  # a user runs it again until it is done
            proc = run_cli("imagegen", "hare-chaos", "--json", workspace=ws, env=env)
            assert "Traceback" not in proc.stderr, proc.stderr
            runs.append(proc.returncode)
            if proc.returncode == 0:
                break
        assert runs[-1] == 0, f"imagegen did not complete in 10 runs: {runs}"
        cost = cli_json("cost", "hare-chaos", workspace=ws, env=env)
        ledger = round(cost["spent_usd"] + cost["uncertain_usd"], 6)
        print(f"\n{vendor}: {fake.bill.requests} requests, faults {fake.bill.faults}, {len(fake.bill.items)} images billed "
              f"${fake.bill.total:.6f}; ledger committed ${cost['spent_usd']:.6f} + uncertain ${cost['uncertain_usd']:.6f} "
              f"({cost['uncertain_calls']} calls); runs {runs}")
        assert ledger == pytest.approx(fake.bill.total, abs=1e-6)
        assert cost["reserved_usd"] == 0
        assert len({p for _, p, _ in fake.bill.items}) == GENERATED  # every generated shot was made
        assert assert_artifacts_whole(ws / "projects" / "hare-chaos") >= 4
    finally:
        fake.stop()
