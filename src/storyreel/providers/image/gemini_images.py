"""``gemini:<model>`` — Gemini image output through ``generateContent`` (the REST call google-genai's
``models.generate_content`` makes): ``POST {base}/models/{model}:generateContent`` with
``x-goog-api-key``; body ``contents[].parts[].text`` and ``generationConfig.responseModalities = ["IMAGE"]``,
``generationConfig.imageConfig.aspectRatio`` from the project (16:9, 9:16, 1:1); the reference images of the
entities a shot shows follow the text as ``inlineData`` parts (JPEG).

The image comes back as ``candidates[0].content.parts[].inlineData`` (base64). A safety block arrives as
HTTP 200: ``promptFeedback.blockReason`` or a candidate ``finishReason`` such as ``IMAGE_SAFETY``,
``SAFETY``, ``PROHIBITED_CONTENT`` with no image — a rejection of that shot, not a crash.
"""

from __future__ import annotations

import base64
import copy
from typing import ClassVar

from storyreel.providers.base import HttpImageProvider, ImageRequest, JobLog, Received
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.pixels import (
    aspect_ratio,
    decode_base64,
    reference_jpeg,
    reference_placeholder,
)
from storyreel.providers.prices import image_price, usage_cost

SAFETY_FINISH = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_PROHIBITED_CONTENT"}


class GeminiImages(HttpImageProvider):
    """Settings: ``gemini_base_url``, ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``), ``image_timeout_s``,
    ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    vendor: ClassVar[str] = "gemini"
    code_version: ClassVar[str] = "gemini-images/1"
    connection = CONNECTIONS["gemini"]
    accepts_reference_images: ClassVar[bool] = True  # inline image parts beside the text part
    preflight_path: ClassVar[str | None] = "/models/{model}"  # models.get: free; 400/403 bad key, 404 unknown

    def payload(self, request: ImageRequest) -> dict:
        """The body; each reference image is an inline part after the text, its bytes named by their hash
        here and sent by :meth:`fetch` (JPEG, ≤ 1024 px)."""
        refs = [{"inlineData": {"mimeType": "image/jpeg", "data": reference_placeholder(r.sha256)}} for r in request.references]
        return {
            "contents": [{"role": "user", "parts": [{"text": request.prompt}, *refs]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": aspect_ratio(request.width, request.height)}},
        }

    def estimate(self, request: ImageRequest) -> float:
        return image_price(self.prices, self.model, "auto", 1024, 1024)[0]

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """One ``generateContent`` call (Gemini has no idempotency key: a lost answer is uncertain)."""
        payload = self.payload(request)
        sent = copy.deepcopy(payload)
        for part, ref in zip(sent["contents"][0]["parts"][1:], request.references, strict=True):
            part["inlineData"]["data"] = base64.b64encode(reference_jpeg(ref.path)).decode()
        body = self.create(f"/models/{self.model}:generateContent", sent, jobs=jobs)
        data = _image_bytes(body)
        usage = body.get("usageMetadata") or {}
        estimate, price = image_price(self.prices, self.model, "auto", 1024, 1024)
        cost = usage_cost(price, {"input_tokens": usage.get("promptTokenCount", 0), "output_tokens": usage.get("candidatesTokenCount")})
        return Received(data=data, cost_usd=estimate if cost is None else cost, details={
            "model": self.model, "aspect_ratio": payload["generationConfig"]["imageConfig"]["aspectRatio"], "usage": usage,
            "model_version": body.get("modelVersion"), "cost_source": "usage" if cost is not None else f"price table {price.as_of}"})


def _image_bytes(body: dict) -> bytes:
    """The first inline image of a ``generateContent`` answer. A blocked prompt or a safety finish reason
    raises :class:`ProviderRejected`; anything else off the documented shape :class:`MalformedResponse`."""
    feedback = body.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        raise ProviderRejected(f"prompt blocked: {feedback['blockReason']} {feedback.get('blockReasonMessage', '')}".strip())
    candidates = body.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        raise MalformedResponse("gemini: the response has no candidates")
    cand = candidates[0]
    parts = ((cand.get("content") or {}).get("parts")) or []
    data = next((p["inlineData"] for p in parts if isinstance(p, dict) and "inlineData" in p), None)
    if data is None:
        reason = cand.get("finishReason")
        if reason in SAFETY_FINISH:
            raise ProviderRejected(f"finishReason {reason}: {cand.get('finishMessage', 'no image returned')}")
        raise MalformedResponse(f"gemini: no inlineData image in the response (finishReason {reason})")
    return decode_base64(data.get("data") if isinstance(data, dict) else None, "gemini: inlineData.data")
