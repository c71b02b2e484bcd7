"""The part every image-to-video adapter shares once its vendor says a clip is done: the image sent inline, the
MP4 downloaded at once (vendors delete outputs within hours: Replicate after one), checked to be an MP4, and
priced per second of the length asked for (:class:`HttpVideoProvider`)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from storyreel.core.errors import MalformedResponse
from storyreel.providers.base import HttpProvider, Received, ReferenceImage, VideoRequest
from storyreel.providers.prices import video_price

MAX_CLIP_BYTES = 512 * 2**20
END_FIELDS = ("end_image", "last_frame_image", "last_frame", "end_frame_image", "end_image_url", "tail_image_url", "last_frame_url",
              "end_frame")
"""Names models use for the last frame, tried in order when a capability table's name is not in a model's schema."""
def schema_fields(provider_id: str, start: str, end: str | None, props: dict, table: str) -> str | None:
    """Check a model's input schema (``props``: its input properties) against a capability table's frame fields: the
    end-frame field to send — the table's, else another name from :data:`END_FIELDS` the schema has, else None.
    Raises :class:`~storyreel.core.errors.ConfigError` when the schema lacks the start-frame field (``table``: the
    module to update)."""
    from storyreel.core.errors import ConfigError

    if start not in props:
        raise ConfigError(f"{provider_id}: the model takes no {start!r} image (its inputs: {', '.join(sorted(props))})",
                          hint=f"update MODELS in {table}")
    return end if end in props else next((f for f in END_FIELDS if f in props), None)


def schema_durations(props: dict) -> tuple[tuple[int, ...], bool] | None:
    """The lengths a model's schema lists for ``duration`` (``enum`` of ``5``, ``"5"`` or ``"6s"``), seconds, and
    whether they are written with an ``s``; None when it lists none."""
    import re

    enum = (props.get("duration") or {}).get("enum")
    if not isinstance(enum, list) or not enum:
        return None
    parsed = sorted(int(m.group(1)) for d in enum if (m := re.fullmatch(r"(\d+)s?", str(d))))
    return (tuple(parsed), any(str(d).endswith("s") for d in enum)) if parsed else None


def optional_inputs(spec: Any, request: VideoRequest) -> dict[str, Any]:
    """The inputs a capability table entry (``end``, ``negative``, ``prompt_limit``, ``audio_flag``) adds to a body: the
    end frame by hash where the model takes one, the negative prompt within the limit, the audio flag set false."""
    body: dict[str, Any] = {}
    if spec.end and request.end is not None:
        body[spec.end] = f"sha256:{request.end.sha256}"
    if spec.negative and request.negative_prompt:
        body["negative_prompt"] = request.negative_prompt[: spec.prompt_limit]
    if spec.audio_flag:
        body[spec.audio_flag] = False
    return body


def data_uri(image: ReferenceImage) -> str:
    """``data:image/png|jpeg;base64,…`` of an image file (vendors cannot fetch a local URL)."""
    data = Path(image.path).read_bytes()
    kind = "png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


class HttpVideoProvider(HttpProvider):
    """Base of the video adapters: ``duration_for`` (declared by each), the per-second estimate, one request's
    timeout (``video_timeout_s``) and :meth:`deliver`."""

    modality = "video"

    def timeout_s(self) -> float:
        return self.settings.video_timeout_s

    def duration_for(self, request: VideoRequest) -> float:
        raise NotImplementedError

    @property
    def prompt_limit(self) -> int:
        """The longest motion prompt the model takes, characters (its capability table's, else 1,000)."""
        return int(getattr(getattr(self, "spec", None), "prompt_limit", 1000))

    @property
    def takes_end_frame(self) -> bool:
        """Whether the model takes a last frame (its capability table's end-frame field, as the schema check left it)."""
        return bool(getattr(getattr(self, "spec", None), "end", None))

    def estimate(self, request: VideoRequest) -> float:
        return round(self.duration_for(request) * video_price(self.prices, self.model).usd_per_second, 6)

    def deliver(self, output: Any, request: VideoRequest, job_id: str, **details: Any) -> Received:
        """The clip at ``output`` (a URL or a list whose first item is one) downloaded and priced. Raises
        :class:`MalformedResponse` when there is no URL or the file is not an MP4."""
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str) or not url:
            raise MalformedResponse(f"{self.vendor}: job {job_id} succeeded without an output URL")
        data = self.http.get_bytes(url, max_bytes=MAX_CLIP_BYTES)
        if data[4:8] != b"ftyp":
            raise MalformedResponse(f"{self.vendor}: the output of job {job_id} is not an MP4 (no ftyp box)")
        seconds = self.duration_for(request)
        price = video_price(self.prices, self.model)
        return Received(data=data, media_type="video/mp4", cost_usd=round(seconds * price.usd_per_second, 6), details={
            "model": self.model, "prediction_id": job_id, "duration_s": seconds, "seed": request.seed, **details,
            "cost_source": f"{seconds:g} s × price table {price.as_of}"})
