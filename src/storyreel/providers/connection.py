"""Connections: where and how to reach a vendor — base URL, API key, auth header, prices, and for LLMs the wire
pydantic-ai speaks to it. A vendor owns its configuration here; nothing about it is a field of
:class:`~storyreel.core.settings.Settings`.

This is pydantic-ai's *Provider* half of the Provider/Model split: a :class:`Connection` knows nothing
of a wire format, a provider class (the *Model* half: OpenAI Images, Gemini ``generateContent``,
Replicate predictions, chat completions with image output) knows nothing of credentials. A vendor that
speaks a wire format storyreel already has is one :data:`CONNECTIONS` entry and one registry line, not
a module; a vendor added by entry point declares its own :class:`Connection` and is configured the same way.

Variables (read through :meth:`Settings.variable <storyreel.core.settings.Settings.variable>`: explicit
``environ``, the environment, ``.env``, the keys file): the key from ``key_vars`` (the first set wins, e.g.
``OPENAI_API_KEY``), the base URL from ``STORYREEL_<VENDOR>_BASE_URL`` (``base_url_var``), else the
connection's documented default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from storyreel.core.errors import ConfigError
from storyreel.providers import prices
from storyreel.providers.prices import PriceTable

if TYPE_CHECKING:
    from storyreel.providers.http import JsonHttp


@dataclass(frozen=True)
class Connection:
    """How to reach one vendor.

    ``name``: the vendor as messages name it; ``base_url``: the documented default (None: an SDK vendor whose
    client knows its URL, or a server that must be named); ``base_url_var``: the variable that overrides it
    (default ``STORYREEL_<NAME>_BASE_URL`` when there is a default); ``key_vars``: the variables holding the
    key, tried in order; ``key_required``: False for servers that take no key (a local Ollama);
    ``auth_header``/``bearer``/``scheme``: how the key is sent (``bearer``: as ``<scheme> <key>``, e.g. fal's
    ``Key <key>``; else bare); ``wire``: how pydantic-ai speaks to it as an LLM
    (``openai-chat``: chat completions; ``anthropic`` / ``google``: their SDKs); ``prices``: its price table.
    """

    name: str
    base_url: str | None = None
    key_vars: tuple[str, ...] = ()
    base_url_var: str | None = None
    key_required: bool = True
    auth_header: str = "Authorization"
    bearer: bool = True
    scheme: str = "Bearer"
    wire: Literal["openai-chat", "anthropic", "google"] = "openai-chat"
    prices: PriceTable = field(default_factory=PriceTable)

    def __post_init__(self) -> None:
        if self.base_url is not None and self.base_url_var is None:
            object.__setattr__(self, "base_url_var", f"STORYREEL_{self.name.upper().replace('-', '_')}_BASE_URL")

    @property
    def key_env_var(self) -> str | None:
        """The variable named in messages when the key is missing."""
        return self.key_vars[0] if self.key_vars else None

    @property
    def over_http(self) -> bool:
        """Whether storyreel's own HTTP client reaches it (False for SDK vendors: their SDK knows the URL)."""
        return self.base_url_var is not None

    def url(self, settings: Any) -> str:
        """The base URL: ``base_url_var`` when set, else the default. Raises :class:`ConfigError` naming the
        variable when there is neither."""
        value = (settings.variable(self.base_url_var) if self.base_url_var else None) or self.base_url
        if not value:
            raise ConfigError(f"{self.name}: no base URL", hint=f"set {self.base_url_var or 'a base URL'} (e.g. http://127.0.0.1:11434/v1 for Ollama)")
        return str(value).rstrip("/")

    def key(self, settings: Any) -> str:
        """The API key ('' when none is set and none is required). Raises :class:`ConfigError` naming
        the variable to set when a required key is missing."""
        for name in self.key_vars:
            value = settings.variable(name)
            if value:
                return value
        if self.key_required:
            raise ConfigError(f"{self.name}: no API key", hint=f"set {self.key_env_var}")
        return ""

    def headers(self, key: str) -> dict[str, str]:
        """The auth header carrying ``key`` (none for an empty key)."""
        if not key:
            return {}
        return {self.auth_header: f"{self.scheme} {key}" if self.bearer else key}

    def client(self, settings: Any, *, classify=None, timeout_s: float | None = None) -> JsonHttp:  # noqa: ANN001
        """The vendor JSON client (retries, concurrency cap, requests per minute, network guard) configured
        from the image settings; the key is sent only to this connection's base URL and scrubbed from errors. On a
        shared database the caps hold across workers (the gate the session installed, :func:`~storyreel.providers.http.gate_for`)."""
        from storyreel.providers.http import JsonHttp, RetryPolicy, gate_for

        key = self.key(settings)
        s = settings
        return JsonHttp(
            self.name, self.url(s), self.headers(key), timeout_s=timeout_s or s.image_timeout_s,
            policy=RetryPolicy(attempts=s.http_attempts, backoff_s=s.http_backoff_s),
            max_concurrency=s.image_concurrency, rpm=s.image_rpm, allow_network=s.allow_network,
            secrets=(key,), classify=classify, gate=gate_for(getattr(s, "database_url", None)),
        )


