"""``fal:<model id>`` — image-to-video models on fal's queue (``fal-ai/kling-video/…``, ``fal-ai/minimax/hailuo-02/…``,
``fal-ai/veo3.1/…``, ``fal-ai/bytedance/seedance/…``), configured by the capability table :data:`MODELS`.

Wire (https://fal.ai/docs/api-reference/inference-api and its queue OpenAPI, read 2026-12): ``POST {base}/{model id}``
with the model's input as the JSON body and ``Authorization: Key <FAL_KEY>``; the answer names the ``request_id``
and the ``status_url``, ``response_url`` and ``cancel_url`` to use (fal asks clients not to build them).
``GET status_url`` answers ``IN_QUEUE``, ``IN_PROGRESS`` or ``COMPLETED``; then ``GET response_url`` is the
model's output (``{"video": {"url": …}}``) or its error: HTTP 422 with ``detail[].type ==
"content_policy_violation"`` is moderation (never retried), any other error status a failed request.
``PUT cancel_url`` removes a queued request (a running one only gets a signal; the model may finish it).

Crash safety: fal documents **no idempotency key and no list of requests**, so the create is sent once — a 429
or a 5xx that surely did not reach fal is retried, a create whose answer was lost is uncertain spend (counted,
never sent again in the run). The four URLs are journaled the moment the create answers; a run after a crash or
a cancel polls that request instead of paying again, and one whose request ended without a video asks anew.
fal's own queue retries a request whose *runner* failed (up to 10 times, the same request ID, one bill):
storyreel leaves that on (it sends no ``X-Fal-No-Retry``) — it re-runs the request storyreel already journaled
instead of a second create — and bounds the whole wait with ``video_deadline_s``.

The schema check (``preflight(online=True)``, free): the model's input schema from
``STORYREEL_FAL_SCHEMA_URL`` (default ``https://fal.ai/api/openapi/queue/openapi.json``) ``?endpoint_id=<model>``;
a model without the table's start-frame field is refused, an end-frame field under another name is used by the
schema's name, durations narrow to the schema's enum, an audio flag the model lacks is not sent.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from typing import Any, ClassVar
from urllib.parse import urlencode, urlparse

from storyreel.core.cancel import Canceled, checkpoint
from storyreel.core.errors import ConfigError, MalformedResponse, ProviderError, ProviderRejected
from storyreel.providers.base import JobLog, JobState, Received, VideoRequest
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import poll_waits
from storyreel.providers.video.delivery import HttpVideoProvider, data_uri, optional_inputs, schema_durations, schema_fields

SCHEMA_URL = "https://fal.ai/api/openapi/queue/openapi.json"
STATES = {"IN_QUEUE": JobState.QUEUED, "IN_PROGRESS": JobState.RUNNING, "COMPLETED": JobState.SUCCEEDED}
"""fal's queue statuses as :class:`JobState`. ``COMPLETED`` means the request ended: its result then says whether it
made a video (``succeeded``), was refused (``moderated``: :class:`ProviderRejected`) or failed (:class:`FalFailed`)."""
SOURCE = "the models' API pages and queue OpenAPI schemas on fal.ai (read 2026-12-07; re-check before relying on them)"


class FalFailed(ProviderError):
    """fal answered the request's result with an error: the request ended without a video."""


@dataclass(frozen=True)
class FalModel:
    """What one fal image-to-video model takes. ``start``/``end``: its first- and last-frame URL fields (``end``
    None: no end frame); ``durations``: the lengths it makes, seconds, written as ``duration_format`` (fal's models
    take ``"5"`` or ``"6s"``); ``prompt_limit``: characters; ``negative``: takes ``negative_prompt``; ``audio_flag``:
    the boolean that turns its own sound off (None: it makes none); ``ratio``: takes ``aspect_ratio``."""

    start: str
    end: str | None
    durations: tuple[int, ...]
    duration_format: str = "{d}"
    prompt_limit: int = 2500
    negative: bool = False
    audio_flag: str | None = None
    ratio: bool = False


