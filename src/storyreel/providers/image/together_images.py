"""``together:<model>`` — Together AI's images API (``POST {base}/images/generations``), e.g.
``together:black-forest-labs/FLUX.1-schnell`` (https://docs.together.ai/reference/post-images-generations-1,
read 2026-12): body ``model``, ``prompt``, ``width``, ``height`` (the frame's aspect, long side 1024, multiples
of 16), ``seed``, ``n`` = 1 and ``response_format`` = ``b64_json``; the image comes back as
``data[0].b64_json`` and is cover-fitted to the output size. Billed per image by its megapixels: the price
table below (Together publishes no usage in the answer). A 4xx whose error mentions NSFW or safety is a
rejection of that shot. Together documents no idempotency: a create whose answer was lost is uncertain spend.

Configuration, all declared by :data:`CONNECTION`: the key in ``TOGETHER_API_KEY``, the base URL
``https://api.together.xyz/v1`` (``STORYREEL_TOGETHER_BASE_URL`` for another).
"""

from __future__ import annotations

import re
from typing import ClassVar

from storyreel.providers.base import HttpImageProvider, ImageRequest, JobLog, Received
from storyreel.providers.connection import Connection
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.pixels import decode_base64
from storyreel.providers.prices import ImagePrice, PriceTable, image_price

_PRICING = "https://www.together.ai/pricing (per image at 1024×1024, scaled by megapixels)"
PRICES = PriceTable(images=(
    ImagePrice("black-forest-labs/FLUX.1-schnell", "auto", (1024, 1024), 0.0027, as_of="2026-05-11", source=_PRICING),
    ImagePrice("black-forest-labs/FLUX.1-dev", "auto", (1024, 1024), 0.0154, as_of="2026-05-11", source=_PRICING),
))
CONNECTION = Connection("together", "https://api.together.xyz/v1", ("TOGETHER_API_KEY", "STORYREEL_TOGETHER_API_KEY"), prices=PRICES)
LONG_SIDE = 1024
REJECTION = re.compile(r"nsfw|safety|content.?policy|moderation", re.I)


def classify_error(response) -> ProviderRejected | None:  # noqa: ANN001
    if response.status_code not in (400, 422):
        return None
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return None
    message = str(error.get("message") or error) if isinstance(error, dict) else str(error)
    return ProviderRejected(message) if REJECTION.search(message) else None


class TogetherImages(HttpImageProvider):
    """Together AI's images API. Settings: ``image_timeout_s``, ``image_concurrency``, ``image_rpm``, ``http_attempts``."""

    vendor: ClassVar[str] = "together"
    code_version: ClassVar[str] = "together-images/1"
    connection = CONNECTION

    def classify(self, response) -> ProviderRejected | None:  # noqa: ANN001
        return classify_error(response)

    @staticmethod
    def size(request: ImageRequest) -> tuple[int, int]:
        """The size asked for: long side :data:`LONG_SIDE`, the other to the frame's aspect, multiples of 16."""
        scale = LONG_SIDE / max(request.width, request.height)
        return max(16, round(request.width * scale / 16) * 16), max(16, round(request.height * scale / 16) * 16)

    def payload(self, request: ImageRequest) -> dict:
        width, height = self.size(request)
        return {"model": self.model, "prompt": request.prompt, "width": width, "height": height, "seed": request.seed, "n": 1,
                "response_format": "b64_json"}

    def estimate(self, request: ImageRequest) -> float:
        return image_price(self.prices, self.model, "auto", *self.size(request))[0]

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        body = self.create("/images/generations", self.payload(request), jobs=jobs, key=key)
        try:
            data = decode_base64(body["data"][0]["b64_json"], "together: data[0].b64_json")
        except (KeyError, IndexError, TypeError):
            raise MalformedResponse("together: the response has no data[0].b64_json image") from None
        cost, price = image_price(self.prices, self.model, "auto", *self.size(request))
        return Received(data=data, cost_usd=cost, details={"model": self.model, "size": "{}x{}".format(*self.size(request)),
                                                           "id": body.get("id"), "cost_source": f"price table {price.as_of}"})
