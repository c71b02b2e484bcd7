"""Vendor call limits shared by every worker of a deployment (issue 29 item 4: "the per-vendor concurrency caps hold
across all workers — they live in the database").

:class:`PgCallGate` is the :class:`storyreel.providers.http.CallGate` of a PostgreSQL database:

- **calls in flight** — slot ``i`` of vendor ``v`` is PostgreSQL's session-level advisory lock on a key from
  ``vendor:v:i``, held on a connection of its own for the length of the call; a call takes the first free slot of
  ``limit`` (``STORYREEL_IMAGE_CONCURRENCY`` or the provider's own), else waits; the server drops a dead worker's slots
  with its connection;
- **requests per minute** — each call start is a ``vendor_starts`` row; under a transaction-level advisory lock per vendor
  a start waits until fewer than ``rpm`` rows are younger than 60 s.

On SQLite (one machine) the per-process caps of :class:`storyreel.providers.http.JsonHttp` are the deployment's caps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, func, insert, select, text

from storyreel.store.locks import advisory_key
from storyreel.store.models import VendorStart

log = logging.getLogger("storyreel.limits")

POLL_S = 0.05
"""Wait between two looks for a free slot."""


class PgCallGate:
    """Call slots and starts of every vendor, counted in the PostgreSQL database ``engine`` (thread-safe)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def hold(self, vendor: str, limit: int) -> Iterator[None]:
        """Hold one of ``limit`` call slots of ``vendor`` for the block (waits for one to free)."""
        keys = [advisory_key(f"vendor:{vendor}:{i}") for i in range(max(1, limit))]
        waited = 0.0
        while True:
            conn = self.engine.connect()
            try:
                held = next((k for k in keys if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": k}).scalar()), None)
                conn.commit()
            except BaseException:
                conn.close()
                raise
            if held is not None:
                break
            conn.close()
            if waited == 0.0:
                log.info("%s: %d call(s) in flight across the workers; waiting for a slot", vendor, limit)
            time.sleep(POLL_S)
            waited += POLL_S
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": held})
                conn.commit()
            finally:
                conn.close()

    def start(self, vendor: str, rpm: int) -> None:
        """Count a call start of ``vendor``, waiting while ``rpm`` started in the last 60 s (on any worker)."""
        while True:
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(f"vendor-rpm:{vendor}")})
                now = datetime.now(timezone.utc)
                conn.execute(delete(VendorStart).where(VendorStart.vendor == vendor, VendorStart.at < now - timedelta(seconds=120)))
                recent = conn.execute(select(func.count(), func.min(VendorStart.at)).where(
                    VendorStart.vendor == vendor, VendorStart.at > now - timedelta(seconds=60))).one()
                if recent[0] < rpm:
                    conn.execute(insert(VendorStart).values(vendor=vendor, at=now))
                    return
                oldest = recent[1] if recent[1].tzinfo else recent[1].replace(tzinfo=timezone.utc)
                wait = max(POLL_S, 60.0 - (now - oldest).total_seconds())
            time.sleep(min(wait, 5.0))
