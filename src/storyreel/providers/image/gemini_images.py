"""``gemini:<model>`` — Gemini image output through ``generateContent`` (the REST call google-genai's
``models.generate_content`` makes): ``POST {base}/models/{model}:generateContent`` with
``x-goog-api-key``; body ``contents[].parts[].text`` and ``generationConfig.responseModalities = ["IMAGE"]``,
``generationConfig.imageConfig.aspectRatio`` from the project (16:9, 9:16, 1:1).

The image comes back as ``candidates[0].content.parts[].inlineData`` (base64). A safety block arrives as
HTTP 200: ``promptFeedback.blockReason`` or a candidate ``finishReason`` such as ``IMAGE_SAFETY``,
``SAFETY``, ``PROHIBITED_CONTENT`` with no image — a rejection of that shot, not a crash.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import ClassVar

from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.providers.base import ImageRequest, ImageResult
from storyreel.providers.http import JsonHttp, MalformedResponse, ProviderRejected
from storyreel.providers.image.openai_images import fit_image, save_png
from storyreel.providers.prices import image_price, usage_cost

SAFETY_FINISH = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_PROHIBITED_CONTENT"}


def aspect_ratio(width: int, height: int) -> str:
    from math import gcd

    g = gcd(width, height)
    return f"{width // g}:{height // g}"


class GeminiImages:
    """Settings: ``gemini_base_url``, ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``), ``image_timeout_s``,
    ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    code_version: ClassVar[str] = "gemini-images/1"

    def __init__(self, model: str, settings: Settings) -> None:
        self.model = model
        self.provider_id = f"gemini:{model}"
        self.settings = settings
        self._http: JsonHttp | None = None

    @classmethod
    def for_model(cls, model: str, settings: Settings | None = None) -> GeminiImages:
        return cls(model, settings or Settings())

    @property
    def http(self) -> JsonHttp:
        if self._http is None:
            key = self.settings.gemini_api_key.get_secret_value() if self.settings.gemini_api_key else ""
            if not key:
                raise ProviderError("gemini: no API key (set GEMINI_API_KEY)")
            s = self.settings
            self._http = JsonHttp.for_images("gemini", s.gemini_base_url, {"x-goog-api-key": key}, s, secret=key)
        return self._http

    def identity(self) -> dict:
        return {"model": self.model}

    def payload(self, request: ImageRequest) -> dict:
        return {
            "contents": [{"role": "user", "parts": [{"text": request.prompt}]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": aspect_ratio(request.width, request.height)}},
        }

    def estimate(self, request: ImageRequest) -> float:
        return image_price("gemini", self.model, "auto", 1024, 1024)[0]

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult:
        body = self.http.request("POST", f"/models/{self.model}:generateContent", self.payload(request))
        block = (body.get("promptFeedback") or {}).get("blockReason")
        if block:
            raise ProviderRejected(f"prompt blocked: {block} {(body.get('promptFeedback') or {}).get('blockReasonMessage', '')}".strip())
        candidates = body.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            raise MalformedResponse("gemini: the response has no candidates")
        cand = candidates[0]
        parts = ((cand.get("content") or {}).get("parts")) or []
        data = next((p["inlineData"] for p in parts if isinstance(p, dict) and "inlineData" in p), None)
        if data is None:
            reason = cand.get("finishReason")
            if reason in SAFETY_FINISH:
                raise ProviderRejected(f"finishReason {reason}: {cand.get('finishMessage', 'no image returned')}")
            raise MalformedResponse(f"gemini: no inlineData image in the response (finishReason {reason})")
        try:
            raw = base64.b64decode(data["data"], validate=True)
        except (KeyError, TypeError, binascii.Error):
            raise MalformedResponse("gemini: inlineData.data is not base64") from None
        save_png(fit_image(raw, request.width, request.height), out_path)
        usage = body.get("usageMetadata") or {}
        estimate, price = image_price("gemini", self.model, "auto", 1024, 1024)
        cost = usage_cost(price, {"input_tokens": usage.get("promptTokenCount", 0), "output_tokens": usage.get("candidatesTokenCount")})
        return ImageResult(path=out_path, provider=self.provider_id, cost_usd=estimate if cost is None else cost,
                           provider_details={"model": self.model, "aspect_ratio": self.payload(request)["generationConfig"]["imageConfig"]["aspectRatio"],
                                             "usage": usage, "model_version": body.get("modelVersion"),
                                             "cost_source": "usage" if cost is not None else f"price table {price.as_of}"})
