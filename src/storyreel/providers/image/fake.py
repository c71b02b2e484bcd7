"""``fake:images`` — an in-process image provider for tests and embedders (llm's ``MockModel``).

Every call is appended to :attr:`FakeImages.history`; :meth:`FakeImages.queue` lines up what the next
calls do: an RGB colour (a flat image of it), an exception instance (raised, e.g. a
``ProviderRejected``), or ``None`` (the default: a gradient seeded by the shot). Inject it with
``storyreel.providers.override(image=FakeImages())``.
"""

from __future__ import annotations

import io
import threading
from collections import deque
from typing import Any, ClassVar

from PIL import Image

from storyreel.providers.base import ImageProvider, ImageRequest, JobLog, Received


class FakeImages(ImageProvider):
    """A scripted image provider. ``price_usd`` per image makes it ``paid`` (the ledger reserves and
    commits it); ``offline`` False makes stages route shots to it like to a vendor."""

    vendor: ClassVar[str] = "fake"
    code_version: ClassVar[str] = "fake-images/1"
    offline: ClassVar[bool] = False
    paid: ClassVar[bool] = True

    def __init__(self, model: str = "images", settings: Any = None, *, price_usd: float = 0.01) -> None:
        self.model, self.settings, self.provider_id = model, settings, f"fake:{model}"
        self.price_usd = price_usd
        self.history: list[ImageRequest] = []
        self._queue: deque[Any] = deque()
        self._lock = threading.Lock()

    def queue(self, *responses: Any) -> FakeImages:
        """Line up the next calls' outcomes (colour tuple, exception instance, or None)."""
        self._queue.extend(responses)
        return self

    def identity(self) -> dict:
        return {"model": self.model, "price": self.price_usd}

    def estimate(self, request: ImageRequest) -> float:
        return self.price_usd

    def payload(self, request: ImageRequest) -> dict:
        return {"prompt": request.prompt, "size": f"{request.width}x{request.height}", "seed": request.seed}

    def fetch(self, request: ImageRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        with self._lock:
            self.history.append(request)
            outcome = self._queue.popleft() if self._queue else None
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is None:
            r, g = request.seed % 200 + 30, (request.seed // 200) % 200 + 30
            image = Image.linear_gradient("L").resize((request.width, request.height)).convert("RGB")
            image = Image.merge("RGB", (image.getchannel(0).point(lambda v: v * r // 255), image.getchannel(1).point(lambda v: g), image.getchannel(2)))
        else:
            image = Image.new("RGB", (request.width, request.height), tuple(outcome))
        buf = io.BytesIO()
        image.save(buf, "PNG", compress_level=1)
        return Received(data=buf.getvalue(), cost_usd=self.price_usd, details={"model": self.model, "call": len(self.history)})

