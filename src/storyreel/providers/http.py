"""The one HTTP client every vendor adapter uses: JSON calls with a bounded retry policy.

Retried (seed 002 §6, seed 001 §3.3): 429 (honouring ``Retry-After``, capped), 5xx, timeouts and
connection errors, with bounded exponential backoff and jitter (tenacity). Not retried: other 4xx and
content-policy rejections (:class:`ProviderRejected`, which the image stage records per shot). API keys
are sent in headers only and scrubbed from every error message.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from storyreel.core.errors import MalformedResponse, ProviderError, ProviderRejected, TransientError, UncertainCall
from storyreel.providers.netguard import check_url, httpx_hooks

log = logging.getLogger("storyreel.http")

__all__ = ["JsonHttp", "MalformedResponse", "ProviderRejected", "RateLimiter", "RetryPolicy", "TransientError"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: ``attempts`` calls in all; waits grow from ``backoff_s`` to at most ``backoff_max_s``;
    a ``Retry-After`` longer than ``retry_after_max_s`` is not waited for (the call fails instead)."""

    attempts: int = 4
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0


class RateLimiter:
    """At most ``rpm`` call starts in any 60 s window, shared by the threads of one provider."""

    def __init__(self, rpm: int | None) -> None:
        self.rpm = rpm
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.rpm:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= 60.0:
                    self._starts.popleft()
                if len(self._starts) < self.rpm:
                    self._starts.append(now)
                    return
                wait = 60.0 - (now - self._starts[0])
            time.sleep(max(0.01, wait))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


POLL_CAP_S = 30.0


def poll_waits(first_s: float):  # noqa: ANN201 - an endless iterator of floats
    """The waits between polls of a vendor's job: ``first_s``, then 1.5× longer each time, capped at 30 s (or at
    ``first_s`` when that is longer) — a clip that takes ten minutes is asked about 22 times, not 120."""
    wait = first_s
    while True:
        yield wait
        wait = min(wait * 1.5, max(first_s, POLL_CAP_S))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (the CA bundle loaded once, ≈ 30–60 ms) for every client of the process: a client
    made with its own context loads the bundle again, holding the GIL while other calls' answers wait."""
    return httpx.create_ssl_context()


class CallGate(Protocol):
    """Limits shared by every process of a deployment (issue 29: the per-vendor concurrency and requests-per-minute caps
    hold across workers): :meth:`hold` one of ``limit`` call slots of ``vendor`` for the block, :meth:`start` one of
    ``rpm`` call starts in any 60 s window. Installed by the session when the database is shared
    (:class:`storyreel.store.limits.PgCallGate`); without one, the caps are per process."""

    def hold(self, vendor: str, limit: int) -> AbstractContextManager[None]: ...

    def start(self, vendor: str, rpm: int) -> None: ...


_GATES: dict[str, CallGate] = {}


def install_gate(database_url: str, gate: CallGate | None) -> None:
    """Make the vendor clients of workspaces on ``database_url`` also take ``gate``'s slots and starts (None: drop it)."""
    if gate is None:
        _GATES.pop(database_url, None)
    else:
        _GATES[database_url] = gate


def gate_for(database_url: str | None) -> CallGate | None:
    """The gate installed for ``database_url`` (None: the per-process caps only)."""
    return _GATES.get(database_url) if database_url else None


