"""Content hashing: canonical JSON and tagged sha256 digests (``sha256:<hex>``).

Keys and data versions are computed over canonical JSON (sorted keys, no whitespace, UTF-8), so the
same logical value always hashes the same, independent of dict order or formatting.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from storyreel.core.atomic import atomic_path

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


def seed_for(text: str) -> int:
    """Stable 32-bit seed from text (first 4 bytes of its sha256), so a description always renders the
    same picture."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


class FileHashes:
    """:func:`hash_file` with a stat cache persisted at ``cache_path`` (JSON: path → [size, mtime_ns, digest]).

    A file whose size and modification time (nanoseconds) are unchanged since it was hashed is not read
    again — the rule git's index and make rely on; a rewrite to the same size within the same mtime tick
    would go unnoticed. Entries are keyed by resolved path. Thread-safe; :meth:`save` writes the cache
    atomically when it changed (an unreadable cache is ignored: everything is hashed again).
    """

    def __init__(self, cache_path: Path) -> None:
        self.cache_path = cache_path
        self._lock = threading.Lock()
        self._dirty = False
        try:
            data = json.loads(cache_path.read_text(encoding="utf-8"))
            self._entries: dict[str, list] = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            self._entries = {}

    def hash(self, path: Path) -> str:
        """Tagged sha256 of ``path``'s bytes. Raises ``OSError`` if the file cannot be read."""
        st = path.stat()
        key = str(path.resolve())
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
            return str(entry[2])
        digest = hash_file(path)
        with self._lock:
            self._entries[key] = [st.st_size, st.st_mtime_ns, digest]
            self._dirty = True
        return digest

    def save(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            text = json.dumps(self._entries, separators=(",", ":"))
            self._dirty = False
        try:
            with atomic_path(self.cache_path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        except OSError:
            pass  # a cache: losing it costs time, not correctness
