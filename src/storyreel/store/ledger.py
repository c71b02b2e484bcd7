"""The cost ledger: every paid call is estimated and reserved before it runs, then committed with its
actual cost, released (the vendor did not do the work) or marked *uncertain* (it may have: a request whose
answer was lost). The project's cap is never exceeded, also with concurrent calls and processes:

* the reservation row is inserted first, which takes the database's write lock (SQLite serializes
  writers; on PostgreSQL the project row is locked ``FOR UPDATE``), then the committed + reserved +
  uncertain total including it is read and compared with the cap inside the same transaction; over the
  cap the transaction rolls back and :class:`CostLimitReached` is raised;
* a committed entry counts its actual cost, a reserved or uncertain one its estimate, a released one nothing.

Reservations are never released by age. They belong to the run that made them, and a run writes a project
only under the project's lock (:mod:`storyreel.store.locks`): whoever takes the lock next finds any entry
still ``reserved`` orphaned by a dead run and :meth:`CostLedger.reconcile` settles it — committed at the
received cost when the vendor's answer was journaled (:mod:`storyreel.store.journal`), else uncertain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.cancel import Canceled
from storyreel.core.errors import CostLimitReached, UncertainCall
from storyreel.store.models import CostEntry, Project

__all__ = ["CostLedger", "CostLimitReached", "CostSummary", "Hold", "hold"]


@dataclass(frozen=True)
class CostSummary:
    cap_usd: float
    committed_usd: float
    reserved_usd: float
    by_provider: dict[str, float]
    calls: int
    uncertain_usd: float = 0.0
    uncertain_calls: int = 0

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.cap_usd - self.committed_usd - self.reserved_usd - self.uncertain_usd)


class CostLedger:
    """The ledger of one project with cap ``cap_usd``."""

    _lock = threading.Lock()  # one reservation at a time per process (the DB orders processes)

    def __init__(self, sessions: sessionmaker[Session], project_id: str, cap_usd: float) -> None:
        self.sessions = sessions
        self.project_id = project_id
        self.cap_usd = cap_usd

    @staticmethod
    def _total(s: Session, project_id: str) -> float:
        amount = case(
            (CostEntry.status == "committed", func.coalesce(CostEntry.actual_usd, CostEntry.estimate_usd)),
            (CostEntry.status.in_(("reserved", "uncertain")), CostEntry.estimate_usd),
            else_=0.0,
        )
        return float(s.scalar(select(func.coalesce(func.sum(amount), 0.0)).where(CostEntry.project_id == project_id)) or 0.0)

    def reserve(self, node: str, provider: str, estimate_usd: float, request_key: str | None = None) -> int:
        """Hold ``estimate_usd`` for a call of ``node`` sending the request ``request_key``; returns the entry
        id. Raises :class:`CostLimitReached` when the project's total would pass the cap."""
        with self._lock, self.sessions.begin() as s:
            if s.bind is not None and s.bind.dialect.name == "postgresql":
                s.execute(select(Project.id).where(Project.id == self.project_id).with_for_update())
            entry = CostEntry(project_id=self.project_id, node=node, provider=provider, estimate_usd=estimate_usd,
                              status="reserved", request_key=request_key)
            s.add(entry)
            s.flush()
            total = self._total(s, self.project_id)
            if total > self.cap_usd + 1e-9:
                spent = total - estimate_usd
                s.rollback()
                raise CostLimitReached(
                    f"cost cap ${self.cap_usd:.2f} reached: ${spent:.4f} spent or reserved, {node} needs ${estimate_usd:.4f} more",
                    spent=spent, cap=self.cap_usd,
                )
            return entry.id

    def _set(self, entry_id: int, **values: object) -> None:
        with self.sessions.begin() as s:
            s.execute(update(CostEntry).where(CostEntry.id == entry_id).values(**values))

    def commit(self, entry_id: int, actual_usd: float, note: str | None = None) -> None:
        """The call was made: book its actual cost."""
        self._set(entry_id, status="committed", actual_usd=actual_usd, **({"note": note} if note else {}))

    def release(self, entry_id: int) -> None:
        """The vendor did not do the work (refused, failed, never reached): nothing is owed."""
        with self.sessions.begin() as s:
            s.execute(update(CostEntry).where(CostEntry.id == entry_id, CostEntry.status == "reserved").values(status="released"))

    def mark_uncertain(self, entry_id: int, note: str) -> None:
        """The vendor may have done (and billed) the work but its answer was lost: keep the estimate
        counted against the cap and say why."""
        self._set(entry_id, status="uncertain", note=note[:500])

    def reconcile(self, received_cost: Callable[[str], float | None], sent: Callable[[str], bool]) -> dict[str, int]:
        """Settle the entries left ``reserved`` by a run that died (call only while holding the project's
        lock, when no live run can own one): committed at ``received_cost(request_key)`` when the answer was
        journaled; released when ``sent(request_key)`` says the request never went out (it waited for a free
        slot when the run died); else — or without a request key — uncertain. Returns the counts."""
        counts = {"committed": 0, "uncertain": 0, "released": 0}
        with self.sessions() as s:
            orphans = s.scalars(select(CostEntry).where(CostEntry.project_id == self.project_id, CostEntry.status == "reserved")).all()
        for entry in orphans:
            cost = received_cost(entry.request_key) if entry.request_key else None
            if cost is not None:
                self.commit(entry.id, cost, note="reconciled: the vendor's answer was received before the run stopped")
                counts["committed"] += 1
            elif entry.request_key and not sent(entry.request_key):
                self.release(entry.id)
                counts["released"] += 1
            else:
                self.mark_uncertain(entry.id, "the run that reserved it stopped before the vendor's answer was recorded; "
                                              "the vendor may have billed it (see its usage page)")
                counts["uncertain"] += 1
        return counts

    def purchases(self, request_key: str) -> int:
        """How many times request ``request_key`` was bought (committed) in this project: part of the
        idempotency key, so a resumed attempt reuses its key while ``--force`` asks for a new image."""
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).where(
                CostEntry.project_id == self.project_id, CostEntry.request_key == request_key, CostEntry.status == "committed")) or 0)

    def settle_uncertain(self, request_key: str) -> int:
        """Release the uncertain entries of ``request_key`` once that request has been answered by a vendor
        that bills one request key once (an idempotency key replayed, or a job found and adopted): the
        committed entry now counts the single purchase. Returns how many were settled."""
        with self.sessions.begin() as s:
            result = s.execute(update(CostEntry).where(
                CostEntry.project_id == self.project_id, CostEntry.request_key == request_key, CostEntry.status == "uncertain",
            ).values(status="released", note="settled: a later attempt of the same request was answered and billed once"))
            return int(result.rowcount or 0)

    def summary(self) -> CostSummary:
        with self.sessions() as s:
            rows = s.scalars(select(CostEntry).where(CostEntry.project_id == self.project_id)).all()
        committed = sum((r.actual_usd if r.actual_usd is not None else r.estimate_usd) for r in rows if r.status == "committed")
        reserved = sum(r.estimate_usd for r in rows if r.status == "reserved")
        uncertain = [r for r in rows if r.status == "uncertain"]
        by: dict[str, float] = {}
        for r in rows:
            if r.status == "committed":
                by[r.provider] = by.get(r.provider, 0.0) + (r.actual_usd or 0.0)
        return CostSummary(self.cap_usd, round(committed, 6), round(reserved, 6), by, sum(r.status == "committed" for r in rows),
                           round(sum(r.estimate_usd for r in uncertain), 6), len(uncertain))

    def uncertain_entries(self) -> list[CostEntry]:
        with self.sessions() as s:
            return list(s.scalars(select(CostEntry).where(CostEntry.project_id == self.project_id, CostEntry.status == "uncertain")
                                  .order_by(CostEntry.id)).all())


