"""``google:<model>`` in the ``video`` modality — Gemini Omni image-to-video (``gemini-omni-1.1-flash``) through the
Gemini API's Interactions API, Google's successor to the Veo previews it shut down on 2026-10-22.

Wire format, as ``google-genai``'s own generated client declares it (``google/genai/_gaos/interactions.py`` and
``types/interactions/{createmodelinteraction,generationconfig,videoconfig,videoresponseformat,interaction,
videocontent}.py``, snapshot of 2026-08-21; the ``gemini`` connection's base URL and ``x-goog-api-key``, and the
``Api-Revision: 2026-05-20`` header the SDK pins):

- ``POST {base}/interactions`` with ``model``, ``input`` (a ``text`` block — the motion prompt — and an ``image``
  block: the shot's image, base64), ``generation_config`` (``video_config.task = "image_to_video"``, ``seed``),
  ``response_format`` (``type: "video"``, ``aspect_ratio`` ``16:9``/``9:16``, ``resolution: "720p"``,
  ``delivery: "inline"``) and ``background: true``; the answer is the interaction (``id``, ``status``).
- ``GET {base}/interactions/{id}`` until ``status`` is ``completed`` (the video is the last ``video`` block of the
  ``model_output`` steps, base64 in ``data``), ``failed``, ``cancelled``, ``incomplete`` or ``budget_exceeded``;
  ``queued`` and ``in_progress`` are waiting. ``POST {base}/interactions/{id}/cancel`` stops it.

What the SDK does not pin down is not sent: the response format's ``duration`` is typed as a bare string with no
format, and there is no last-frame field — so the model picks its length (3–10 s, the clip is fitted to the shot
like any other: ≤ 1.25× slower, then its last frame held) and only the first frame is sent. Omni always makes sound
(storyreel drops it; the price includes it). Cost: the price per second (:data:`~storyreel.providers.prices.GEMINI`)
× the length of the MP4 as delivered; reserved at the longest length, 10 s.

No idempotency key and no list of interactions: the create is sent once; a lost answer is uncertain spend (never
sent again in the run). The interaction ID is journaled the moment the create answers; a run after a crash polls
it. A failure whose errors name safety, a policy or a block is moderation (:class:`ProviderRejected`).
"""

from __future__ import annotations

import base64
import io
import re
import time
from typing import ClassVar

from storyreel.core.cancel import Canceled, checkpoint
from storyreel.core.errors import MalformedResponse, ProviderError, ProviderRejected
from storyreel.providers.base import JobLog, JobState, Received, VideoRequest
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import poll_waits
from storyreel.providers.prices import video_price
from storyreel.providers.video.delivery import MAX_CLIP_BYTES, HttpVideoProvider

REVISION = {"Api-Revision": "2026-05-20"}
STATES = {"queued": JobState.QUEUED, "in_progress": JobState.RUNNING, "completed": JobState.SUCCEEDED, "failed": JobState.FAILED,
          "incomplete": JobState.FAILED, "budget_exceeded": JobState.FAILED, "requires_action": JobState.FAILED,
          "cancelled": JobState.CANCELED}
"""The interaction statuses google-genai declares (``InteractionStatus``) as :class:`JobState`; a failure whose
errors name safety, a policy or a block is ``moderated`` (:func:`state`)."""
REJECTION = re.compile(r"safety|policy|blocked|prohibited|sensitive|moderat", re.I)


def state(interaction: dict) -> JobState:
    """The interaction's normalized state. Raises :class:`MalformedResponse` for a status off the wire format."""
    found = STATES.get(str(interaction.get("status")))
    if found is None:
        raise MalformedResponse(f"google: interaction {interaction.get('id')} has status {interaction.get('status')!r}")
    return JobState.MODERATED if found is JobState.FAILED and REJECTION.search(_errors(interaction)) else found


def _errors(interaction: dict) -> str:
    return "; ".join(str(e.get("message") or e) for e in interaction.get("errors") or [] if isinstance(e, dict))
LONGEST_S = 10.0
"""The longest clip the model makes (Google's model page as summarized in issue 26): the reservation's length."""


