"""Artifact storage shared by every machine of a deployment: an S3-compatible bucket (issue 29 item 1).

With ``STORYREEL_STORAGE_URL`` unset (the embedded default) the workspace folder is the only storage and nothing here
is used. With ``STORYREEL_STORAGE_URL=s3://bucket/prefix`` every worker and web server keeps its own workspace folder
(its own disk) and shares, through the bucket:

- ``objects/<hex[:2]>/<hex[2:]>`` — every file a project holds, by the sha256 of its content (the build cache of
  :mod:`storyreel.store.objects`, shared: a node output made on one machine is fetched by another, never made again;
  a node's recipe key names its outputs' digests in the ``runs`` table);
- ``projects/<id>/<name>`` — the deliverables (video, subtitles, thumbnail, QC report) under their names, copied
  inside the bucket from their objects, for people and tools that browse the bucket.

Which files a project holds is its *tree* in the database (:mod:`storyreel.store.sync`). The client is ``obstore``
(the Rust ``object_store`` crate: SigV4 signing, retries, multipart uploads); credentials, region and endpoint come from
the standard ``AWS_*`` variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``,
``AWS_ENDPOINT_URL`` — so MinIO, Cloudflare R2, GCS's S3 API and Ceph work). An ``http://`` endpoint is allowed (a MinIO
on a private network; obstore refuses plain HTTP unless told).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from storyreel.core.atomic import TEMP_MARK
from storyreel.core.errors import ConfigError
from storyreel.core.hashing import PREFIX, hash_file

log = logging.getLogger("storyreel.storage")

CHUNK = 1024 * 1024
"""Bytes per chunk when a file is streamed from the bucket (to disk or to an HTTP client): memory stays bounded."""


def object_key(digest: str) -> str:
    """The bucket key of the object ``sha256:<hex>`` (git's loose-object layout). Raises :class:`ValueError` otherwise."""
    if not digest.startswith(PREFIX) or len(digest) != len(PREFIX) + 64:
        raise ValueError(f"not a sha256 digest: {digest!r}")
    hexdigest = digest[len(PREFIX):]
    return f"objects/{hexdigest[:2]}/{hexdigest[2:]}"


class BucketStorage:
    """One S3-compatible bucket and prefix (``s3://bucket/prefix``). Thread-safe (obstore's client is)."""

    def __init__(self, url: str) -> None:
        try:
            import obstore.store
        except ImportError:
            raise ConfigError("STORYREEL_STORAGE_URL needs the obstore package", hint="pip install 'storyreel[scale]'") from None
        if not url.startswith("s3://") or len(url) <= len("s3://"):
            raise ConfigError(f"STORYREEL_STORAGE_URL {url!r} is not an S3 URL",
                              hint="use s3://BUCKET/PREFIX, with the AWS_* variables for the credentials and endpoint")
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
        try:
            self.store = obstore.store.from_url(url, client_options={"allow_http": endpoint.startswith("http://"),
                                                                     "timeout": "120s", "connect_timeout": "10s"})
        except Exception as exc:  # noqa: BLE001 - obstore's configuration errors have no common base we can name
            raise ConfigError(f"STORYREEL_STORAGE_URL {url!r}: {exc}", hint="check the URL and the AWS_* variables") from exc
        self.url = url
        self._known: set[str] = set()  # objects this process saw in the bucket (they never change: named by content)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ objects
    def has(self, digest: str) -> bool:
        """Whether object ``digest`` is in the bucket (one HEAD, remembered once seen)."""
        key = object_key(digest)
        if key in self._known:
            return True
        found = self.size(key) is not None
        if found:
            with self._lock:
                self._known.add(key)
        return found

    def upload(self, source: Path, digest: str) -> None:
        """Put ``source`` (its content hashes to ``digest``) as its object, unless the bucket has it. Raises the
        client's error (``OSError`` family or obstore's) when the bucket refuses."""
        import obstore

        if self.has(digest):
            return
        obstore.put(self.store, object_key(digest), source)
        with self._lock:
            self._known.add(object_key(digest))

    def download(self, digest: str, dest: Path) -> None:
        """Write object ``digest`` to ``dest`` (streamed to a temp file, checked against ``digest``, renamed).
        Raises :class:`FileNotFoundError` when the bucket has no such object, :class:`OSError` when the bytes
        received do not hash to ``digest`` (nothing is left at ``dest`` then)."""
        import obstore

        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}{TEMP_MARK}")
        try:
            with open(tmp, "wb") as out:
                for chunk in obstore.get(self.store, object_key(digest)).stream(min_chunk_size=CHUNK):
                    out.write(chunk)
            got = hash_file(tmp)
            if got != digest:
                raise OSError(f"object {digest} from {self.url} hashes to {got}")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------------------------------ named files
    def publish(self, digest: str, key: str) -> None:
        """Copy object ``digest`` to ``key`` inside the bucket (server side: no bytes through this machine)."""
        import obstore

        obstore.copy(self.store, object_key(digest), key)

    def remove(self, keys: list[str]) -> None:
        """Delete ``keys`` (missing ones are fine)."""
        import obstore

        if keys:
            obstore.delete(self.store, keys)

    def size(self, key: str) -> int | None:
        """The size in bytes of ``key``, or None when the bucket has no such key."""
        import obstore

        try:
            return int(obstore.head(self.store, key)["size"])
        except FileNotFoundError:
            return None

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, end)`` of ``key`` (``end`` None: to the end), in chunks of about :data:`CHUNK` — one ranged
        GET, streamed. Raises :class:`FileNotFoundError` when there is no such key."""
        import obstore

        options = {"range": (start, end)} if end is not None else {"range": {"offset": start}} if start else None
        result = obstore.get(self.store, key, options=options)
        yield from (bytes(chunk) for chunk in result.stream(min_chunk_size=CHUNK))

    def check(self) -> str:
        """One line for ``storyreel doctor``: a small object written, read back and deleted. Raises the client's error."""
        import obstore

        key = f"doctor/{os.getpid()}-{threading.get_ident()}"
        obstore.put(self.store, key, b"storyreel doctor")
        try:
            if bytes(obstore.get(self.store, key).bytes()) != b"storyreel doctor":
                raise OSError(f"{self.url} gave back other bytes than were written")
        finally:
            obstore.delete(self.store, key)
        return f"{self.url}: writable and readable"


def storage_for(url: str | None) -> BucketStorage | None:
    """The shared storage ``STORYREEL_STORAGE_URL`` names (one client per URL and process), or None for the embedded
    default (the workspace folder alone). Raises :class:`ConfigError` for a URL that is not ``s3://``."""
    return _storage(url) if url else None


@lru_cache(maxsize=4)
def _storage(url: str) -> BucketStorage:
    return BucketStorage(url)
