"""The cost ledger: every paid call is estimated and reserved before it runs, then committed with its
actual cost or released (ARCHITECTURE.md "Cost"). The project's cap is never exceeded, also with
concurrent calls and concurrent processes:

* the reservation row is inserted first, which takes the database's write lock (SQLite serializes
  writers; on PostgreSQL the project row is locked ``FOR UPDATE``), then the committed + reserved total
  including it is read and compared with the cap inside the same transaction; over the cap the
  transaction rolls back and :class:`CostLimitReached` is raised;
* a committed entry counts its actual cost, a reserved one its estimate, a released one nothing.
Reservations left behind by a crashed process are released after ``STALE_RESERVATION`` .
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storyreel.core.errors import CostLimitReached
from storyreel.store.models import CostEntry, Project

STALE_RESERVATION = timedelta(hours=1)


__all__ = ["CostLedger", "CostLimitReached", "CostSummary", "Hold", "hold"]


@dataclass(frozen=True)
class CostSummary:
    cap_usd: float
    committed_usd: float
    reserved_usd: float
    by_provider: dict[str, float]
    calls: int

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.cap_usd - self.committed_usd - self.reserved_usd)


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
            (CostEntry.status == "reserved", CostEntry.estimate_usd),
            else_=0.0,
        )
        return float(s.scalar(select(func.coalesce(func.sum(amount), 0.0)).where(CostEntry.project_id == project_id)) or 0.0)

    def reserve(self, node: str, provider: str, estimate_usd: float) -> int:
        """Hold ``estimate_usd`` for a call; returns the entry id. Raises :class:`CostLimitReached`."""
        with self._lock, self.sessions.begin() as s:
            cutoff = datetime.now(timezone.utc) - STALE_RESERVATION
            s.execute(update(CostEntry).where(CostEntry.project_id == self.project_id, CostEntry.status == "reserved",
                                              CostEntry.created_at < cutoff).values(status="released"))
            if s.bind is not None and s.bind.dialect.name == "postgresql":
                s.execute(select(Project.id).where(Project.id == self.project_id).with_for_update())
            entry = CostEntry(project_id=self.project_id, node=node, provider=provider, estimate_usd=estimate_usd, status="reserved")
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

    def commit(self, entry_id: int, actual_usd: float) -> None:
        with self.sessions.begin() as s:
            s.execute(update(CostEntry).where(CostEntry.id == entry_id).values(status="committed", actual_usd=actual_usd))

    def release(self, entry_id: int) -> None:
        with self.sessions.begin() as s:
            s.execute(update(CostEntry).where(CostEntry.id == entry_id, CostEntry.status == "reserved").values(status="released"))

    def summary(self) -> CostSummary:
        with self.sessions() as s:
            rows = s.scalars(select(CostEntry).where(CostEntry.project_id == self.project_id)).all()
        committed = sum((r.actual_usd if r.actual_usd is not None else r.estimate_usd) for r in rows if r.status == "committed")
        reserved = sum(r.estimate_usd for r in rows if r.status == "reserved")
        by: dict[str, float] = {}
        for r in rows:
            if r.status == "committed":
                by[r.provider] = by.get(r.provider, 0.0) + (r.actual_usd or 0.0)
        return CostSummary(self.cap_usd, round(committed, 6), round(reserved, 6), by, sum(r.status == "committed" for r in rows))


class Hold:
    """A reservation in flight (see :func:`hold`): :meth:`commit` books the actual cost; a hold left
    uncommitted when its block ends is released."""

    def __init__(self, ledger: CostLedger | None, entry_id: int | None) -> None:
        self.ledger, self.entry_id, self.done = ledger, entry_id, False

    def commit(self, actual_usd: float) -> None:
        if self.ledger is not None and self.entry_id is not None and not self.done:
            self.ledger.commit(self.entry_id, actual_usd)
        self.done = True


@contextmanager
def hold(ledger: CostLedger | None, node: str, provider: str, estimate: Callable[[], float], *, paid: bool) -> Iterator[Hold]:
    """Reserve ``estimate()`` USD for one paid call of ``node`` before it runs (raises
    :class:`CostLimitReached` over the cap) and yield the :class:`Hold`; the block commits the actual cost,
    and any exit without a commit — an exception included — releases the reservation. For a free call
    (``paid`` False, or no ledger) nothing is reserved and ``estimate`` is not called."""
    if not paid or ledger is None:
        yield Hold(None, None)
        return
    entry = ledger.reserve(node, provider, estimate())
    h = Hold(ledger, entry)
    try:
        yield h
    finally:
        if not h.done:
            ledger.release(entry)