class Hold:
    """A reservation in flight (see :func:`hold`): :meth:`commit` books the actual cost; a hold left
    uncommitted when its block ends is released — or kept as uncertain when the call's outcome is unknown."""

    def __init__(self, ledger: CostLedger | None, entry_id: int | None) -> None:
        self.ledger, self.entry_id, self.done = ledger, entry_id, False

    def commit(self, actual_usd: float) -> None:
        if self.ledger is not None and self.entry_id is not None and not self.done:
            self.ledger.commit(self.entry_id, actual_usd)
        self.done = True


@contextmanager
def hold(ledger: CostLedger | None, node: str, provider: str, estimate: Callable[[], float], *, paid: bool,
         request_key: str | None = None) -> Iterator[Hold]:
    """Reserve ``estimate()`` USD for one paid call of ``node`` before it runs (raises
    :class:`CostLimitReached` over the cap) and yield the :class:`Hold`; the block commits the actual cost.
    Every other exit settles it: an :class:`UncertainCall` (the request may have been done), or a job
    canceled while the call was in flight (:class:`~storyreel.core.cancel.Canceled` ``call_in_flight``), keeps it as
    uncertain; any other exception, or leaving without a commit, releases it. For a free
    call (``paid`` False, or no ledger) nothing is reserved and ``estimate`` is not called."""
    if not paid or ledger is None:
        yield Hold(None, None)
        return
    entry = ledger.reserve(node, provider, estimate(), request_key)
    h = Hold(ledger, entry)
    try:
        yield h
    except BaseException as exc:
        if not h.done:
            if isinstance(exc, UncertainCall) or (isinstance(exc, Canceled) and exc.call_in_flight):
                ledger.mark_uncertain(entry, str(exc))
            else:
                ledger.release(entry)
            h.done = True
        raise
    finally:
        if not h.done:
            ledger.release(entry)
