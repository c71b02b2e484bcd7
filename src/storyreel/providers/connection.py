"""Connections: where and how to reach a vendor — base URL, API key, auth header, network guard.

This is pydantic-ai's *Provider* half of the Provider/Model split: a :class:`Connection` knows nothing
of a wire format, a provider class (the *Model* half: OpenAI Images, Gemini ``generateContent``,
Replicate predictions, chat completions with image output) knows nothing of credentials. A vendor that
speaks a wire format storyreel already has is one :data:`CONNECTIONS` entry and one registry line, not
a module. Keys and base URLs are read from :class:`~storyreel.core.settings.Settings` fields, so every
one of them is a setting (``STORYREEL_*`` or the vendor's own variable, e.g. ``OPENAI_API_KEY``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from storyreel.core.errors import ConfigError

if TYPE_CHECKING:
    from storyreel.providers.http import JsonHttp


@dataclass(frozen=True)
class Connection:
    """How to reach one vendor.

    ``base_url_fields`` / ``key_fields``: Settings fields tried in order (the first non-empty wins);
    ``key_env_var``: the variable named in messages when the key is missing; ``key_required``: False for
    servers that take no key (a local Ollama); ``auth_header``/``bearer``: how the key is sent.
    """

    name: str
    base_url_fields: tuple[str, ...]
    key_fields: tuple[str, ...] = ()
    key_env_var: str | None = None
    key_required: bool = True
    auth_header: str = "Authorization"
    bearer: bool = True

    def base_url(self, settings: Any) -> str:
        """The base URL from the settings. Raises :class:`ConfigError` naming the variable when unset."""
        for name in self.base_url_fields:
            value = getattr(settings, name, None)
            if value:
                return str(value).rstrip("/")
        variable = f"STORYREEL_{self.base_url_fields[0].upper()}" if self.base_url_fields else "a base URL"
        raise ConfigError(f"{self.name}: no base URL", hint=f"set {variable} (e.g. http://127.0.0.1:11434/v1 for Ollama)")

    def key(self, settings: Any) -> str:
        """The API key ('' when none is set and none is required). Raises :class:`ConfigError` naming
        the variable to set when a required key is missing."""
        for name in self.key_fields:
            value = getattr(settings, name, None)
            secret = value.get_secret_value() if isinstance(value, SecretStr) else value
            if secret:
                return str(secret)
        if self.key_required:
            raise ConfigError(f"{self.name}: no API key", hint=f"set {self.key_env_var}")
        return ""

    def headers(self, key: str) -> dict[str, str]:
        """The auth header carrying ``key`` (none for an empty key)."""
        if not key:
            return {}
        return {self.auth_header: f"Bearer {key}" if self.bearer else key}

    def client(self, settings: Any, *, classify=None, timeout_s: float | None = None) -> JsonHttp:  # noqa: ANN001
        """The vendor JSON client (retries, concurrency cap, requests per minute, network guard) configured
        from the image settings; the key is sent only to this connection's base URL and scrubbed from errors."""
        from storyreel.providers.http import JsonHttp, RetryPolicy

        key = self.key(settings)
        s = settings
        return JsonHttp(
            self.name, self.base_url(s), self.headers(key), timeout_s=timeout_s or s.image_timeout_s,
            policy=RetryPolicy(attempts=s.http_attempts, backoff_s=s.http_backoff_s),
            max_concurrency=s.image_concurrency, rpm=s.image_rpm, allow_network=s.allow_network,
            secrets=(key,), classify=classify,
        )


CONNECTIONS: dict[str, Connection] = {
    "openai": Connection("openai", ("openai_base_url",), ("openai_api_key",), "OPENAI_API_KEY"),
    "gemini": Connection("gemini", ("gemini_base_url",), ("gemini_api_key",), "GEMINI_API_KEY", auth_header="x-goog-api-key", bearer=False),
    "replicate": Connection("replicate", ("replicate_base_url",), ("replicate_api_token",), "REPLICATE_API_TOKEN"),
    "openrouter": Connection("openrouter", ("openrouter_base_url",), ("openrouter_api_key", "llm_api_key"), "OPENROUTER_API_KEY"),
    # any OpenAI-compatible server: image output and LLM steps have a URL and key each (they often differ)
    "image-server": Connection("openai-compatible", ("image_base_url",), ("image_api_key",), "STORYREEL_IMAGE_API_KEY", key_required=False),
    "llm-server": Connection("openai-compatible", ("llm_base_url",), ("llm_api_key",), "STORYREEL_LLM_API_KEY", key_required=False),
    # SDK-based vendors (pydantic-ai's own providers): the key only; their SDKs know the URL
    "anthropic": Connection("anthropic", (), ("anthropic_api_key", "llm_api_key"), "ANTHROPIC_API_KEY"),
    "google": Connection("google", (), ("gemini_api_key", "llm_api_key"), "GEMINI_API_KEY"),
}
"""Every built-in connection by name; registry lines refer to these names."""
