"""Image output through chat completions (``POST {base}/chat/completions`` with ``modalities: ["image",
"text"]`` and ``image_config.aspect_ratio``; the image comes back as a data URL in
``choices[0].message.images[]``) — OpenRouter's wire format, spoken by other OpenAI-compatible servers.

One wire format, several vendors (registry lines, not modules): ``openai-compatible:<model>`` on the
server at ``STORYREEL_IMAGE_BASE_URL`` (default OpenRouter) with ``STORYREEL_IMAGE_API_KEY``, and
``openrouter:<model>`` on OpenRouter with ``OPENROUTER_API_KEY``. Cost: the ``usage.cost`` the server
reports (OpenRouter usage accounting), else 0 with the tokens recorded. A ``finish_reason`` of
``content_filter`` or an error whose code mentions moderation is a rejection.
"""

from __future__ import annotations

import re
from typing import ClassVar

from storyreel.providers.base import HttpImageProvider, ImageRequest, JobLog, Received
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.pixels import aspect_ratio, decode_base64
from storyreel.providers.prices import image_price

DATA_URL = re.compile(r"^data:image/[\w.+-]+;base64,(.+)$", re.S)


def classify_error(response) -> ProviderRejected | None:  # noqa: ANN001
    if response.status_code not in (400, 403):
        return None
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return None
    text = f"{error.get('code', '')} {error.get('type', '')} {error.get('message', '')}"
    return ProviderRejected(str(error.get("message") or text)) if re.search(r"moderation|content.?policy|flagged|safety", text, re.I) else None


class ChatImages(HttpImageProvider):
    """Chat-completions image output; the connection (base URL, key) comes from the registry line."""

    vendor: ClassVar[str] = "openai-compatible"
    code_version: ClassVar[str] = "openai-compatible-images/1"
    connection = CONNECTIONS["image-server"]

    def classify(self, response) -> ProviderRejected | None:  # noqa: ANN001
        return classify_error(response)

    def payload(self, request: ImageRequest) -> dict:
        return {"model": self.model, "messages": [{"role": "user", "content": request.prompt}], "modalities": ["image", "text"],
                "image_config": {"aspect_ratio": aspect_ratio(request.width, request.height)}, "usage": {"include": True}}

    def estimate(self, request: ImageRequest) -> float:
        """Reserved before the call: the price table's entry for the model, else its most expensive image
        (the server reports the real cost afterwards)."""
        return image_price(self.prices, self.model, "auto", 1024, 1024)[0]

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """One chat completion (no idempotency key on this wire: a lost answer is uncertain)."""
        body = self.create("/chat/completions", self.payload(request), jobs=jobs)
        data = _image_bytes(body, self.vendor)
        usage = body.get("usage") or {}
        cost = usage.get("cost")
        return Received(data=data, cost_usd=float(cost) if isinstance(cost, (int, float)) else 0.0,
                        details={"model": self.model, "usage": usage, "cost_source": "usage.cost" if cost is not None else "unknown"})


def _image_bytes(body: dict, vendor: str) -> bytes:
    """The first image of a chat completion (a base64 data URL). ``content_filter`` without an image
    raises :class:`ProviderRejected`; anything off the documented shape :class:`MalformedResponse`."""
    try:
        choice = body["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise MalformedResponse(f"{vendor}: the response has no choices") from None
    images = message.get("images") or []
    if not images:
        if choice.get("finish_reason") == "content_filter":
            raise ProviderRejected(f"content_filter: {message.get('refusal') or message.get('content') or 'no image'}")
        raise MalformedResponse(f"{vendor}: no image in the answer (finish_reason {choice.get('finish_reason')})")
    first = images[0] if isinstance(images[0], dict) else {}
    match = DATA_URL.match(str((first.get("image_url") or {}).get("url", "")))
    if not match:
        raise MalformedResponse(f"{vendor}: the image is not a base64 data URL")
    return decode_base64(match.group(1), f"{vendor}: the data URL")