class GeminiVideo(HttpVideoProvider):
    """Settings: ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``), ``STORYREEL_GEMINI_BASE_URL``, ``video_timeout_s``,
    ``video_poll_s``, ``video_deadline_s``, ``http_attempts``."""

    vendor: ClassVar[str] = "google"
    code_version: ClassVar[str] = "gemini-video/1"
    connection = CONNECTIONS["gemini"]
    max_concurrency: ClassVar[int | None] = 2

    @property
    def prompt_limit(self) -> int:
        return 4000

    @property
    def takes_end_frame(self) -> bool:
        return False  # google-genai declares no last-frame input

    def duration_for(self, request: VideoRequest) -> float:
        """The length reserved: the model picks its own (3–10 s), so the longest."""
        return LONGEST_S

    def payload(self, request: VideoRequest) -> dict:
        """The interaction's body; the image named by its hash here (sent by :meth:`fetch` inline, base64)."""
        return {
            "model": self.model, "background": True,
            "input": [{"type": "text", "text": request.prompt[: self.prompt_limit]},
                      {"type": "image", "data": f"sha256:{request.start.sha256}", "mime_type": _mime(request.start.path)}],
            "generation_config": {"video_config": {"task": "image_to_video"}, "seed": request.seed},
            "response_format": {"type": "video", "aspect_ratio": "9:16" if request.width < request.height else "16:9",
                                "resolution": "720p", "delivery": "inline"},
        }

    def _sent(self, request: VideoRequest) -> dict:
        from pathlib import Path

        body = self.payload(request)
        body["input"][1]["data"] = base64.b64encode(Path(request.start.path).read_bytes()).decode()
        return body

    def fetch(self, request: VideoRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """The interaction (created once, or the journaled one polled again) and its MP4. Raises
        :class:`ProviderRejected` (moderation), ``ProviderError`` (failed, cancelled, past the deadline — then
        cancelled at Google), ``MalformedResponse`` or ``UncertainCall`` (the create's answer was lost)."""
        known = jobs.job_id() if jobs is not None else None
        if known is not None and state(self.http.request("GET", f"/interactions/{known}", headers=REVISION)) in (
                JobState.FAILED, JobState.MODERATED, JobState.CANCELED):
            known = None  # it ended without a video: this run asks anew
        if known is None:
            created = self.http.request("POST", "/interactions", self._sent(request), headers=REVISION, idempotent=False,
                                        sending=jobs.record_attempt if jobs is not None else None)
            known = str(created.get("id") or "")
            if not known:
                raise MalformedResponse("google: the create answered no interaction id")
            if jobs is not None:
                jobs.record_job(known)
        done = self._finished(known)
        data = _video(done)
        if data[4:8] != b"ftyp":
            raise MalformedResponse(f"google: the video of interaction {known} is not an MP4 (no ftyp box)")
        seconds = round(_seconds(data), 3)
        price = video_price(self.prices, self.model)
        return Received(data=data, media_type="video/mp4", cost_usd=round(seconds * price.usd_per_second, 6), details={
            "model": self.model, "prediction_id": known, "duration_s": seconds, "seed": request.seed,
            "cost_source": f"{seconds:g} s as delivered × price table {price.as_of}"})

    def _cancel(self, interaction_id: str) -> None:
        try:
            self.http.request("POST", f"/interactions/{interaction_id}/cancel", headers=REVISION, idempotent=True)
        except ProviderError:
            pass

    def _finished(self, interaction_id: str) -> dict:
        """Poll to ``completed`` within ``video_deadline_s`` (waits growing from ``video_poll_s``)."""
        deadline = time.monotonic() + self.settings.video_deadline_s
        waits = poll_waits(self.settings.video_poll_s)
        while True:
            found = self.http.request("GET", f"/interactions/{interaction_id}", headers=REVISION)
            now, status = state(found), found.get("status")
            if now is JobState.SUCCEEDED:
                return found
            if not now.waiting:
                message = f"google: interaction {interaction_id} {status}: {_errors(found) or 'no reason given'}"
                raise ProviderRejected(message) if now is JobState.MODERATED else ProviderError(message)
            if time.monotonic() > deadline:
                self._cancel(interaction_id)
                raise ProviderError(f"google: interaction {interaction_id} still {status} after {self.settings.video_deadline_s:.0f} s; cancelled")
            time.sleep(min(next(waits), max(0.0, deadline - time.monotonic()) + 0.01))
            try:
                checkpoint()
            except Canceled:
                self._cancel(interaction_id)
                raise Canceled(f"canceled; google interaction {interaction_id} cancelled", call_in_flight=True) from None


def _mime(path: str) -> str:
    with open(path, "rb") as fh:
        return "image/png" if fh.read(8) == b"\x89PNG\r\n\x1a\n" else "image/jpeg"


def _video(interaction: dict) -> bytes:
    """The last video block of the model's output steps, decoded. Raises :class:`MalformedResponse`."""
    for step in reversed(interaction.get("steps") or []):
        if not isinstance(step, dict) or step.get("type") != "model_output":
            continue
        for item in reversed(step.get("content") or []):
            if isinstance(item, dict) and item.get("type") == "video" and item.get("data"):
                raw = str(item["data"])
                if len(raw) > MAX_CLIP_BYTES * 4 // 3 + 4:
                    raise MalformedResponse("google: the video is larger than storyreel accepts")
                try:
                    return base64.b64decode(raw, validate=True)
                except ValueError:
                    raise MalformedResponse("google: the video block is not base64") from None
    raise MalformedResponse(f"google: interaction {interaction.get('id')} completed without a video")


def _seconds(data: bytes) -> float:
    """Length of an MP4's first video stream, seconds."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1_000_000
