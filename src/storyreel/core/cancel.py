"""Cooperative cancellation: a job's "stop" reaches the work at the next checkpoint.

The engine installs the job's ``should_stop`` callback for the node it runs (:func:`watching`); long loops
call :func:`checkpoint` — between nodes, every few frames of an encode, every poll of a vendor, while an
ffmpeg runs — which raises :class:`Canceled` once the callback says so. Outside a job nothing is watched
and a checkpoint costs a context-variable lookup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from storyreel.core.errors import StoryreelError

_should_stop: ContextVar[Callable[[], bool] | None] = ContextVar("storyreel_should_stop", default=None)

SHUTDOWN = threading.Event()
"""Set when this process's job consumer stops (Ctrl-C on ``serve`` or ``worker``): running jobs stop at their
next checkpoint and end ``interrupted`` — resumable — instead of holding the shutdown for minutes."""


class Canceled(StoryreelError):
    """The work was asked to stop. What was finished stays valid and cached. Exit code 1.

    ``call_in_flight``: raised after a paid request was sent and before its answer (e.g. while polling a
    prediction, which is then cancelled at the vendor): the vendor may bill the work done so far, so the
    call's reservation is kept as uncertain instead of released (:func:`storyreel.store.ledger.hold`).
    ``interrupted``: the process is shutting down (:data:`SHUTDOWN`) rather than a person canceling."""

    def __init__(self, message: str = "canceled", *, call_in_flight: bool = False) -> None:
        super().__init__(message)
        self.call_in_flight = call_in_flight
        self.interrupted = SHUTDOWN.is_set()


@contextmanager
def watching(should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Within the block (in this thread), :func:`checkpoint` consults ``should_stop``."""
    token = _should_stop.set(should_stop)
    try:
        yield
    finally:
        _should_stop.reset(token)


def checkpoint() -> None:
    """Raise :class:`Canceled` when the watched job asked to stop."""
    should_stop = _should_stop.get()
    if should_stop is not None and should_stop():
        raise Canceled("canceled")


def current() -> Callable[[], bool] | None:
    """The callback watched in this thread (to hand to worker threads)."""
    return _should_stop.get()


def throttled(should_stop: Callable[[], bool], every_s: float = 0.5) -> Callable[[], bool]:
    """``should_stop`` asked at most every ``every_s`` seconds (it may query a database); once True, stays True."""
    state = {"at": 0.0, "stop": False}

    def check() -> bool:
        now = time.monotonic()
        if not state["stop"] and now - state["at"] >= every_s:
            state["at"] = now
            state["stop"] = bool(should_stop())
        return state["stop"]

    return check
