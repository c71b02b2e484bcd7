"""``runway:<model>`` — Runway's image-to-video API (``gen4.5``, ``gen4_turbo``, ``veo3.1``, ``veo3.1_fast``,
``seedance2``): ``POST {base}/image_to_video`` with ``Authorization: Bearer`` (``RUNWAYML_API_SECRET``) and
``X-Runway-Version: 2024-11-06`` on every request; the answer is a task ``id``; ``GET {base}/tasks/{id}`` until
its ``status`` is ``SUCCEEDED`` (``output``: URLs of the MP4), ``FAILED`` (``failure``, ``failureCode``) or
``CANCELLED``; ``PENDING``, ``THROTTLED`` and ``RUNNING`` are waiting. ``DELETE {base}/tasks/{id}`` cancels a
pending or running task. Body: ``model``, ``promptImage`` (the shot's image as a data URI; with an end frame, a
list ``[{uri, position: "first"}, {uri, position: "last"}]``), ``promptText`` (≤ 1,000 characters), ``ratio``
(pixels, e.g. ``1280:720``), ``duration``, ``seed``.

Runway has **no list endpoint and no idempotency key**, and its own SDK retries a create twice: storyreel sends
the create once with its own client — a 429 or a 5xx that surely did not reach Runway is retried, a create whose
answer was lost is uncertain spend (counted, never sent again in the run). The task ID is journaled the moment
the create answers; a run after a crash polls it instead of paying again. A ``failureCode`` starting with
``SAFETY.`` is moderation (``SAFETY.INPUT.*``, ``SAFETY.OUTPUT.*``): a rejection, never retried.
Wire format: https://docs.dev.runwayml.com/api/ (read 2026-12, as summarized in issue 26).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from storyreel.core.cancel import Canceled, checkpoint
from storyreel.core.errors import ConfigError, MalformedResponse, ProviderError, ProviderRejected
from storyreel.providers.base import JobLog, JobState, Received, VideoRequest
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import poll_waits
from storyreel.providers.video.delivery import HttpVideoProvider, data_uri

VERSION = {"X-Runway-Version": "2024-11-06"}
STATES = {"PENDING": JobState.QUEUED, "THROTTLED": JobState.QUEUED, "RUNNING": JobState.RUNNING, "SUCCEEDED": JobState.SUCCEEDED,
          "FAILED": JobState.FAILED, "CANCELLED": JobState.CANCELED}
"""Runway's task statuses as :class:`JobState`; a ``FAILED`` task whose ``failureCode`` starts with ``SAFETY.`` is
``moderated`` (:func:`state`)."""


def state(task: dict) -> JobState:
    """The task's normalized state. Raises :class:`MalformedResponse` for a status off the wire format."""
    found = STATES.get(str(task.get("status")))
    if found is None:
        raise MalformedResponse(f"runway: task {task.get('id')} has status {task.get('status')!r}")
    return JobState.MODERATED if found is JobState.FAILED and str(task.get("failureCode") or "").startswith("SAFETY.") else found


@dataclass(frozen=True)
class RunwayModel:
    """What one Runway model takes: ``durations`` (seconds), ``ratios`` (landscape, portrait, square — None where
    it has no square), whether it takes a last frame."""

    durations: tuple[int, ...]
    ratios: tuple[str, str, str | None]
    last_frame: bool = False
    prompt_limit: int = 1000  # promptText's documented limit


MODELS: dict[str, RunwayModel] = {
    "gen4.5": RunwayModel(tuple(range(2, 11)), ("1280:720", "720:1280", "960:960")),
    "gen4_turbo": RunwayModel(tuple(range(2, 11)), ("1280:720", "720:1280", "960:960")),  # first frame only
    "veo3.1": RunwayModel((4, 6, 8), ("1280:720", "720:1280", None), last_frame=True),
    "veo3.1_fast": RunwayModel((4, 6, 8), ("1280:720", "720:1280", None), last_frame=True),
    "seedance2": RunwayModel(tuple(range(2, 11)), ("1280:720", "720:1280", "960:960"), last_frame=True),
}
"""Capabilities per model (Runway's API reference as summarized in issue 26, read 2026-12; re-check before relying
on them)."""


