"""Registry mapping ``vendor:model`` provider IDs to factories (a dict, not an if/elif chain)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyreel.core.errors import InputError

_FACTORIES: dict[str, dict[str, Callable[[str], Any]]] = {"planner": {}, "image": {}, "tts": {}}


def register(modality: str, vendor: str, factory: Callable[[str], Any]) -> None:
    """Register ``factory(model) -> provider`` for ``vendor`` under ``modality`` (planner|image|tts)."""
    _FACTORIES[modality][vendor] = factory


def resolve(modality: str, provider_id: str) -> Any:
    """Build the provider for ``provider_id`` ('vendor:model'). Raises :class:`InputError` if unknown."""
    _load_builtins()
    vendor, sep, model = provider_id.partition(":")
    if not sep or not vendor or not model:
        raise InputError(f"{provider_id!r} is not a provider ID", field=f"{modality} provider", hint="use vendor:model")
    factory = _FACTORIES[modality].get(vendor)
    if factory is None:
        known = ", ".join(f"{v}:…" for v in sorted(_FACTORIES[modality]))
        raise InputError(f"unknown vendor {vendor!r}", field=f"{modality} provider", hint=f"available: {known}")
    return factory(model)


def _load_builtins() -> None:
    if _FACTORIES["image"]:
        return
    from storyreel.providers.image.local_cards import LocalCards
    from storyreel.providers.llm.local_planner import LocalPlanner
    from storyreel.providers.tts.local_espeak import LocalEspeak

    register("planner", "local", LocalPlanner.for_model)
    register("image", "local", LocalCards.for_model)
    register("tts", "local", LocalEspeak.for_model)
