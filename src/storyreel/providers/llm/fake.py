"""``fake:llm`` — an in-process LLM step for tests and embedders (llm's ``MockModel``): answers come
from a queue (a string, or an exception instance to raise), every call is kept in :attr:`FakeLlm.history`
as ``(template name, values)``. Inject it with ``storyreel.providers.override(llm=FakeLlm([...]))``.
For planners use pydantic-ai's own ``TestModel`` / ``FunctionModel`` (see ``LlmPlanner.test_model``)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar

from storyreel.providers.base import LlmProvider, LlmResult


class FakeLlm(LlmProvider):
    """Scripted LLM step. With an empty queue it answers ``default`` (``None``: the shot's description)."""

    vendor: ClassVar[str] = "fake"
    code_version: ClassVar[str] = "fake-llm/1"

    def __init__(self, responses: Iterable[Any] = (), *, default: str | None = None, price_usd: float = 0.0) -> None:
        self.model, self.settings, self.provider_id = "llm", None, "fake:llm"
        self.paid = price_usd > 0  # type: ignore[misc]  # an instance may declare itself paid
        self.price_usd = price_usd
        self.default = default
        self.history: list[tuple[str, dict]] = []
        self._queue: deque[Any] = deque(responses)
        self._lock = threading.Lock()

    def estimate(self, template: Any, values: dict[str, Any]) -> float:
        return self.price_usd

    def image_prompt(self, template: Any, values: dict[str, Any]) -> LlmResult:
        with self._lock:
            self.history.append((template.name, dict(values)))
            outcome = self._queue.popleft() if self._queue else self.default
        if isinstance(outcome, BaseException):
            raise outcome
        text = outcome if outcome is not None else f"Illustration: {values.get('description', '')}"
        return LlmResult(text=text, provider=self.provider_id, usage={"input_tokens": 10, "output_tokens": 5}, cost_usd=self.price_usd)
