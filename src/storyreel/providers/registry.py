"""Registry mapping ``vendor:model`` provider IDs to factories (a dict, not an if/elif chain)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from storyreel.core.errors import InputError

_FACTORIES: dict[str, dict[str, Callable[..., Any]]] = {"planner": {}, "image": {}, "tts": {}, "llm": {}}

# pydantic-ai vendors (storyreel.providers.llm.pydantic_ai_llm.PydanticAILlm.vendors; a test keeps them equal)
LLM_VENDORS = ("openai", "openrouter", "openai-compatible", "anthropic", "google")

# Built-in providers as (module, class, factory method): imported only when resolved, so a run that
# uses the local engines never imports an HTTP client or pydantic-ai (it keeps a no-op ``make`` fast).
_BUILTINS: dict[str, dict[str, tuple[str, str, str]]] = {
    "planner": {
        "local": ("storyreel.providers.llm.local_planner", "LocalPlanner", "for_model"),
        **{v: ("storyreel.providers.llm.llm_planner", "LlmPlanner", "factory") for v in LLM_VENDORS},
    },
    "image": {
        "local": ("storyreel.providers.image.local_cards", "LocalCards", "for_model"),
        "openai": ("storyreel.providers.image.openai_images", "OpenAIImages", "for_model"),
        "gemini": ("storyreel.providers.image.gemini_images", "GeminiImages", "for_model"),
        "replicate": ("storyreel.providers.image.replicate_images", "ReplicateImages", "for_model"),
        "openai-compatible": ("storyreel.providers.image.openai_compatible_images", "OpenAICompatibleImages", "for_model"),
    },
    "tts": {"local": ("storyreel.providers.tts.local_espeak", "LocalEspeak", "for_model")},
    "llm": {
        "local": ("storyreel.providers.llm.direct", "LocalDirect", "for_model"),
        **{v: ("storyreel.providers.llm.pydantic_ai_llm", "PydanticAILlm", "factory") for v in LLM_VENDORS},
    },
}


def register(modality: str, vendor: str, factory: Callable[..., Any]) -> None:
    """Register ``factory(model, settings) -> provider`` for ``vendor`` under ``modality`` (planner|image|tts|llm)."""
    _FACTORIES[modality][vendor] = factory


def _factory(modality: str, vendor: str) -> Callable[..., Any] | None:
    if vendor in _FACTORIES[modality]:
        return _FACTORIES[modality][vendor]
    spec = _BUILTINS[modality].get(vendor)
    if spec is None:
        return None
    module, cls_name, method = spec
    cls = getattr(importlib.import_module(module), cls_name)
    factory = cls.factory(vendor) if method == "factory" else getattr(cls, method)
    _FACTORIES[modality][vendor] = factory
    return factory


def resolve(modality: str, provider_id: str, settings: Any = None) -> Any:
    """Build the provider for ``provider_id`` ('vendor:model') with ``settings`` (process settings when
    None). Raises :class:`InputError` if the ID is malformed or the vendor unknown."""
    vendor, sep, model = provider_id.partition(":")
    if not sep or not vendor or not model:
        raise InputError(f"{provider_id!r} is not a provider ID", field=f"{modality} provider", hint="use vendor:model")
    factory = _factory(modality, vendor)
    if factory is None:
        known = ", ".join(f"{v}:…" for v in sorted({*_BUILTINS[modality], *_FACTORIES[modality]}))
        raise InputError(f"unknown vendor {vendor!r}", field=f"{modality} provider", hint=f"available: {known}")
    return factory(model, settings)
