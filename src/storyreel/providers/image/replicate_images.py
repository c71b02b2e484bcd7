"""``replicate:<owner/model>`` — Replicate predictions API.

Create ``POST {base}/models/{owner}/{model}/predictions`` with ``{"input": {prompt, aspect_ratio, seed,
output_format: "png"}}`` (a 429 on create is retried by us, honouring ``Retry-After``), then poll
``GET {base}/predictions/{id}`` every ``image_poll_s`` until the status is terminal: ``succeeded``
(download ``output`` — a URL or a list of URLs), ``failed`` (an ``error`` mentioning NSFW/safety is a
rejection, anything else a provider error), ``canceled`` or ``aborted``. A prediction still running after
``image_timeout_s`` is cancelled (``POST urls.cancel``) and the call fails.

A prediction is created once: its ID goes into the received journal as soon as the create answers, and a
run that stopped while polling polls the same prediction again. When the create's own answer is lost
(timeout, reset), the recent predictions are listed (``GET {base}/predictions``) and one with exactly our
input is adopted; only when none is there is the create repeated. The output is downloaded without the
API token (it is on Replicate's delivery host, not the API host).
"""

from __future__ import annotations

import base64
import re
import time
from typing import ClassVar

from storyreel.core.cancel import Canceled, checkpoint
from storyreel.core.errors import ConfigError, ProviderError, UncertainCall
from storyreel.providers.base import Deduplication, HttpImageProvider, ImageRequest, JobLog, Received
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.pixels import aspect_ratio, reference_jpeg, reference_placeholder
from storyreel.providers.prices import image_price

TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
REFERENCE_INPUTS: dict[str, tuple[str, bool]] = {
    "google/nano-banana": ("image_input", True),
    "black-forest-labs/flux-kontext-pro": ("input_image", False),
    "black-forest-labs/flux-kontext-max": ("input_image", False),
}
"""Models that take input images: the input field and whether it takes a list (else the first reference only).
From each model's API schema on replicate.com (2026-12); other models get no references."""
REJECTION = re.compile(r"nsfw|safety|content policy|moderation", re.I)


class ReplicateImages(HttpImageProvider):
    """Settings: ``replicate_base_url``, ``REPLICATE_API_TOKEN``, ``image_timeout_s``, ``image_poll_s``,
    ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    vendor: ClassVar[str] = "replicate"
    code_version: ClassVar[str] = "replicate-images/1"
    connection = CONNECTIONS["replicate"]
    preflight_path: ClassVar[str | None] = "/models/{model}"  # models.get: free; 401 bad token, 404 unknown
    deduplication = Deduplication(  # no idempotency key; an earlier attempt's prediction is found in the list and adopted
        "adopt-by-listing", "https://replicate.com/docs/reference/http#predictions.list (newest first, with each input)", "2026-12")

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
        # 1. the prediction: the one an earlier attempt created, else a new one (recorded at once)
        known = jobs.job_id() if jobs is not None else None
        payload = self._sent(request, self.payload(request))
        if known:
            prediction = self.http.request("GET", f"/predictions/{known}")
        else:  # a create that went out before (the journal says so) may have made a prediction: look for it first
            earlier = self._find(payload["input"]) if jobs is not None and jobs.attempted() else None
            prediction = earlier or self._create(payload, jobs)
            if jobs is not None and prediction.get("id"):
                jobs.record_job(str(prediction["id"]))
        # 2. wait for its end, then download the output
        prediction = self._finished(prediction)
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
        data = self.http.get_bytes(url)
        estimate, price = image_price(self.prices, self.model, "auto", 1024, 1024)
        metrics = prediction.get("metrics") or {}
        return Received(data=data, cost_usd=estimate, details={
            "model": self.model, "prediction_id": prediction.get("id"), "seed": request.seed,
            "predict_time_s": metrics.get("predict_time"), "cost_source": f"price table {price.as_of}"})

    def _cancel(self, prediction_id: str) -> None:
        try:
            self.http.request("POST", f"/predictions/{prediction_id}/cancel", idempotent=True)
        except ProviderError:
            pass  # the reason we cancel is the error to report

    def _create(self, payload: dict, jobs: JobLog | None) -> dict:
        """Create the prediction; when the create's answer is lost, adopt the prediction the vendor made from
        it if the list shows one, else create again (it was not made)."""
        try:
            return self.create(f"/models/{self.model}/predictions", payload, jobs=jobs)
        except UncertainCall:
            made = self._find(payload["input"])
            if made is not None:
                return made
            return self.create(f"/models/{self.model}/predictions", payload, jobs=jobs)

    def _find(self, inputs: dict) -> dict | None:
        """A recent prediction of this model with exactly ``inputs`` (the first page of ``GET /predictions``)."""
        listing = self.http.request("GET", "/predictions")
        for item in listing.get("results") or []:
            if isinstance(item, dict) and item.get("input") == inputs and str(item.get("model", self.model)) == self.model:
                return item
        return None

    def _finished(self, prediction: dict) -> dict:
        """Poll ``GET /predictions/{id}`` every ``image_poll_s`` until the status is terminal; past
        ``image_timeout_s`` cancel the prediction and raise :class:`ProviderError`."""
        deadline = time.monotonic() + self.settings.image_timeout_s
        while prediction.get("status") not in TERMINAL:
            if "id" not in prediction:
                raise MalformedResponse("replicate: the prediction has no id")
            if time.monotonic() > deadline:
                self._cancel(prediction["id"])
                raise ProviderError(f"replicate: prediction {prediction['id']} still {prediction.get('status')} after "
                                    f"{self.settings.image_timeout_s:.0f} s; cancelled")
            time.sleep(self.settings.image_poll_s)
            try:
                checkpoint()
            except Canceled:  # the job stopped: stop the vendor's work too (it may bill the seconds already run)
                self._cancel(prediction["id"])
                raise Canceled(f"canceled; replicate prediction {prediction['id']} cancelled at the vendor", call_in_flight=True) from None
            prediction = self.http.request("GET", f"/predictions/{prediction['id']}")
        return prediction
