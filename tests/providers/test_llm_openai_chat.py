"""The image-prompt LLM step through pydantic-ai against a loopback OpenAI chat-completions server."""

from __future__ import annotations

import json

import pytest

from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.prompts.registry import load_template
from storyreel.providers.registry import resolve

from ..unit.test_prompts import VALUES

KEY = "sk-llm-test-key"


def completion(text: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_790_000_000, "model": "gpt-5-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 420, "completion_tokens": 180, "total_tokens": 600}}


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": KEY}, allow_network=False)


def test_template_sections_go_to_the_model_and_usage_is_priced(httpserver, settings):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        completion("An isometric chain of glowing blocks,\n each sealed with a padlock, soft studio light."))
    llm = resolve("llm", "openai:gpt-5-mini", settings)
    result = llm.image_prompt(load_template("imagegen"), VALUES)
    assert result.text == "An isometric chain of glowing blocks, each sealed with a padlock, soft studio light."
    assert result.usage == {"input_tokens": 420, "output_tokens": 180}
    assert result.cost_usd == pytest.approx(420 * 0.25e-6 + 180 * 2e-6)
    (req, _), = httpserver.log
    body = json.loads(req.data)
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert body["model"] == "gpt-5-mini"
    assert "temperature" not in body  # gpt-5 models reason: pydantic-ai drops sampling parameters for them
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 800
    system = next(m for m in body["messages"] if m["role"] in ("system", "developer"))
    user = next(m for m in body["messages"] if m["role"] == "user")
    assert "Never ask for text" in system["content"]
    assert "Chapter title: Blok Zinciri" in json.dumps(user, ensure_ascii=False)


def test_vendor_errors_become_provider_errors(httpserver, settings):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "The model `gpt-5-mini` does not exist", "type": "invalid_request_error"}}, status=404)
    with pytest.raises(ProviderError, match="HTTP 404"):
        resolve("llm", "openai:gpt-5-mini", settings).image_prompt(load_template("imagegen"), VALUES)


def test_openai_compatible_needs_a_base_url_and_the_guard_holds():
    with pytest.raises(ProviderError, match="STORYREEL_LLM_BASE_URL"):
        resolve("llm", "openai-compatible:llama3", Settings(allow_network=False)).image_prompt(load_template("imagegen"), VALUES)
    with pytest.raises(ProviderError, match="network calls are disabled"):
        resolve("llm", "openrouter:openai/gpt-5-mini", Settings(environ={"STORYREEL_LLM_API_KEY": "k"}, allow_network=False)).image_prompt(
            load_template("imagegen"), VALUES)


def test_a_non_reasoning_model_gets_the_templates_sampling_parameters(httpserver):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(completion("A lighthouse at dusk."))
    settings = Settings(environ={"STORYREEL_LLM_BASE_URL": httpserver.url_for("/v1")}, allow_network=False)
    result = resolve("llm", "openai-compatible:llama3.1", settings).image_prompt(load_template("imagegen"), VALUES)
    assert result.text == "A lighthouse at dusk." and result.cost_usd == 0.0  # no listed price: usage recorded, $0 billed
    (req, _), = httpserver.log
    body = json.loads(req.data)
    assert body["temperature"] == pytest.approx(float(load_template("imagegen").meta["temperature"]))
