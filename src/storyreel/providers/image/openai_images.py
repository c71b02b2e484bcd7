"""``openai:<model>`` — OpenAI Images API (``POST {base}/images/generations``), current ``gpt-image-2*`` models.

Request fields: ``model``, ``prompt``, ``size`` (chosen from the target aspect: long side
``image_long_side`` (1536), short side to the aspect, both multiples of 16 — e.g. 1536x864 for 16:9,
864x1536 for 9:16), ``quality`` (low | medium | high), ``n`` = the request's ``count`` (1; best-of-N asks
for a shot's candidates in one call, up to 10), ``output_format`` = png. Each ``data[i].b64_json`` is
decoded and cover-fitted (scaled, centre-cropped) to the exact output size. A request with reference images
(the entities a shot shows) goes to ``POST {base}/images/edits`` as ``multipart/form-data`` with the same
fields and one ``image[]`` file part per reference (JPEG) — gpt-image models take several input images.
Cost comes from the returned ``usage`` tokens at the price table's token rates, else the table's
per-image estimate. A 400 whose error ``code`` is ``moderation_blocked`` or ``content_policy_violation``
is a rejection of that shot, not a crash.
"""

from __future__ import annotations

from typing import ClassVar

from storyreel.providers.base import HttpImageProvider, ImageRequest, JobLog, Received
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.pixels import decode_base64, reference_jpeg, reference_placeholder
from storyreel.providers.prices import image_price, usage_cost

REJECTION_CODES = {"moderation_blocked", "content_policy_violation", "safety_violation"}


def provider_size(width: int, height: int, long_side: int = 1536) -> tuple[int, int]:
    """The size to ask for: long side ``long_side`` (rounded to 16), the other side to the target aspect,
    rounded to a multiple of 16 (gpt-image-2 requires multiples of 16)."""
    long16 = max(16, round(long_side / 16) * 16)
    if width >= height:
        return long16, max(16, round(long16 * height / width / 16) * 16)
    return max(16, round(long16 * width / height / 16) * 16), long16


def classify_error(response) -> ProviderRejected | None:  # noqa: ANN001
    if response.status_code != 400:
        return None
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return None
    if error.get("code") in REJECTION_CODES or error.get("type") in REJECTION_CODES:
        return ProviderRejected(str(error.get("message") or error.get("code")))
    return None


class OpenAIImages(HttpImageProvider):
    """OpenAI Images API adapter. Settings: ``openai_base_url``, ``OPENAI_API_KEY``, ``image_quality``,
    ``image_long_side``, ``image_timeout_s``, ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    vendor: ClassVar[str] = "openai"
    code_version: ClassVar[str] = "openai-images/1"
    connection = CONNECTIONS["openai"]
    max_candidates: ClassVar[int] = 10  # Images API ``n``: 1–10
    accepts_reference_images: ClassVar[bool] = True  # POST /images/edits with image[] input images
    preflight_path: ClassVar[str | None] = "/models/{model}"  # GET /v1/models/{model}: free; 401 bad key, 404 unknown
    idempotency_header: ClassVar[str | None] = "Idempotency-Key"  # the header openai-python sends on every POST retry
    # deduplication: None — OpenAI's API reference (https://platform.openai.com/docs/api-reference/images, read
    # 2026-12) documents no idempotency for image creates, so a create whose answer was lost is uncertain spend

    @property
    def quality(self) -> str:
        return self.settings.image_quality

    def classify(self, response) -> ProviderRejected | None:  # noqa: ANN001
        return classify_error(response)

    def identity(self) -> dict:
        return {"model": self.model, "quality": self.quality, "long_side": self.settings.image_long_side}

    def payload(self, request: ImageRequest) -> dict:
        w, h = provider_size(request.width, request.height, self.settings.image_long_side)
        body = {"model": self.model, "prompt": request.prompt, "size": f"{w}x{h}", "quality": self.quality, "n": request.count,
                "output_format": "png"}
        if request.references:  # an edit with input images: the files, named here by their hash, go as image[] parts
            body["image[]"] = [reference_placeholder(r.sha256) for r in request.references]
        return body

    def estimate(self, request: ImageRequest) -> float:
        w, h = provider_size(request.width, request.height, self.settings.image_long_side)
        return image_price(self.prices, self.model, self.quality, w, h)[0] * request.count

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        payload = self.payload(request)
        if request.references:
            fields = {k: v for k, v in payload.items() if k != "image[]"}
            files = [("image[]", (f"reference-{i}.jpg", reference_jpeg(r.path), "image/jpeg")) for i, r in enumerate(request.references, 1)]
            body = self.create("/images/edits", fields, jobs=jobs, key=key, files=files)
        else:
            body = self.create("/images/generations", payload, jobs=jobs, key=key)
        try:
            items = body["data"]
            images = [decode_base64(item["b64_json"], f"openai: data[{i}].b64_json") for i, item in enumerate(items)]
            item = items[0]
        except (KeyError, IndexError, TypeError):
            raise MalformedResponse("openai: the response has no data[i].b64_json images") from None
        if not images:
            raise MalformedResponse("openai: the response has no images")
        w, h = (int(v) for v in payload["size"].split("x"))
        estimate, price = image_price(self.prices, self.model, self.quality, w, h)
        cost = usage_cost(price, body.get("usage") or {})
        return Received(data=images[0], more=images[1:], cost_usd=estimate * request.count if cost is None else cost, details={
            "model": self.model, "size": payload["size"], "quality": self.quality,
            "revised_prompt": item.get("revised_prompt"), "usage": body.get("usage"),
            "cost_source": "usage" if cost is not None else f"price table {price.as_of}",
        })
