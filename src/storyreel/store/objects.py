"""A project's build cache: node outputs kept by content, so an output made once is never made again.

The engine keeps one run record per node execution, but a node's output files are overwritten by its next run. An
edit that is undone, a version restored (issue 28, "restoring a version re-renders nothing that is still cached") or a
picked option picked back would then re-make — and re-buy, and for sampled engines re-sample — outputs storyreel
already made. Here every successful node's output files are also kept by their sha256 (``objects/ab/cdef…``, git's
loose-object layout); a node whose recipe key equals an earlier successful run's key gets that run's files back from
here instead of running (:meth:`storyreel.engine.executor.Executor`), byte for byte.

Objects are hard links to the outputs where the file system allows (every storyreel writer replaces a file by rename,
:mod:`storyreel.core.atomic`, so the linked bytes never change under the cache), else copies. An object is checked
against its name before it is used; a damaged one is dropped and the node runs. The cache is bounded: objects that
only the cache holds (link count 1) are evicted oldest first once they exceed ``max_bytes``
(``STORYREEL_CACHE_MB``); objects still linked from the project's files cost no space of their own.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

from storyreel.core.atomic import TEMP_MARK
from storyreel.core.hashing import PREFIX, FileHashes

log = logging.getLogger("storyreel.objects")


class ObjectStore:
    """Content-addressed files under ``folder`` (``<hex[:2]>/<hex[2:]>``), named by the tagged sha256 of
    :mod:`storyreel.core.hashing`. ``hashes`` is the project's stat cache (objects are verified through it).
    Thread-safe: writers put an object by linking a temp name and renaming it."""

    def __init__(self, folder: Path, hashes: FileHashes, max_bytes: int | None = None) -> None:
        self.folder = folder
        self.hashes = hashes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def path(self, digest: str) -> Path:
        """The object's path for ``sha256:<hex>``. Raises :class:`ValueError` for another digest form."""
        if not digest.startswith(PREFIX) or len(digest) != len(PREFIX) + 64:
            raise ValueError(f"not a sha256 digest: {digest!r}")
        hexdigest = digest[len(PREFIX):]
        return self.folder / hexdigest[:2] / hexdigest[2:]

    def put(self, source: Path, digest: str) -> None:
        """Keep ``source`` (whose content hashes to ``digest``) unless an object of that name exists. A link
        where possible, else a copy; an ``OSError`` (full disk) is logged and the cache simply misses later."""
        target = self.path(digest)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}{TEMP_MARK}")
        try:
            tmp.unlink(missing_ok=True)
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("not cached: %s (%s)", source, exc)

    def has(self, digest: str) -> bool:
        """Whether an intact object ``digest`` is here (its bytes hashed, through the stat cache). A damaged one is removed."""
        target = self.path(digest)
        if not target.is_file():
            return False
        try:
            if self.hashes.hash(target) == digest:
                return True
        except OSError:
            return False
        log.warning("dropped a damaged cache object %s", target)
        target.unlink(missing_ok=True)
        return False

    def place(self, digest: str, dest: Path) -> None:
        """Put object ``digest`` at ``dest`` atomically (a link, else a copy, renamed over ``dest``). Raises
        ``OSError`` if it cannot; the caller checked :meth:`has` first."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}{TEMP_MARK}{dest.suffix}")
        tmp.unlink(missing_ok=True)
        try:
            try:
                os.link(self.path(digest), tmp)
            except OSError:
                shutil.copyfile(self.path(digest), tmp)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def removed(self, files: list[Path]) -> None:
        """Files a node's run removed from the project once recorded (its journal entry): nothing to do here; the shared
        build cache (:class:`storyreel.store.sync.SharedObjects`) drops them from the project's tree."""

    def prune(self) -> int:
        """Evict objects only the cache holds, oldest first, until they fit ``max_bytes``. Returns the bytes freed."""
        if self.max_bytes is None or not self.folder.is_dir():
            return 0
        with self._lock:
            alone = []
            for path in self.folder.glob("*/*"):
                try:
                    st = path.stat()
                except OSError:
                    continue
                if st.st_nlink <= 1:
                    alone.append((st.st_ctime_ns, st.st_size, path))
            total = sum(size for _, size, _ in alone)
            freed = 0
            for _, size, path in sorted(alone):
                if total - freed <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                freed += size
            return freed
