"""The received journal: a paid call's answer is on disk before anything else can fail.

Per request (``request_key``: sha256 of the provider and the exact payload) a project keeps
``received/<key>.json`` — the job ID of an asynchronous vendor as soon as it is known (Replicate: a
prediction is polled again after a crash, never created twice), then the cost and details of the answer —
and ``received/<key>.bin``, the answer's bytes as the vendor sent them. The image stage writes an answer
here before it decodes it, books the cost, writes the PNG or records the run; a run killed anywhere after
that finds the answer and does not pay again, and the ledger's reconciliation commits the orphaned
reservation at the journaled cost. The journal entry is removed once the node's run record is committed.
"""

from __future__ import annotations

import json
from pathlib import Path

from storyreel.core.atomic import atomic_write_bytes, atomic_write_text
from storyreel.providers.base import Received, request_key  # noqa: F401 - re-exported
from storyreel.store.files import ProjectPaths


class CallJournal:
    """The journal entry of one request in one project (also the provider's job log)."""

    def __init__(self, paths: ProjectPaths, key: str) -> None:
        self.key = key
        self.meta = paths.received / f"{key}.json"
        self.data = paths.received / f"{key}.bin"
        self.mirror = paths.mirror  # shared storage: each write is pushed before the call goes on (store/sync.py)

    def _shared(self, *files: Path) -> None:
        if self.mirror is not None:
            self.mirror.written(*files)

    def _read(self) -> dict:
        try:
            return json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def job_id(self) -> str | None:
        """The vendor's job ID recorded by an earlier attempt (poll it; do not create another)."""
        value = self._read().get("job_id")
        return str(value) if value else None

    def record_job(self, job_id: str) -> None:
        atomic_write_text(self.meta, json.dumps({**self._read(), "job_id": job_id}))
        self._shared(self.meta)

    def attempted(self) -> bool:
        return bool(self._read().get("attempted"))

    def record_attempt(self) -> None:
        atomic_write_text(self.meta, json.dumps({**self._read(), "attempted": True}))
        self._shared(self.meta)

    def extra(self, position: int) -> Path:
        """The bytes of image ``position`` (2, 3, …) of a native batch's answer."""
        return self.data.with_name(f"{self.key}.{position}.bin")

    def save(self, received: Received) -> Received:
        """The answer: bytes first (every image of a batch), then the record that says they are complete.
        Returns ``received`` with ``stored``: the files now holding its images."""
        files = self._stored(len(received.more))
        for path, data in zip(files, [received.data, *received.more], strict=True):
            atomic_write_bytes(path, data)
        record = {**self._read(), "received": True, "cost_usd": received.cost_usd, "details": received.details,
                  "media_type": received.media_type, "images": 1 + len(received.more)}
        atomic_write_text(self.meta, json.dumps(record, ensure_ascii=False))
        self._shared(*files, self.meta)
        return received.model_copy(update={"stored": files})

    def _stored(self, extras: int) -> list[Path]:
        return [self.data, *(self.extra(p) for p in range(2, extras + 2))]

    def load(self) -> Received | None:
        """The journaled answer, or None when there is none (or it is incomplete)."""
        record = self._read()
        images = int(record.get("images") or 1)
        if not record.get("received") or not self.data.is_file() or not all(self.extra(p).is_file() for p in range(2, images + 1)):
            return None
        return Received(data=self.data.read_bytes(), more=[self.extra(p).read_bytes() for p in range(2, images + 1)],
                        cost_usd=float(record.get("cost_usd") or 0.0),
                        details=dict(record.get("details") or {}), media_type=str(record.get("media_type") or "image/png"),
                        from_journal=True, stored=self._stored(images - 1))

    def files(self) -> list[Path]:
        """Every file of the entry (a batch's extra images included)."""
        return [self.meta, self.data, *sorted(self.data.parent.glob(f"{self.key}.*.bin"))]

    def discard(self) -> None:
        files = self.files()
        for path in files:
            path.unlink(missing_ok=True)
        if self.mirror is not None:
            self.mirror.removed(*files)


def received_cost(paths: ProjectPaths, key: str) -> float | None:
    """The journaled cost of request ``key`` when its answer was received, else None (for reconciliation)."""
    answer = CallJournal(paths, key)
    record = answer._read()
    return float(record.get("cost_usd") or 0.0) if record.get("received") and answer.data.is_file() else None
