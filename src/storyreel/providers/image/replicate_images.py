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

from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.providers.base import ImageRequest, ImageResult
from storyreel.providers.http import JsonHttp, MalformedResponse, ProviderRejected
from storyreel.providers.image.gemini_images import aspect_ratio
from storyreel.providers.image.openai_images import fit_image, save_png
from storyreel.providers.prices import image_price

TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
REJECTION = re.compile(r"nsfw|safety|content policy|moderation", re.I)


class ReplicateImages:
    """Settings: ``replicate_base_url``, ``REPLICATE_API_TOKEN``, ``image_timeout_s``, ``image_poll_s``,
    ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    code_version: ClassVar[str] = "replicate-images/1"

    def __init__(self, model: str, settings: Settings) -> None:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
            raise ProviderError(f"replicate: model must be owner/name, got {model!r}")
        self.model = model
        self.provider_id = f"replicate:{model}"
        self.settings = settings
        self._http: JsonHttp | None = None

    @classmethod
    def for_model(cls, model: str, settings: Settings | None = None) -> ReplicateImages:
        return cls(model, settings or Settings())

    @property
    def http(self) -> JsonHttp:
        if self._http is None:
            token = self.settings.replicate_api_token.get_secret_value() if self.settings.replicate_api_token else ""
            if not token:
                raise ProviderError("replicate: no API token (set REPLICATE_API_TOKEN)")
            s = self.settings
            self._http = JsonHttp.for_images("replicate", s.replicate_base_url, {"Authorization": f"Bearer {token}"}, s,
                                             secret=token, timeout_s=min(60.0, s.image_timeout_s))
        return self._http

    def identity(self) -> dict:
        return {"model": self.model}

    def payload(self, request: ImageRequest) -> dict:
        return {"input": {"prompt": request.prompt, "aspect_ratio": aspect_ratio(request.width, request.height),
                          "seed": request.seed, "output_format": "png"}}

    def estimate(self, request: ImageRequest) -> float:
        return image_price("replicate", self.model, "auto", 1024, 1024)[0]

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult:
        prediction = self.http.request("POST", f"/models/{self.model}/predictions", self.payload(request))
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
        save_png(fit_image(self.http.get_bytes(url), request.width, request.height), out_path)
        estimate, price = image_price("replicate", self.model, "auto", 1024, 1024)
        metrics = prediction.get("metrics") or {}
        return ImageResult(path=out_path, provider=self.provider_id, cost_usd=estimate,
                           provider_details={"model": self.model, "prediction_id": prediction.get("id"), "seed": request.seed,
                                             "predict_time_s": metrics.get("predict_time"), "cost_source": f"price table {price.as_of}"})