MODELS: dict[str, FalModel] = {
    "fal-ai/kling-video/v2.5-turbo/pro/image-to-video": FalModel("image_url", "tail_image_url", (5, 10), negative=True),
    "fal-ai/minimax/hailuo-02/standard/image-to-video": FalModel("image_url", "end_image_url", (6, 10), prompt_limit=2000),
    "fal-ai/veo3.1/image-to-video": FalModel("image_url", None, (4, 6, 8), "{d}s", 20000, negative=True,
                                             audio_flag="generate_audio", ratio=True),
    "fal-ai/veo3.1/first-last-frame-to-video": FalModel("first_frame_url", "last_frame_url", (4, 6, 8), "{d}s", 20000,
                                                        negative=True, audio_flag="generate_audio", ratio=True),
    "fal-ai/bytedance/seedance/v1/pro/image-to-video": FalModel("image_url", "end_image_url", tuple(range(3, 13)), ratio=True),
}
"""Capabilities per model, dated and sourced (:data:`SOURCE`); the online preflight checks each against the model's
own schema."""


class FalVideo(HttpVideoProvider):
    """Settings: ``FAL_KEY``, ``STORYREEL_FAL_BASE_URL`` (default ``https://queue.fal.run``),
    ``STORYREEL_FAL_SCHEMA_URL``, ``video_timeout_s``, ``video_poll_s``, ``video_deadline_s``, ``http_attempts``."""

    vendor: ClassVar[str] = "fal"
    code_version: ClassVar[str] = "fal-video/1"
    connection = CONNECTIONS["fal"]
    max_concurrency: ClassVar[int | None] = 2

    def __init__(self, model: str, settings: Any = None) -> None:
        if model not in MODELS:
            raise ConfigError(f"fal: no capability entry for video model {model!r}",
                              hint=f"one of {', '.join(sorted(MODELS))} (providers/video/fal_video.py)")
        super().__init__(model, settings)
        self.spec = MODELS[model]

    def classify(self, response: Any) -> ProviderError | None:
        """Moderation (HTTP 422 whose ``detail`` names ``content_policy_violation``) as :class:`ProviderRejected`; any
        other error answer to a request's result (``…/requests/{id}``) as :class:`FalFailed`."""
        if response.status_code < 400 or response.status_code in (429, 502, 503, 504):
            return None
        try:
            detail = response.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        items = detail if isinstance(detail, list) else []
        flagged = [d for d in items if isinstance(d, dict) and d.get("type") == "content_policy_violation"]
        if flagged:
            where = ".".join(str(p) for p in flagged[0].get("loc", [])[1:]) or "the input"
            return ProviderRejected(f"fal: {str(flagged[0].get('msg') or 'flagged by a content checker').rstrip('.')} ({where}; "
                                    f"{', '.join(flagged[0].get('categories') or []) or 'no category given'})")
        if re.search(r"/requests/[^/]+$", urlparse(str(response.request.url)).path):
            text = detail if isinstance(detail, str) else json.dumps(detail)[:300] if detail else response.text[:300]
            return FalFailed(f"fal: the request failed (HTTP {response.status_code}): {text}")
        return None

    def preflight(self, *, online: bool = False) -> None:
        """The key and base URL; ``online``, the model's input schema too (free, no key needed). Raises
        :class:`ConfigError` when the model lacks the table's start-frame field or fal knows no such model."""
        super().preflight()
        if not online:
            return
        base = self.settings.variable("STORYREEL_FAL_SCHEMA_URL") or SCHEMA_URL
        try:
            document = json.loads(self.http.get_bytes(f"{base}?{urlencode({'endpoint_id': self.model})}", max_bytes=8 * 2**20))
        except (ProviderError, ValueError):
            return  # no clear answer: the table's entry stands
        props = _input_properties(document, self.model)
        if props is None:
            return
        spec = self.spec
        end = schema_fields(self.provider_id, spec.start, spec.end, props, "providers/video/fal_video.py")
        durations, fmt = spec.durations, spec.duration_format
        listed = schema_durations(props)
        if listed:
            durations, fmt = listed[0], "{d}s" if listed[1] else "{d}"
        self.spec = replace(spec, end=end, durations=durations, duration_format=fmt,
                            audio_flag=spec.audio_flag if spec.audio_flag in props else None,
                            negative=spec.negative and "negative_prompt" in props, ratio=spec.ratio and "aspect_ratio" in props)

    def duration_for(self, request: VideoRequest) -> float:
        """The shortest length the model makes that covers ``request.duration_s``, else its longest."""
        return float(next((d for d in self.spec.durations if d >= request.duration_s), self.spec.durations[-1]))

    def payload(self, request: VideoRequest) -> dict:
        """The model's input; images named by their hash here (sent by :meth:`fetch` as data URIs)."""
        spec = self.spec
        body: dict[str, Any] = {"prompt": request.prompt[: spec.prompt_limit], spec.start: f"sha256:{request.start.sha256}",
                                "duration": spec.duration_format.format(d=int(self.duration_for(request))), "seed": request.seed}
        body.update(optional_inputs(spec, request))
        if spec.ratio:
            body["aspect_ratio"] = "9:16" if request.width < request.height else "16:9"
        return body

    def _sent(self, request: VideoRequest) -> dict:
        body = self.payload(request)
        for field, image in ((self.spec.start, request.start), (self.spec.end, request.end)):
            if field and image is not None and field in body:
                body[field] = data_uri(image)
        return body

    def fetch(self, request: VideoRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """The request (created once, or the journaled one polled again), its MP4 downloaded. Raises
        :class:`ProviderRejected` (moderation), :class:`FalFailed`, ``ProviderError`` (past the deadline — then
        cancelled at fal), ``MalformedResponse`` or ``UncertainCall`` (the create's answer was lost: not resent)."""
        job = _journaled(jobs)
        result = None
        if job is not None:
            try:
                result = self._result(job)
            except (FalFailed, ProviderRejected):
                job = None  # the journaled request ended without a video: this run asks anew
        if job is None:
            created = self.http.request("POST", f"/{self.model}", self._sent(request), idempotent=False,
                                        sending=jobs.record_attempt if jobs is not None else None)
            job = {k: created.get(k) for k in ("request_id", "status_url", "response_url", "cancel_url")}
            if not all(isinstance(v, str) and v for v in job.values()):
                raise MalformedResponse(f"fal: the submit answered without {', '.join(k for k, v in job.items() if not v)}")
            if jobs is not None:
                jobs.record_job(json.dumps(job))
            result = self._result(job)
        video = (result or {}).get("video")
        return self.deliver(video.get("url") if isinstance(video, dict) else None, request, job["request_id"],
                            predict_time_s=((result or {}).get("timings") or {}).get("inference"))

    def _cancel(self, job: dict) -> None:
        try:
            self.http.request("PUT", job["cancel_url"], idempotent=True)
        except ProviderError:
            pass  # the reason we cancel is the error to report

    def _result(self, job: dict) -> dict:
        """Poll ``status_url`` to ``COMPLETED`` within ``video_deadline_s`` (waits growing from ``video_poll_s``;
        past it, or when the job stops, the request is cancelled at fal), then read ``response_url``."""
        deadline = time.monotonic() + self.settings.video_deadline_s
        waits = poll_waits(self.settings.video_poll_s)
        while True:
            status = self.http.request("GET", job["status_url"]).get("status")
            now = STATES.get(str(status))
            if now is None:
                raise MalformedResponse(f"fal: request {job['request_id']} has status {status!r}")
            if now is JobState.SUCCEEDED:
                return self.http.request("GET", job["response_url"])
            if time.monotonic() > deadline:
                self._cancel(job)
                raise ProviderError(f"fal: request {job['request_id']} still {status} after {self.settings.video_deadline_s:.0f} s; "
                                    "cancel requested")
            time.sleep(min(next(waits), max(0.0, deadline - time.monotonic()) + 0.01))
            try:
                checkpoint()
            except Canceled:
                self._cancel(job)
                raise Canceled(f"canceled; fal request {job['request_id']} cancel requested", call_in_flight=True) from None


def _journaled(jobs: JobLog | None) -> dict | None:
    """The request an earlier attempt created (its four URLs, as journaled), or None."""
    raw = jobs.job_id() if jobs is not None else None
    try:
        job = json.loads(raw) if raw else None
    except ValueError:
        return None
    return job if isinstance(job, dict) and all(job.get(k) for k in ("request_id", "status_url", "response_url", "cancel_url")) else None


def _input_properties(document: dict, model: str) -> dict | None:
    """The input properties of ``model``'s submit operation in fal's queue OpenAPI document (the POST whose path is
    the model id, its JSON body's ``$ref``), or None when the document does not say."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    for path, ops in (document.get("paths") or {}).items():
        post = ops.get("post") if isinstance(ops, dict) else None
        if not isinstance(post, dict) or path.strip("/") != model:
            continue
        ref = (((post.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema", {}).get("$ref", "")
        props = (schemas.get(ref.rsplit("/", 1)[-1]) or {}).get("properties")
        return props if isinstance(props, dict) and props else None
    return None
