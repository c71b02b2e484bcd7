"""Registry mapping ``vendor:model`` provider IDs to factories (a dict, not an if/elif chain)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyreel.core.errors import InputError

_FACTORIES: dict[str, dict[str, Callable[..., Any]]] = {"planner": {}, "image": {}, "tts": {}, "llm": {}}


def register(modality: str, vendor: str, factory: Callable[..., Any]) -> None:
    """Register ``factory(model, settings) -> provider`` for ``vendor`` under ``modality`` (planner|image|tts)."""
    _FACTORIES[modality][vendor] = factory


def resolve(modality: str, provider_id: str, settings: Any = None) -> Any:
    """Build the provider for ``provider_id`` ('vendor:model') with ``settings`` (process settings when
    None). Raises :class:`InputError` if the ID is malformed or the vendor unknown."""
    _load_builtins()
    vendor, sep, model = provider_id.partition(":")
    if not sep or not vendor or not model:
        raise InputError(f"{provider_id!r} is not a provider ID", field=f"{modality} provider", hint="use vendor:model")
    factory = _FACTORIES[modality].get(vendor)
    if factory is None:
        known = ", ".join(f"{v}:…" for v in sorted(_FACTORIES[modality]))
        raise InputError(f"unknown vendor {vendor!r}", field=f"{modality} provider", hint=f"available: {known}")
    return factory(model, settings)


def _load_builtins() -> None:
    if _FACTORIES["image"]:
        return
    from storyreel.providers.image.local_cards import LocalCards
    from storyreel.providers.image.gemini_images import GeminiImages
    from storyreel.providers.image.openai_compatible_images import OpenAICompatibleImages
    from storyreel.providers.image.openai_images import OpenAIImages
    from storyreel.providers.image.replicate_images import ReplicateImages
    from storyreel.providers.llm.direct import LocalDirect
    from storyreel.providers.llm.local_planner import LocalPlanner
    from storyreel.providers.tts.local_espeak import LocalEspeak

    register("planner", "local", LocalPlanner.for_model)
    register("image", "local", LocalCards.for_model)
    register("image", "openai", OpenAIImages.for_model)
    register("image", "gemini", GeminiImages.for_model)
    register("image", "replicate", ReplicateImages.for_model)
    register("image", "openai-compatible", OpenAICompatibleImages.for_model)
    register("tts", "local", LocalEspeak.for_model)
    register("llm", "local", LocalDirect.for_model)
    from storyreel.providers.llm.pydantic_ai_llm import PydanticAILlm

    from storyreel.providers.llm.llm_planner import LlmPlanner

    for vendor in PydanticAILlm.vendors:
        register("llm", vendor, PydanticAILlm.factory(vendor))
        register("planner", vendor, LlmPlanner.factory(vendor))
