"""``openai-compatible:<model>`` — image output through an OpenAI-compatible chat-completions server,
e.g. OpenRouter (``POST {base}/chat/completions`` with ``modalities: ["image", "text"]`` and
``image_config.aspect_ratio``; the image comes back as a data URL in ``choices[0].message.images[]``).

Base URL ``STORYREEL_IMAGE_BASE_URL`` (default OpenRouter), key ``STORYREEL_IMAGE_API_KEY``. Cost: the
``usage.cost`` the server reports (OpenRouter usage accounting), else 0 with the tokens recorded. A
``finish_reason`` of ``content_filter`` or an error whose code mentions moderation is a rejection.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import ClassVar

from storyreel.core.settings import Settings
from storyreel.providers.base import ImageRequest, ImageResult
from storyreel.providers.http import JsonHttp, MalformedResponse, ProviderRejected
from storyreel.providers.image.gemini_images import aspect_ratio
from storyreel.providers.image.openai_images import fit_image, save_png
from storyreel.providers.prices import image_price

DATA_URL = re.compile(r"^data:image/[\w.+-]+;base64,(.+)$", re.S)


def _classify(response) -> ProviderRejected | None:  # noqa: ANN001
    if response.status_code not in (400, 403):
        return None
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return None
    text = f"{error.get('code', '')} {error.get('type', '')} {error.get('message', '')}"
    return ProviderRejected(str(error.get("message") or text)) if re.search(r"moderation|content.?policy|flagged|safety", text, re.I) else None


class OpenAICompatibleImages:
    code_version: ClassVar[str] = "openai-compatible-images/1"

    def __init__(self, model: str, settings: Settings) -> None:
        self.model = model
        self.provider_id = f"openai-compatible:{model}"
        self.settings = settings
        self._http: JsonHttp | None = None

    @classmethod
    def for_model(cls, model: str, settings: Settings | None = None) -> OpenAICompatibleImages:
        return cls(model, settings or Settings())

    @property
    def http(self) -> JsonHttp:
        if self._http is None:
            s = self.settings
            key = s.image_api_key.get_secret_value() if s.image_api_key else ""
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            self._http = JsonHttp.for_images("openai-compatible", s.image_base_url, headers, s, secret=key, classify=_classify)
        return self._http

    def identity(self) -> dict:
        return {"model": self.model}

    def payload(self, request: ImageRequest) -> dict:
        return {"model": self.model, "messages": [{"role": "user", "content": request.prompt}], "modalities": ["image", "text"],
                "image_config": {"aspect_ratio": aspect_ratio(request.width, request.height)}, "usage": {"include": True}}

    def estimate(self, request: ImageRequest) -> float:
        """Reserved before the call: the price table's entry for the model, else its most expensive image
        (the server reports the real cost afterwards)."""
        return image_price("openai-compatible", self.model, "auto", 1024, 1024)[0]

    def generate(self, request: ImageRequest, out_path: Path) -> ImageResult:
        body = self.http.request("POST", "/chat/completions", self.payload(request))
        try:
            choice = body["choices"][0]
        except (KeyError, IndexError, TypeError):
            raise MalformedResponse("openai-compatible: the response has no choices") from None
        message = choice.get("message") or {}
        images = message.get("images") or []
        if not images:
            if choice.get("finish_reason") == "content_filter":
                raise ProviderRejected(f"content_filter: {message.get('refusal') or message.get('content') or 'no image'}")
            raise MalformedResponse(f"openai-compatible: no image in the answer (finish_reason {choice.get('finish_reason')})")
        url = ((images[0] or {}).get("image_url") or {}).get("url", "")
        match = DATA_URL.match(url)
        if not match:
            raise MalformedResponse("openai-compatible: the image is not a base64 data URL")
        try:
            raw = base64.b64decode(match.group(1), validate=True)
        except binascii.Error:
            raise MalformedResponse("openai-compatible: the data URL is not valid base64") from None
        save_png(fit_image(raw, request.width, request.height), out_path)
        usage = body.get("usage") or {}
        cost = usage.get("cost")
        return ImageResult(path=out_path, provider=self.provider_id, cost_usd=float(cost) if isinstance(cost, (int, float)) else 0.0,
                           provider_details={"model": self.model, "usage": usage, "cost_source": "usage.cost" if cost is not None else "unknown"})
