"""``replicate:<owner/model>`` in the ``video`` modality — image-to-video models on Replicate, configured by the
capability table :data:`MODELS` over one wire (:mod:`storyreel.providers.replicate`: a prediction created once,
its ID journaled before polling, resumed after a crash, a lost create adopted from the list, a deadline that
cancels it at the vendor).

The input carries the shot's image as a data URI in the model's start-frame field (vendors cannot fetch a local
URL), the end frame in its end-frame field where the model has one, the motion prompt cut to the model's limit,
the negative prompt where it takes one, the duration (the shortest the model allows that covers the shot,
:meth:`ReplicateVideo.duration_for`) and, where the model makes sound by default, its audio flag set to false —
storyreel lays its own narration and does not buy the vendor's audio. The MP4 is downloaded at once (Replicate
deletes inputs and outputs after an hour) and journaled before anything else.

Cost: the model's price per second of output (:data:`~storyreel.providers.prices.REPLICATE`) times the duration
asked for; a model not priced there is estimated at the dearest listed rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from storyreel.core.errors import ConfigError
from storyreel.providers.base import JobLog, Received, VideoRequest
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.replicate import DEDUPLICATION, Predictions
from storyreel.providers.video.delivery import HttpVideoProvider, data_uri, optional_inputs, schema_durations, schema_fields

SOURCE = "the models' API schemas on replicate.com, as summarized in issue 26 (read 2026-12; re-check before relying on them)"


@dataclass(frozen=True)
class VideoModel:
    """What one image-to-video model takes. ``durations``: the lengths it makes, seconds (None with ``fixed_s``:
    one length it always makes and no duration input); ``start``/``end``: its first- and last-frame input fields
    (``end`` None: no end frame); ``prompt_limit``: characters; ``negative``: takes ``negative_prompt``;
    ``audio_flag``: the boolean input that turns its own sound off (None: it makes none)."""

    start: str
    end: str | None
    durations: tuple[int, ...] | None
    prompt_limit: int = 2500
    negative: bool = False
    audio_flag: str | None = None
    fixed_s: float | None = None


MODELS: dict[str, VideoModel] = {
    "kwaivgi/kling-v3-video": VideoModel("start_image", "end_image", tuple(range(3, 16)), 2500, negative=True),
    "bytedance/seedance-2.0": VideoModel("image", "last_frame_image", tuple(range(3, 16)), audio_flag="generate_audio"),
    "bytedance/seedance-2.0-fast": VideoModel("image", "last_frame_image", tuple(range(3, 16)), audio_flag="generate_audio"),
    "minimax/hailuo-02": VideoModel("first_frame_image", "last_frame_image", (6, 10)),
    "google/veo-3.1": VideoModel("image", "last_frame", (4, 6, 8), negative=True, audio_flag="generate_audio"),
    "wan-video/wan-2.2-i2v-fast": VideoModel("image", None, None, fixed_s=5.0),
}
"""Capabilities per model, dated and sourced (:data:`SOURCE`). Seedance and Veo make sound unless told not to;
Hailuo's end-frame field name differs between peers — to be validated against the model's OpenAPI schema."""


class ReplicateVideo(HttpVideoProvider):
    """Settings: ``REPLICATE_API_TOKEN``, ``STORYREEL_REPLICATE_BASE_URL``, ``video_timeout_s`` (one HTTP request),
    ``video_poll_s`` and ``video_deadline_s`` (the wait for one clip), ``http_attempts``."""

    vendor: ClassVar[str] = "replicate"
    code_version: ClassVar[str] = "replicate-video/1"
    connection = CONNECTIONS["replicate"]
    preflight_path: ClassVar[str | None] = "/models/{model}"
    deduplication = DEDUPLICATION
    max_concurrency: ClassVar[int | None] = 4

    def __init__(self, model: str, settings: Any = None) -> None:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
            raise ConfigError(f"replicate: model must be owner/name, got {model!r}", hint="e.g. replicate:kwaivgi/kling-v3-video")
        if model not in MODELS:
            raise ConfigError(f"replicate: no capability entry for video model {model!r}",
                              hint=f"one of {', '.join(sorted(MODELS))} (providers/video/replicate_video.py)")
        super().__init__(model, settings)
        self.spec = MODELS[model]

    def identity(self) -> dict:
        return {"model": self.model}

    def preflight(self, *, online: bool = False) -> None:
        """The key and base URL; ``online``, the model's own input schema too (``GET /models/{owner}/{name}``,
        ``latest_version.openapi_schema``, free): a model that lacks the start-frame field :data:`MODELS` names
        is refused (:class:`ConfigError`); an end-frame field under another name (peers disagree for Hailuo) is
        used by the name the schema has, or end frames are not sent; durations are narrowed to the schema's enum and
        an audio flag the schema lacks is not sent. A model without a schema keeps the table's entry."""
        super().preflight()
        if not online:
            return
        from dataclasses import replace

        from storyreel.core.errors import ProviderError

        status = self.http.probe(f"/models/{self.model}")
        if status in (401, 403):
            raise ConfigError(f"{self.provider_id}: the API token was refused (HTTP {status})", hint="set a valid REPLICATE_API_TOKEN")
        if status == 404:
            raise ConfigError(f"{self.provider_id}: Replicate knows no model {self.model!r} (HTTP 404)", hint="check the model name")
        if status != 200:
            return  # a 5xx or no answer does not decide: the table's entry stands
        try:
            model = self.http.request("GET", f"/models/{self.model}")
        except ProviderError:
            return
        schema = ((model.get("latest_version") or {}).get("openapi_schema") or {}).get("components", {}).get("schemas", {})
        props = (schema.get("Input") or {}).get("properties")
        if not isinstance(props, dict) or not props:
            return
        spec = self.spec
        end = schema_fields(self.provider_id, spec.start, spec.end, props, "providers/video/replicate_video.py")
        listed = schema_durations(props)
        durations = listed[0] if listed and spec.durations is not None else spec.durations
        audio = spec.audio_flag if spec.audio_flag in props else None
        self.spec = replace(spec, end=end, durations=durations, audio_flag=audio)

    def duration_for(self, request: VideoRequest) -> float:
        """The clip length: the shortest the model allows that is at least ``request.duration_s``, else its
        longest (the stage then holds the last frame or slows the clip); a fixed-length model's length."""
        if self.spec.durations is None:
            return float(self.spec.fixed_s or 5.0)
        return float(next((d for d in self.spec.durations if d >= request.duration_s), self.spec.durations[-1]))

    def payload(self, request: VideoRequest) -> dict:
        """The prediction's input; the images named by their hash here (sent by :meth:`fetch` as data URIs)."""
        spec = self.spec
        body: dict[str, Any] = {"prompt": request.prompt[: spec.prompt_limit], spec.start: f"sha256:{request.start.sha256}",
                                "seed": request.seed}
        if spec.durations is not None:
            body["duration"] = int(self.duration_for(request))
        body.update(optional_inputs(spec, request))
        body["aspect_ratio"] = _ratio(request.width, request.height)
        return {"input": body}

    def _sent(self, request: VideoRequest, payload: dict) -> dict:
        """The input as sent: each image a ``data:image/…;base64,…`` URI."""
        sent = dict(payload["input"])
        for field, image in ((self.spec.start, request.start), (self.spec.end, request.end)):
            if field and image is not None and field in sent:
                sent[field] = data_uri(image)
        return {"input": sent}

    def fetch(self, request: VideoRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """The prediction, polled to its end within ``video_deadline_s``, and its MP4 downloaded. Raises
        ``ProviderRejected`` (moderation: never retried), ``ProviderError`` (failed, cancelled, past the deadline),
        ``MalformedResponse`` (no MP4 in the answer) or ``UncertainCall``."""
        prediction = Predictions(self, self.model).run(self._sent(request, self.payload(request)), jobs,
                                                       deadline_s=self.settings.video_deadline_s, poll_s=self.settings.video_poll_s)
        return self.deliver(prediction.get("output"), request, str(prediction.get("id")),
                            predict_time_s=(prediction.get("metrics") or {}).get("predict_time"))


def _ratio(width: int, height: int) -> str:
    """The nearest of the aspect ratios video models take (16:9, 9:16, 1:1)."""
    r = width / height
    return min((("16:9", 16 / 9), ("9:16", 9 / 16), ("1:1", 1.0)), key=lambda kv: abs(kv[1] - r))[0]
