"""``local:direct`` — the offline LLM step: renders a template's ``# Direct`` section (no model call).

It gives every generated shot a deterministic, well-formed prompt (style prefix, visual type, description,
palette, "no text in the image") so the image stage works without an LLM; choose a real model with
``--llm VENDOR:MODEL`` for richer prompts.
"""

from __future__ import annotations

import re
from typing import ClassVar

from storyreel.providers.base import LlmProvider, LlmResult, LocalProvider


class LocalDirect(LocalProvider, LlmProvider):
    code_version: ClassVar[str] = "local-direct/1"
    default_model: ClassVar[str] = "direct"

    def image_prompt(self, template, values: dict) -> LlmResult:  # noqa: ANN001
        text = re.sub(r"\s+", " ", template.render("Direct", **values)).strip()
        return LlmResult(text=text, provider=self.provider_id)
