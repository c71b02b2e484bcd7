"""LLM steps through pydantic-ai (``pydantic-ai-slim`` pinned in pyproject): ``openai:<model>``,
``openrouter:<model>``, ``openai-compatible:<model>`` (any OpenAI-compatible server — Ollama, vLLM — at
``STORYREEL_LLM_BASE_URL``), and, with their extras installed, ``anthropic:<model>`` and ``google:<model>``.

The image-prompt step sends the template's ``# System`` section as instructions and its ``# Input``
section as the user message, with the template's ``temperature`` and ``max_tokens``; token usage and its
cost (dated price table) are recorded with the node.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlparse

from storyreel.core.errors import InputError, ProviderError
from storyreel.core.settings import Settings
from storyreel.providers.base import LlmResult

# USD per token (input, output); read 2025-08-07 from https://openai.com/api/pricing/ — unknown models cost 0
# in the ledger's estimate but their reported usage is still recorded.
LLM_PRICES = {
    "gpt-5": (1.25e-6, 10e-6),
    "gpt-5-mini": (0.25e-6, 2e-6),
    "gpt-5-nano": (0.05e-6, 0.4e-6),
}
OPENROUTER_URL = "https://openrouter.ai/api/v1"


class PydanticAILlm:
    code_version: ClassVar[str] = "pydantic-ai-llm/1"
    vendors: ClassVar[tuple[str, ...]] = ("openai", "openrouter", "openai-compatible", "anthropic", "google")

    def __init__(self, vendor: str, model: str, settings: Settings) -> None:
        if vendor not in self.vendors:
            raise InputError(f"unknown LLM vendor {vendor!r}", field="--llm", hint=f"use {', '.join(self.vendors)} or local")
        self.vendor, self.model_name, self.settings = vendor, model, settings
        self.provider_id = f"{vendor}:{model}"

    @classmethod
    def factory(cls, vendor: str):  # noqa: ANN206
        return lambda model, settings=None: cls(vendor, model, settings or Settings())

    def identity(self) -> dict:
        return {"model": self.provider_id}

    def _base_url(self) -> str | None:
        if self.vendor == "openai":
            return self.settings.openai_base_url
        if self.vendor == "openrouter":
            return self.settings.llm_base_url or OPENROUTER_URL
        if self.vendor == "openai-compatible":
            if not self.settings.llm_base_url:
                raise ProviderError("openai-compatible: set STORYREEL_LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1 for Ollama)")
            return self.settings.llm_base_url
        return None

    def model(self):  # noqa: ANN201
        """The pydantic-ai model object for this vendor (raises :class:`ProviderError` when unusable)."""
        base = self._base_url()
        if base and not self.settings.allow_network:
            host = urlparse(base).hostname or ""
            if not (host.startswith("127.") or host in ("localhost", "::1")):
                raise ProviderError(f"{self.vendor}: network calls are disabled and {base} is not loopback")
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else None
        if self.vendor in ("openai", "openrouter", "openai-compatible"):
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            if self.vendor == "openai" and self.settings.openai_api_key:
                key = self.settings.openai_api_key.get_secret_value()
            if not key and self.vendor != "openai-compatible":
                raise ProviderError(f"{self.vendor}: no API key (set {'OPENAI_API_KEY' if self.vendor == 'openai' else 'STORYREEL_LLM_API_KEY'})")
            return OpenAIChatModel(self.model_name, provider=OpenAIProvider(base_url=base, api_key=key or "not-needed"))
        try:
            if self.vendor == "anthropic":
                from pydantic_ai.models.anthropic import AnthropicModel
                from pydantic_ai.providers.anthropic import AnthropicProvider

                return AnthropicModel(self.model_name, provider=AnthropicProvider(api_key=key))
            from pydantic_ai.models.google import GoogleModel
            from pydantic_ai.providers.google import GoogleProvider

            return GoogleModel(self.model_name, provider=GoogleProvider(api_key=key))
        except ImportError as exc:
            raise ProviderError(f"{self.vendor}: install the extra: pip install 'storyreel[{self.vendor}]' ({exc})") from None

    def estimate(self, template, values: dict) -> float:  # noqa: ANN001
        """Upper bound of one call: ~4 characters a token for the input, ``max_tokens`` of output."""
        rates = LLM_PRICES.get(self.model_name, max(LLM_PRICES.values()))
        chars = len(template.render("System", **values)) + len(template.render("Input", **values))
        return round(chars / 4 * rates[0] + int(template.meta["max_tokens"]) * rates[1], 8)

    def image_prompt(self, template, values: dict) -> LlmResult:  # noqa: ANN001
        from pydantic_ai import Agent
        from pydantic_ai.exceptions import AgentRunError, ModelHTTPError, UnexpectedModelBehavior

        agent = Agent(self.model(), instructions=template.render("System", **values), output_type=str)
        settings = {"temperature": float(template.meta["temperature"]), "max_tokens": int(template.meta["max_tokens"])}
        try:
            result = agent.run_sync(template.render("Input", **values), model_settings=settings)
        except ModelHTTPError as exc:
            raise ProviderError(f"{self.provider_id}: HTTP {exc.status_code}: {str(exc.body)[:300]}") from None
        except (AgentRunError, UnexpectedModelBehavior) as exc:
            raise ProviderError(f"{self.provider_id}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - transport errors of the vendor SDKs
            raise ProviderError(f"{self.provider_id}: {type(exc).__name__}: {exc}") from None
        usage = result.usage
        tokens = {"input_tokens": usage.input_tokens or 0, "output_tokens": usage.output_tokens or 0}
        rates = LLM_PRICES.get(self.model_name)
        cost = tokens["input_tokens"] * rates[0] + tokens["output_tokens"] * rates[1] if rates else 0.0
        text = " ".join(str(result.output).split())
        if not text:
            raise ProviderError(f"{self.provider_id}: the model returned an empty prompt")
        return LlmResult(text=text, provider=self.provider_id, usage=tokens, cost_usd=round(cost, 8))
