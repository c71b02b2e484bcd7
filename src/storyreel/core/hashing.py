"""Content hashing: canonical JSON and tagged sha256 digests (``sha256:<hex>``).

Keys and data versions are computed over canonical JSON (sorted keys, no whitespace, UTF-8), so the
same logical value always hashes the same, independent of dict order or formatting.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

PREFIX = "sha256:"


def canonical_json(value: Any) -> str:
    """Serialize ``value`` (JSON types or pydantic models, nested) to canonical JSON text."""

    def default(obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            return obj.model_dump(mode="json")
        if isinstance(obj, Path):
            return obj.as_posix()
        raise TypeError(f"not JSON-serializable for hashing: {type(obj).__name__}")

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default)


def hash_bytes(data: bytes) -> str:
    """Tagged sha256 of raw bytes, e.g. ``sha256:9f86…``."""
    return PREFIX + hashlib.sha256(data).hexdigest()


def hash_value(value: Any) -> str:
    """Tagged sha256 of the canonical JSON of ``value``."""
    return hash_bytes(canonical_json(value).encode("utf-8"))


def hash_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Tagged sha256 of a file's bytes, read in 1 MiB chunks. Raises ``OSError`` if unreadable."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return PREFIX + digest.hexdigest()
