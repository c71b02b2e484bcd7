"""LLM steps through pydantic-ai (``pydantic-ai-slim`` pinned in pyproject): ``openai:<model>``,
``openrouter:<model>``, ``openai-compatible:<model>`` (any OpenAI-compatible server — Ollama, vLLM — at
``STORYREEL_LLM_BASE_URL``), and, with their extras installed, ``anthropic:<model>`` and ``google:<model>``.

Which vendor speaks over which connection is one line each in the registry; this module is the one
place storyreel talks to pydantic-ai. :meth:`PydanticAILlm.run` runs an agent with structured or text
output and returns its token usage and cost (:func:`storyreel.providers.prices.llm_cost`); the
image-prompt step sends the template's ``# System`` section as instructions and its ``# Input`` section
as the user message, with the template's ``temperature`` and ``max_tokens``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from storyreel.core.errors import ProviderError, UnusableAnswer
from storyreel.providers.base import LlmProvider, LlmResult
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.netguard import check_url, httpx_hooks


class PydanticAILlm(LlmProvider):
    """An LLM vendor through pydantic-ai. Bound to its vendor and connection by the registry."""

    vendor: ClassVar[str] = "openai"
    code_version: ClassVar[str] = "pydantic-ai-llm/1"
    runs_agents: ClassVar[bool] = True
    connection = CONNECTIONS["openai"]

    def model_object(self):  # noqa: ANN201
        """The pydantic-ai model for this vendor. Raises :class:`~storyreel.core.errors.ConfigError`
        (missing key or base URL, network disabled) or :class:`ProviderError` (extra not installed)."""
        conn = self.connection
        assert conn is not None
        if conn.wire == "openai-chat":
            import httpx2  # the HTTP client of openai ≥ 3 and pydantic-ai's OpenAI provider
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            base = conn.url(self.settings)
            check_url(base, self.settings.allow_network, self.vendor)
            client = httpx2.AsyncClient(event_hooks=httpx_hooks(self.settings.allow_network, self.vendor)["async"], timeout=120.0)
            key = conn.key(self.settings) or "not-needed"
            return OpenAIChatModel(self.model, provider=OpenAIProvider(base_url=base, api_key=key, http_client=client))
        key = conn.key(self.settings)
        if not self.settings.allow_network:
            check_url(f"https://{self.vendor}.invalid", False, self.vendor)  # SDK vendors have no loopback mode
        try:
            if conn.wire == "anthropic":
                from pydantic_ai.models.anthropic import AnthropicModel
                from pydantic_ai.providers.anthropic import AnthropicProvider

                return AnthropicModel(self.model, provider=AnthropicProvider(api_key=key))
            from pydantic_ai.models.google import GoogleModel
            from pydantic_ai.providers.google import GoogleProvider

            return GoogleModel(self.model, provider=GoogleProvider(api_key=key))
        except ImportError as exc:
            raise ProviderError(f"{self.vendor}: install the extra: pip install 'storyreel[{conn.wire}]' ({exc})") from None

    def run(self, instructions: str, user: str | list[Any], output_type: Any, *, temperature: float, max_tokens: int,
            model: Any = None, thinking: str | bool | None = None) -> tuple[Any, dict[str, int], float]:
        """Run one agent call: ``(output, {"input_tokens", "output_tokens"}, cost_usd)``; ``user`` is the
        message text, or a list of text and ``pydantic_ai.BinaryContent`` parts (images). ``model``
        replaces the vendor's model (tests pass pydantic-ai's ``TestModel``/``FunctionModel``); ``thinking`` is
        pydantic-ai's unified reasoning setting (``"medium"``, ``False`` …; None leaves the model's default; with
        thinking on, the temperature is not sent — reasoning models ignore it). Raises :class:`ProviderError` for
        vendor, transport and validation failures."""
        from pydantic_ai import Agent
        from pydantic_ai.exceptions import ModelHTTPError, UnexpectedModelBehavior

        agent = Agent(model or self.model_object(), instructions=instructions, output_type=output_type)
        settings: dict[str, Any] = {"max_tokens": max_tokens}
        if thinking is not None:
            settings["thinking"] = thinking
        if not thinking:
            settings["temperature"] = temperature
        try:
            result = agent.run_sync(user, model_settings=settings)  # type: ignore[arg-type]
        except ModelHTTPError as exc:
            raise ProviderError(f"{self.provider_id}: HTTP {exc.status_code}: {str(exc.body)[:300]}") from None
        except UnexpectedModelBehavior as exc:  # answered and billed, but the output never validated
            raise UnusableAnswer(f"{self.provider_id}: the answer could not be used: {exc}") from None
        except ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - vendor SDK, transport and output-validation errors alike
            raise ProviderError(f"{self.provider_id}: {type(exc).__name__}: {exc}") from None
        usage = result.usage
        tokens = {"input_tokens": usage.input_tokens or 0, "output_tokens": usage.output_tokens or 0}
        return result.output, tokens, self.token_cost(tokens["input_tokens"], tokens["output_tokens"])

    def estimate(self, template, values: dict) -> float:  # noqa: ANN001
        """Upper bound of one ``image_prompt`` call (see :func:`~storyreel.providers.prices.llm_estimate`)."""
        chars = len(template.render("System", **values)) + len(template.render("Input", **values))
        return self.token_estimate(chars, int(template.meta["max_tokens"]))

    def image_prompt(self, template, values: dict) -> LlmResult:  # noqa: ANN001
        output, tokens, cost = self.run(
            template.render("System", **values), template.render("Input", **values), str,
            temperature=float(template.meta["temperature"]), max_tokens=int(template.meta["max_tokens"]),
        )
        text = " ".join(str(output).split())
        if not text:
            raise ProviderError(f"{self.provider_id}: the model returned an empty prompt")
        return LlmResult(text=text, provider=self.provider_id, usage=tokens, cost_usd=cost)