class RunwayVideo(HttpVideoProvider):
    """Settings: ``RUNWAYML_API_SECRET``, ``STORYREEL_RUNWAY_BASE_URL``, ``video_timeout_s``, ``video_poll_s``,
    ``video_deadline_s``, ``http_attempts``."""

    vendor: ClassVar[str] = "runway"
    code_version: ClassVar[str] = "runway-video/1"
    connection = CONNECTIONS["runway"]
    max_concurrency: ClassVar[int | None] = 2  # tier 1's concurrent tasks

    def __init__(self, model: str, settings: Any = None) -> None:
        if model not in MODELS:
            raise ConfigError(f"runway: no capability entry for video model {model!r}", hint=f"one of {', '.join(MODELS)}")
        super().__init__(model, settings)
        self.spec = MODELS[model]

    @property
    def takes_end_frame(self) -> bool:
        return self.spec.last_frame

    def duration_for(self, request: VideoRequest) -> float:
        """The shortest length the model makes that covers ``request.duration_s``, else its longest."""
        return float(next((d for d in self.spec.durations if d >= request.duration_s), self.spec.durations[-1]))

    def ratio(self, request: VideoRequest) -> str:
        """The model's pixel ratio nearest the project's frame (a square frame gets landscape where it has no square)."""
        landscape, portrait, square = self.spec.ratios
        r = request.width / request.height
        if abs(r - 1) < 0.1 and square:
            return square
        return portrait if r < 1 else landscape

    def payload(self, request: VideoRequest) -> dict:
        """The body, images named by their hash (sent by :meth:`fetch` as data URIs)."""
        image: Any = f"sha256:{request.start.sha256}"
        if self.spec.last_frame and request.end is not None:
            image = [{"uri": image, "position": "first"}, {"uri": f"sha256:{request.end.sha256}", "position": "last"}]
        return {"model": self.model, "promptImage": image, "promptText": request.prompt[: self.spec.prompt_limit], "ratio": self.ratio(request),
                "duration": int(self.duration_for(request)), "seed": request.seed}

    def _sent(self, request: VideoRequest) -> dict:
        body = self.payload(request)
        if isinstance(body["promptImage"], list):
            body["promptImage"] = [{"uri": data_uri(request.start), "position": "first"},
                                   {"uri": data_uri(request.end), "position": "last"}]  # type: ignore[arg-type] - end is set: payload made a list
        else:
            body["promptImage"] = data_uri(request.start)
        return body

    def fetch(self, request: VideoRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """The task (created once, or the journaled one polled again), its MP4 downloaded. Raises
        ``ProviderRejected`` (moderation), ``ProviderError`` (failed, cancelled, past the deadline — then cancelled
        at Runway), ``MalformedResponse`` or ``UncertainCall`` (the create's answer was lost: counted, not resent)."""
        task_id = jobs.job_id() if jobs is not None else None
        if task_id is not None and state(self.http.request("GET", f"/tasks/{task_id}", headers=VERSION)) in (
                JobState.FAILED, JobState.MODERATED, JobState.CANCELED):
            task_id = None  # the journaled task ended without an output (refused, cancelled): this run asks anew
        if task_id is None:
            created = self.http.request("POST", "/image_to_video", self._sent(request), headers=VERSION, idempotent=False,
                                        sending=jobs.record_attempt if jobs is not None else None)
            task_id = str(created.get("id") or "")
            if not task_id:
                raise MalformedResponse("runway: the create answered no task id")
            if jobs is not None:
                jobs.record_job(task_id)
        task = self._finished(task_id)
        return self.deliver(task.get("output"), request, task_id)

    def _cancel(self, task_id: str) -> None:
        try:
            self.http.request("DELETE", f"/tasks/{task_id}", headers=VERSION, idempotent=True)
        except ProviderError:
            pass  # the reason we cancel is the error to report

    def _finished(self, task_id: str) -> dict:
        """Poll the task to a terminal status within ``video_deadline_s`` (waits growing from ``video_poll_s``) (past it, or when the job stops, the task is
        cancelled at Runway). Raises :class:`ProviderRejected` for a ``SAFETY.`` failure, else ``ProviderError``."""
        deadline = time.monotonic() + self.settings.video_deadline_s
        waits = poll_waits(self.settings.video_poll_s)
        while True:
            task = self.http.request("GET", f"/tasks/{task_id}", headers=VERSION)
            now = state(task)
            if now is JobState.SUCCEEDED:
                return task
            if now in (JobState.FAILED, JobState.MODERATED):
                message = f"runway: task {task_id} failed: {task.get('failure') or task.get('failureCode') or 'no reason given'}"
                raise ProviderRejected(message) if now is JobState.MODERATED else ProviderError(message)
            if now is JobState.CANCELED:
                raise ProviderError(f"runway: task {task_id} was cancelled")
            status = task.get("status")
            if time.monotonic() > deadline:
                self._cancel(task_id)
                raise ProviderError(f"runway: task {task_id} still {status} after {self.settings.video_deadline_s:.0f} s; cancelled")
            time.sleep(min(next(waits), max(0.0, deadline - time.monotonic()) + 0.01))
            try:
                checkpoint()
            except Canceled:
                self._cancel(task_id)
                raise Canceled(f"canceled; runway task {task_id} cancelled at the vendor", call_in_flight=True) from None

