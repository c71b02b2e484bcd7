"""``replicate:<owner/model>`` — images through Replicate's predictions (the wire, with its crash safety — a
prediction created once, resumed by ID, a lost create adopted from the list — is :mod:`storyreel.providers.replicate`).

The input is ``{prompt, aspect_ratio, seed, output_format: "png"}`` (plus the reference images of the models in
:data:`REFERENCE_INPUTS`, as data URIs); the wait for the result is bounded by ``image_timeout_s``, polled every
``image_poll_s``. The output is downloaded without the API token (it is on Replicate's delivery host).
"""

from __future__ import annotations

import base64
import re
from typing import ClassVar

from storyreel.core.errors import ConfigError
from storyreel.providers.base import HttpImageProvider, ImageRequest, JobLog, Received
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse
from storyreel.providers.image.pixels import aspect_ratio, reference_jpeg, reference_placeholder
from storyreel.providers.prices import image_price
from storyreel.providers.replicate import DEDUPLICATION, Predictions
REFERENCE_INPUTS: dict[str, tuple[str, bool]] = {
    "google/nano-banana": ("image_input", True),
    "black-forest-labs/flux-kontext-pro": ("input_image", False),
    "black-forest-labs/flux-kontext-max": ("input_image", False),
}
"""Models that take input images: the input field and whether it takes a list (else the first reference only).
From each model's API schema on replicate.com (2026-12); other models get no references."""


class ReplicateImages(HttpImageProvider):
    """Settings: ``replicate_base_url``, ``REPLICATE_API_TOKEN``, ``image_timeout_s``, ``image_poll_s``,
    ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    vendor: ClassVar[str] = "replicate"
    code_version: ClassVar[str] = "replicate-images/1"
    connection = CONNECTIONS["replicate"]
    preflight_path: ClassVar[str | None] = "/models/{model}"  # models.get: free; 401 bad token, 404 unknown
    deduplication = DEDUPLICATION  # no idempotency key; an earlier attempt's prediction is found in the list and adopted

    def __init__(self, model: str, settings=None) -> None:  # noqa: ANN001
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
            raise ConfigError(f"replicate: model must be owner/name, got {model!r}", hint="e.g. replicate:black-forest-labs/flux-schnell")
        super().__init__(model, settings)
        self.accepts_reference_images = model in REFERENCE_INPUTS  # per model (REFERENCE_INPUTS)

    def timeout_s(self) -> float:
        """Create and poll calls return at once; only the wait for the result is long (``image_timeout_s``)."""
        return min(60.0, self.settings.image_timeout_s)

    def payload(self, request: ImageRequest) -> dict:
        """The prediction's input; a model that takes input images (:data:`REFERENCE_INPUTS`) gets the
        references, named here by their hash and sent by :meth:`fetch` as data URIs."""
        body = {"prompt": request.prompt, "aspect_ratio": aspect_ratio(request.width, request.height), "seed": request.seed,
                "output_format": "png"}
        if request.references and self.model in REFERENCE_INPUTS:
            field, many = REFERENCE_INPUTS[self.model]
            names = [reference_placeholder(r.sha256) for r in request.references]
            body[field] = names if many else names[0]
        return {"input": body}

    def _sent(self, request: ImageRequest, payload: dict) -> dict:
        """The input as sent: reference placeholders replaced by ``data:image/jpeg;base64,…`` URIs."""
        if not request.references or self.model not in REFERENCE_INPUTS:
            return payload
        field, many = REFERENCE_INPUTS[self.model]
        uris = [f"data:image/jpeg;base64,{base64.b64encode(reference_jpeg(r.path)).decode()}" for r in request.references]
        return {"input": {**payload["input"], field: uris if many else uris[0]}}

    def estimate(self, request: ImageRequest) -> float:
        return image_price(self.prices, self.model, "auto", 1024, 1024)[0]

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """The prediction (:meth:`Predictions.run <storyreel.providers.replicate.Predictions.run>`), then its output
        downloaded. Raises ``ProviderRejected``, ``ProviderError``, ``MalformedResponse``, ``UncertainCall``."""
        payload = self._sent(request, self.payload(request))
        prediction = Predictions(self, self.model).run(payload, jobs, deadline_s=self.settings.image_timeout_s,
                                                       poll_s=self.settings.image_poll_s)
        output = prediction.get("output")
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str) or not url:
            raise MalformedResponse("replicate: succeeded without an output URL")
        data = self.http.get_bytes(url)
        estimate, price = image_price(self.prices, self.model, "auto", 1024, 1024)
        metrics = prediction.get("metrics") or {}
        return Received(data=data, cost_usd=estimate, details={
            "model": self.model, "prediction_id": prediction.get("id"), "seed": request.seed,
            "predict_time_s": metrics.get("predict_time"), "cost_source": f"price table {price.as_of}"})
