"""The cost ledger: reserve before, commit or release after, never over the cap — also concurrently."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from storyreel.core.errors import CostLimitReached
from storyreel.store.db import session_factory, sqlite_url
from storyreel.store.ledger import CostLedger
from storyreel.store.records import RunStore


@pytest.fixture
def sessions(tmp_path):
    sessions = session_factory(sqlite_url(tmp_path))
    RunStore(sessions).upsert_project("p", title="P", input_kind="script", input_name="x.txt")
    return sessions


def test_reserve_commit_release(sessions):
    ledger = CostLedger(sessions, "p", cap_usd=1.0)
    a = ledger.reserve("image[a]", "openai:gpt-image-2", 0.4)
    b = ledger.reserve("image[b]", "openai:gpt-image-2", 0.4)
    with pytest.raises(CostLimitReached, match=r"cost cap \$1.00 reached") as info:
        ledger.reserve("image[c]", "openai:gpt-image-2", 0.4)
    assert info.value.spent == pytest.approx(0.8)
    ledger.commit(a, 0.35)  # actual below the estimate frees the difference
    ledger.release(b)  # the call failed: nothing spent
    s = ledger.summary()
    assert (s.committed_usd, s.reserved_usd, s.calls) == (pytest.approx(0.35), 0.0, 1)
    assert s.remaining_usd == pytest.approx(0.65)
    ledger.reserve("image[c]", "openai:gpt-image-2", 0.6)
    with pytest.raises(CostLimitReached):
        ledger.reserve("image[d]", "openai:gpt-image-2", 0.1)


def test_concurrent_reservations_never_exceed_the_cap(sessions):
    ledger = CostLedger(sessions, "p", cap_usd=1.0)
    barrier = threading.Barrier(8)

    def take(i: int) -> bool:
        barrier.wait()
        try:
            ledger.reserve(f"image[s{i}]", "openai:gpt-image-2", 0.3)
            return True
        except CostLimitReached:
            return False

    with ThreadPoolExecutor(8) as pool:
        granted = list(pool.map(take, range(8)))
    assert sum(granted) == 3
    assert ledger.summary().reserved_usd == pytest.approx(0.9)


def test_two_processes_share_one_cap(sessions, tmp_path):
    """A second ledger object (another process's view of the same database) sees the first one's holds."""
    one = CostLedger(sessions, "p", cap_usd=0.5)
    two = CostLedger(session_factory(sqlite_url(tmp_path)), "p", cap_usd=0.5)
    one.reserve("image[a]", "openai:gpt-image-2", 0.3)
    with pytest.raises(CostLimitReached):
        two.reserve("image[b]", "openai:gpt-image-2", 0.3)


def test_an_uncertain_call_counts_against_the_cap_until_settled(sessions):
    from storyreel.core.errors import UncertainCall
    from storyreel.store.ledger import hold

    ledger = CostLedger(sessions, "p", cap_usd=1.0)
    with pytest.raises(UncertainCall):
        with hold(ledger, "image[a]", "gemini:x", lambda: 0.4, paid=True, request_key="k1"):
            raise UncertainCall("gemini: no answer within the timeout")
    with pytest.raises(RuntimeError):
        with hold(ledger, "image[b]", "gemini:x", lambda: 0.4, paid=True, request_key="k2"):
            raise RuntimeError("not a provider error")  # any other exception releases
    s = ledger.summary()
    assert (s.uncertain_calls, s.uncertain_usd, s.reserved_usd, s.committed_usd) == (1, pytest.approx(0.4), 0.0, 0.0)
    assert s.remaining_usd == pytest.approx(0.6)
    with pytest.raises(CostLimitReached):
        ledger.reserve("image[c]", "gemini:x", 0.7)
    assert ledger.settle_uncertain("k1") == 1
    assert ledger.summary().uncertain_calls == 0


def test_reconcile_commits_journaled_answers_releases_unsent_requests_and_keeps_the_rest_uncertain(sessions):
    ledger = CostLedger(sessions, "p", cap_usd=5.0)
    ledger.reserve("image[a]", "openai:gpt-image-2", 0.05, "answered")
    ledger.reserve("image[b]", "openai:gpt-image-2", 0.05, "lost")
    ledger.reserve("image[c]", "openai:gpt-image-2", 0.05, None)
    ledger.reserve("image[d]", "openai:gpt-image-2", 0.05, "waiting")  # reserved, then waited for a free slot: never sent
    counts = ledger.reconcile(lambda key: 0.033 if key == "answered" else None, lambda key: key != "waiting")
    assert counts == {"committed": 1, "uncertain": 2, "released": 1}
    s = ledger.summary()
    assert s.committed_usd == pytest.approx(0.033) and s.uncertain_usd == pytest.approx(0.10) and s.reserved_usd == 0
    assert ledger.purchases("answered") == 1 and ledger.purchases("lost") == 0


def test_a_job_canceled_while_a_call_is_in_flight_keeps_it_uncertain(sessions):
    """A cancel between calls releases the hold (nothing was sent); a cancel while a prediction runs at the
    vendor keeps it uncertain: the vendor may bill the seconds it ran."""
    from storyreel.core.cancel import Canceled
    from storyreel.store.ledger import hold

    ledger = CostLedger(sessions, "p", cap_usd=1.0)
    with pytest.raises(Canceled):
        with hold(ledger, "image[a]", "replicate:x", lambda: 0.2, paid=True, request_key="k1"):
            raise Canceled()
    with pytest.raises(Canceled):
        with hold(ledger, "image[b]", "replicate:x", lambda: 0.3, paid=True, request_key="k2"):
            raise Canceled("prediction cancelled at the vendor", call_in_flight=True)
    s = ledger.summary()
    assert (s.uncertain_calls, s.uncertain_usd, s.reserved_usd) == (1, pytest.approx(0.3), 0.0)