CONNECTIONS: dict[str, Connection] = {
    "openai": Connection("openai", "https://api.openai.com/v1", ("OPENAI_API_KEY", "STORYREEL_OPENAI_API_KEY"), prices=prices.OPENAI),
    "gemini": Connection("gemini", "https://generativelanguage.googleapis.com/v1beta",
                         ("GEMINI_API_KEY", "GOOGLE_API_KEY", "STORYREEL_GEMINI_API_KEY"), auth_header="x-goog-api-key", bearer=False,
                         prices=prices.GEMINI),
    "replicate": Connection("replicate", "https://api.replicate.com/v1", ("REPLICATE_API_TOKEN", "STORYREEL_REPLICATE_API_TOKEN"),
                            prices=prices.REPLICATE),
    "openrouter": Connection("openrouter", "https://openrouter.ai/api/v1",
                             ("OPENROUTER_API_KEY", "STORYREEL_OPENROUTER_API_KEY", "STORYREEL_LLM_API_KEY"), prices=prices.OPENROUTER),
    "runway": Connection("runway", "https://api.dev.runwayml.com/v1", ("RUNWAYML_API_SECRET", "STORYREEL_RUNWAY_API_KEY"),
                         prices=prices.RUNWAY),
    "fal": Connection("fal", "https://queue.fal.run", ("FAL_KEY", "STORYREEL_FAL_KEY"), scheme="Key", prices=prices.FAL),
    "elevenlabs": Connection("elevenlabs", "https://api.elevenlabs.io/v1", ("ELEVENLABS_API_KEY", "STORYREEL_ELEVENLABS_API_KEY"),
                             auth_header="xi-api-key", bearer=False, prices=prices.ELEVENLABS),
    # any OpenAI-compatible server: image output and LLM steps have a URL and key each (they often differ)
    "image-server": Connection("openai-compatible", "https://openrouter.ai/api/v1", ("STORYREEL_IMAGE_API_KEY",),
                               base_url_var="STORYREEL_IMAGE_BASE_URL", key_required=False, prices=prices.OPENROUTER),
    "llm-server": Connection("openai-compatible", None, ("STORYREEL_LLM_API_KEY",), base_url_var="STORYREEL_LLM_BASE_URL",
                             key_required=False),
    # SDK-based vendors (pydantic-ai's own providers): the key only; their SDKs know the URL
    "anthropic": Connection("anthropic", None, ("ANTHROPIC_API_KEY", "STORYREEL_ANTHROPIC_API_KEY", "STORYREEL_LLM_API_KEY"),
                            wire="anthropic"),
    "google": Connection("google", None, ("GEMINI_API_KEY", "GOOGLE_API_KEY", "STORYREEL_GEMINI_API_KEY", "STORYREEL_LLM_API_KEY"),
                         wire="google"),
}
"""Every built-in connection by name; registry lines refer to these names."""