class JsonHttp:
    """JSON over HTTP for one vendor: ``base_url``, auth ``headers``, ``timeout_s`` per request, a retry
    policy, a concurrency cap (``max_concurrency`` calls in flight) and a requests-per-minute limit.

    ``classify(response)`` lets the adapter turn a vendor's error body into :class:`ProviderRejected`
    (return it) before the generic handling. ``allow_network`` False refuses every request whose host
    does not resolve to loopback (:mod:`storyreel.providers.netguard`, checked on every request). The
    auth ``headers`` go only to ``base_url``'s origin: a download from another host (a CDN URL in a
    vendor's answer) is made without them.
    """

    def __init__(
        self, vendor: str, base_url: str, headers: dict[str, str], *, timeout_s: float = 60.0,
        policy: RetryPolicy | None = None, max_concurrency: int = 4, rpm: int | None = None,
        allow_network: bool = True, secrets: tuple[str, ...] = (), classify=None, gate: CallGate | None = None,  # noqa: ANN001
    ) -> None:
        check_url(base_url, allow_network, vendor)
        self.vendor = vendor
        self.allow_network = allow_network
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.secrets = tuple(s for s in secrets if s)
        self.classify = classify
        hooks = httpx_hooks(allow_network, vendor)["sync"]
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s), event_hooks=hooks, verify=tls_context())
        self._anonymous = httpx.Client(timeout=httpx.Timeout(timeout_s), event_hooks=hooks, follow_redirects=True, verify=tls_context())
        self._slots = threading.BoundedSemaphore(max(1, max_concurrency))
        self._rate = RateLimiter(rpm)
        self.max_concurrency = max(1, max_concurrency)
        self.rpm = rpm
        self.gate = gate
        self.attempts_made = 0

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One call in flight: this client's own cap, then the deployment's (``gate``, :func:`install_gate`)."""
        self._rate.acquire()
        with self._slots:
            gate = self.gate
            if gate is None:
                yield
                return
            with gate.hold(self.vendor, self.max_concurrency):
                if self.rpm:
                    gate.start(self.vendor, self.rpm)
                yield

    def url(self, path: str) -> str:
        """``base_url`` + ``path``; an absolute URL (a vendor's polling or cancel link) must be on the API's
        own origin, so the key is never sent elsewhere. Raises :class:`MalformedResponse` otherwise."""
        if not path.startswith(("http://", "https://")):
            return f"{self.base_url}{path}"
        if not self.same_origin(path):
            raise MalformedResponse(f"{self.vendor}: refusing to send the API key to {urlparse(path).netloc} (not the API host)")
        return path

    def same_origin(self, url: str) -> bool:
        a, b = urlparse(url), urlparse(self.base_url)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)

    def _scrub(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            wait = exc.retry_after
        else:
            wait = wait_exponential_jitter(multiplier=self.policy.backoff_s, max=self.policy.backoff_max_s)(state)
        log.warning("%s: attempt %d of %d failed (%s); retrying in %.1f s", self.vendor, state.attempt_number,
                    self.policy.attempts, exc, wait)
        return wait

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                *, idempotent: bool | None = None, files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
                sending: Callable[[], None] | None = None, answer_headers: dict[str, str] | None = None) -> dict[str, Any]:
        """One call with retries; returns the decoded JSON object (``answer_headers``, when given, receives the
        answer's headers, lower-cased — e.g. a vendor's billed character count). With ``files`` (``(field, (name, bytes,
        type))``) the request is ``multipart/form-data``: ``payload``'s values become text fields.

        ``idempotent`` (default: True for GET, False otherwise) says whether repeating the request is safe:
        a GET, or a create carrying the vendor's idempotency key. A non-idempotent request is retried only
        when it surely did not reach the vendor (connection refused, 429, 500, 503); when its answer is lost
        after it was sent (read timeout, reset, 502/504) :class:`UncertainCall` is raised instead, never a
        blind second create. ``sending()`` is called right before each attempt goes out (after the wait for
        a free slot and the rate limit): a paid create records there that it may have reached the vendor.
        Raises :class:`ProviderRejected`, :class:`MalformedResponse`, :class:`UncertainCall`, or
        :class:`ProviderError` once retries are exhausted."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS")
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts), wait=self._wait,
            retry=retry_if_exception_type(TransientError), reraise=True,
        )
        try:
            return retrying(self._once, method, path, payload, headers, idempotent, files, sending, answer_headers)
        except TransientError as exc:
            raise ProviderError(f"{self.vendor}: gave up after {self.policy.attempts} attempts: {exc}") from None

    def _lost(self, idempotent: bool, what: str, method: str, url: str) -> ProviderError:
        """A request sent whose answer was lost: retried when repeating it is safe, else uncertain."""
        if idempotent:
            return TransientError(f"{self.vendor}: {what}")
        log.warning("%s %s %s: %s after the request was sent; not repeated (the vendor may have done it)",
                    self.vendor, method, urlparse(url).path, what)
        return UncertainCall(f"{self.vendor}: {what} after {method} {urlparse(url).path} was sent: the vendor may have "
                             "done and billed it, so it is not repeated blindly (counted as uncertain in the ledger)")

    def _once(self, method: str, path: str, payload: dict[str, Any] | None, headers: dict[str, str] | None = None,
              idempotent: bool = True, files: list | None = None, sending: Callable[[], None] | None = None,
              answer_headers: dict[str, str] | None = None) -> dict[str, Any]:
        url = self.url(path)
        with self._slot():
            if sending is not None:
                sending()
            self.attempts_made += 1
            t0 = time.monotonic()
            try:
                if files:
                    form = {k: str(v) for k, v in (payload or {}).items()}
                    response = self._client.request(method, url, data=form, files=files, headers=headers)
                else:
                    response = self._client.request(method, url, json=payload, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout) as exc:
                log.info("%s %s %s -> %s (not sent) after %.1f s", self.vendor, method, urlparse(url).path, type(exc).__name__, time.monotonic() - t0)
                raise TransientError(f"{self.vendor}: could not send the request: {self._scrub(str(exc)) or type(exc).__name__}") from None
            except httpx.TimeoutException:
                log.info("%s %s %s -> timeout after %.1f s", self.vendor, method, urlparse(url).path, time.monotonic() - t0)
                raise self._lost(idempotent, "no answer within the timeout", method, url) from None
            except httpx.TransportError as exc:
                log.info("%s %s %s -> %s after %.1f s", self.vendor, method, urlparse(url).path, type(exc).__name__, time.monotonic() - t0)
                raise self._lost(idempotent, f"the connection broke ({type(exc).__name__})", method, url) from None
        log.info("%s %s %s -> HTTP %d in %.2f s", self.vendor, method, urlparse(url).path, response.status_code, time.monotonic() - t0)
        if response.status_code in (502, 504):
            raise self._lost(idempotent, f"HTTP {response.status_code} from a gateway", method, url)
        if self.classify is not None:
            rejected = self.classify(response)
            if rejected is not None:
                raise rejected
        if response.status_code == 429:
            after = _retry_after(response)
            if after is not None and after > self.policy.retry_after_max_s:
                raise ProviderError(f"{self.vendor}: rate limited; Retry-After {after:.0f} s exceeds {self.policy.retry_after_max_s:.0f} s")
            raise TransientError(f"{self.vendor}: 429 rate limited", retry_after=after)
        if response.status_code >= 500:
            raise TransientError(f"{self.vendor}: HTTP {response.status_code}: {self._scrub(response.text[:300])}")
        if response.status_code >= 400:
            raise ProviderError(f"{self.vendor}: HTTP {response.status_code}: {self._scrub(response.text[:500])}")
        try:
            body = response.json()
        except ValueError:
            raise MalformedResponse(f"{self.vendor}: the response is not JSON: {self._scrub(response.text[:200])!r}") from None
        if not isinstance(body, dict):
            raise MalformedResponse(f"{self.vendor}: expected a JSON object, got {type(body).__name__}")
        if answer_headers is not None:
            answer_headers.update({k.lower(): v for k, v in response.headers.items()})
        return body

    def probe(self, path: str) -> int:
        """One GET of ``path`` without retries (a free preflight call); returns the HTTP status. Raises
        :class:`~storyreel.core.errors.ConfigError` when the base URL cannot be reached at all (DNS,
        refused connection); a timeout or a broken answer returns 0 (undecided)."""
        from storyreel.core.errors import ConfigError

        try:
            response = self._client.get(self.url(path))
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError):
            return 0  # reached, but no clear answer: undecided
        except httpx.TransportError as exc:
            raise ConfigError(f"{self.vendor}: cannot reach {self.base_url}: {self._scrub(str(exc))}",
                              hint="check the base URL setting and the network") from None
        log.info("%s preflight GET %s -> %s", self.vendor, urlparse(self.url(path)).path, response.status_code)
        return response.status_code

    def get_bytes(self, url: str, max_bytes: int = 64 * 2**20) -> bytes:
        """Download a file (e.g. a prediction's output image) with the same retry policy; at most
        ``max_bytes``. The API key is sent only when ``url`` is on the API's own origin. Raises
        :class:`ProviderError`."""
        check_url(url, self.allow_network, self.vendor)
        client = self._client if self.same_origin(url) else self._anonymous

        def once() -> bytes:
            with self._slot():
                try:
                    response = client.get(url)
                except httpx.TimeoutException:
                    raise TransientError(f"{self.vendor}: download timed out") from None
                except httpx.TransportError as exc:
                    raise TransientError(f"{self.vendor}: download failed: {self._scrub(str(exc))}") from None
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientError(f"{self.vendor}: download HTTP {response.status_code}", retry_after=_retry_after(response))
            if response.status_code >= 400:
                raise ProviderError(f"{self.vendor}: download HTTP {response.status_code}")
            if len(response.content) > max_bytes:
                raise MalformedResponse(f"{self.vendor}: output larger than {max_bytes} bytes")
            return response.content

        retrying = Retrying(stop=stop_after_attempt(self.policy.attempts), wait=self._wait,
                            retry=retry_if_exception_type(TransientError), reraise=True)
        try:
            return retrying(once)
        except TransientError as exc:
            raise ProviderError(f"{self.vendor}: gave up after {self.policy.attempts} attempts: {exc}") from None

    def close(self) -> None:
        self._client.close()
        self._anonymous.close()
