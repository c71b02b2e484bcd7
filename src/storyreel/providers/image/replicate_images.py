"""``replicate:<owner/model>`` — Replicate predictions API.

Create ``POST {base}/models/{owner}/{model}/predictions`` with ``{"input": {prompt, aspect_ratio, seed,
output_format: "png"}}`` (a 429 on create is retried by us, honouring ``Retry-After``), then poll
``GET {base}/predictions/{id}`` every ``image_poll_s`` until the status is terminal: ``succeeded``
(download ``output`` — a URL or a list of URLs), ``failed`` (an ``error`` mentioning NSFW/safety is a
rejection, anything else a provider error), ``canceled`` or ``aborted``. A prediction still running after
``image_timeout_s`` is cancelled (``POST urls.cancel``) and the call fails.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import ClassVar

from storyreel.core.errors import ConfigError, ProviderError
from storyreel.providers.base import HttpImageProvider, ImageRequest, ImageResult
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.pixels import aspect_ratio, save_fitted
from storyreel.providers.prices import image_price

TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
REJECTION = re.compile(r"nsfw|safety|content policy|moderation", re.I)


class ReplicateImages(HttpImageProvider):
    """Settings: ``replicate_base_url``, ``REPLICATE_API_TOKEN``, ``image_timeout_s``, ``image_poll_s``,
    ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    vendor: ClassVar[str] = "replicate"
    code_version: ClassVar[str] = "replicate-images/1"
    connection = CONNECTIONS["replicate"]

    def __init__(self, model: str, settings=None) -> None:  # noqa: ANN001
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
            raise ConfigError(f"replicate: model must be owner/name, got {model!r}", hint="e.g. replicate:black-forest-labs/flux-schnell")
        super().__init__(model, settings)

    def timeout_s(self) -> float:
        """Create and poll calls return at once; only the wait for the result is long (``image_timeout_s``)."""
        return min(60.0, self.settings.image_timeout_s)


    def payload(self, request: ImageRequest) -> dict:
        return {"input": {"prompt": request.prompt, "aspect_ratio": aspect_ratio(request.width, request.height),
                          "seed": request.seed, "output_format": "png"}}

    def estimate(self, request: ImageRequest) -> float:
        return image_price("replicate", self.model, "auto", 1024, 1024)[0]

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult:
        prediction = self._finished(self.http.request("POST", f"/models/{self.model}/predictions", self.payload(request)))
        status = prediction["status"]
        if status != "succeeded":
            error = str(prediction.get("error") or status)
            if status == "failed" and REJECTION.search(error):
                raise ProviderRejected(error)
            raise ProviderError(f"replicate: prediction {prediction.get('id')} {status}: {error}")
        output = prediction.get("output")
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str) or not url:
            raise MalformedResponse("replicate: succeeded without an output URL")
        save_fitted(self.http.get_bytes(url), request.width, request.height, out_path)
        estimate, price = image_price("replicate", self.model, "auto", 1024, 1024)
        metrics = prediction.get("metrics") or {}
        return ImageResult(path=out_path, provider=self.provider_id, cost_usd=estimate,
                           provider_details={"model": self.model, "prediction_id": prediction.get("id"), "seed": request.seed,
                                             "predict_time_s": metrics.get("predict_time"), "cost_source": f"price table {price.as_of}"})

    def _finished(self, prediction: dict) -> dict:
        """Poll ``GET /predictions/{id}`` every ``image_poll_s`` until the status is terminal; past
        ``image_timeout_s`` cancel the prediction and raise :class:`ProviderError`."""
        deadline = time.monotonic() + self.settings.image_timeout_s
        while prediction.get("status") not in TERMINAL:
            if "id" not in prediction:
                raise MalformedResponse("replicate: the prediction has no id")
            if time.monotonic() > deadline:
                try:
                    self.http.request("POST", f"/predictions/{prediction['id']}/cancel")
                except ProviderError:
                    pass  # the timeout is the error to report
                raise ProviderError(f"replicate: prediction {prediction['id']} still {prediction.get('status')} after "
                                    f"{self.settings.image_timeout_s:.0f} s; cancelled")
            time.sleep(self.settings.image_poll_s)
            prediction = self.http.request("GET", f"/predictions/{prediction['id']}")
        return prediction
