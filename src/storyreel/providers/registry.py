"""The provider registry: ``vendor:model`` IDs → provider classes, per modality (a dict, not an if/elif chain).

Built-in vendors are one line each in :data:`BUILTINS` — ``"module:Class"``, or ``("module:Class",
"connection")`` to run a wire format against another vendor's :class:`~storyreel.providers.connection.Connection`.
Modules are imported only when a vendor is resolved, so a run on the local engines never imports an HTTP
client or pydantic-ai (a no-op ``make`` stays fast).

Third-party packages add vendors by entry point, as llm's plugins do: in the package's ``pyproject.toml``::

    [project.entry-points."storyreel.providers"]
    "image:acme" = "acme_storyreel:AcmeImages"

The name is ``<modality>:<vendor>``; the object is a provider class (see :mod:`storyreel.providers.base`).
Entry points are read only when a vendor is not built in.

:func:`override` swaps in provider instances for a block (pydantic-ai's ``Agent.override``): every
:func:`resolve` of that modality returns the given instance — how tests and embedders inject fakes.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from storyreel.core.errors import InputError

MODALITIES = ("planner", "image", "tts", "llm", "scorer", "judge", "video")
ENTRY_POINT_GROUP = "storyreel.providers"
_LLM = "storyreel.providers.llm.pydantic_ai_llm:PydanticAILlm"
_PLANNER = "storyreel.providers.planner.llm:LlmPlanner"
_JUDGE = "storyreel.providers.scorer.vlm_judge:VlmJudge"
_LLM_VENDORS = {"openai": "openai", "openrouter": "openrouter", "openai-compatible": "llm-server",
                "anthropic": "anthropic", "google": "google"}  # vendor → connection

BUILTINS: dict[str, dict[str, str | tuple[str, str]]] = {
    "planner": {
        "local": "storyreel.providers.planner.local:LocalPlanner",
        **{vendor: (_PLANNER, conn) for vendor, conn in _LLM_VENDORS.items()},
    },
    "image": {
        "local": "storyreel.providers.image.local_cards:LocalCards",
        "openai": "storyreel.providers.image.openai_images:OpenAIImages",
        "gemini": "storyreel.providers.image.gemini_images:GeminiImages",
        "replicate": "storyreel.providers.image.replicate_images:ReplicateImages",
        "together": "storyreel.providers.image.together_images:TogetherImages",
        "openai-compatible": ("storyreel.providers.image.chat_images:ChatImages", "image-server"),
        "openrouter": ("storyreel.providers.image.chat_images:ChatImages", "openrouter"),
    },
    "tts": {
        "local": "storyreel.providers.tts.local:LocalVoice",
        "elevenlabs": "storyreel.providers.tts.elevenlabs:ElevenLabsSpeech",
        "google": "storyreel.providers.tts.gemini_tts:GeminiSpeech",
    },
    "scorer": {"local": "storyreel.providers.scorer.local_technical:LocalTechnical"},
    "video": {
        "replicate": "storyreel.providers.video.replicate_video:ReplicateVideo",
        "runway": "storyreel.providers.video.runway_video:RunwayVideo",
        "fal": "storyreel.providers.video.fal_video:FalVideo",
        "google": "storyreel.providers.video.gemini_video:GeminiVideo",
    },
    "judge": {vendor: (_JUDGE, conn) for vendor, conn in _LLM_VENDORS.items()},
    "llm": {
        "local": "storyreel.providers.llm.direct:LocalDirect",
        **{vendor: (_LLM, conn) for vendor, conn in _LLM_VENDORS.items()},
    },
}

_classes: dict[tuple[str, str], type] = {}
_registered: dict[tuple[str, str], type] = {}
_overrides: dict[str, list[Any]] = {m: [] for m in MODALITIES}
_lock = threading.Lock()


def register(modality: str, vendor: str, cls: type) -> None:
    """Register provider class ``cls`` for ``vendor`` under ``modality`` (planner | image | tts | llm);
    it wins over a built-in of the same name."""
    _check_modality(modality)
    with _lock:
        _registered[(modality, vendor)] = cls
        _classes.pop((modality, vendor), None)


def _check_modality(modality: str) -> None:
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; one of {', '.join(MODALITIES)}")


def _load(spec: str) -> type:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _entry_points() -> dict[tuple[str, str], Any]:
    from importlib.metadata import entry_points

    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        modality, _, vendor = ep.name.partition(":")
        if modality in MODALITIES and vendor:
            found[(modality, vendor)] = ep
    return found


def provider_class(modality: str, vendor: str) -> type | None:
    """The class serving ``vendor`` for ``modality`` (registered, built in, or by entry point), or None."""
    _check_modality(modality)
    key = (modality, vendor)
    with _lock:
        if key in _classes:
            return _classes[key]
        cls: type | None = _registered.get(key)
    if cls is None and vendor in BUILTINS[modality]:
        spec = BUILTINS[modality][vendor]
        if isinstance(spec, tuple):
            from storyreel.providers.connection import CONNECTIONS

            cls = _load(spec[0]).bind(vendor, CONNECTIONS[spec[1]])
        else:
            cls = _load(spec)
    if cls is None:
        ep = _entry_points().get(key)
        if ep is not None:
            loaded = ep.load()
            cls = loaded.bind(vendor) if getattr(loaded, "vendor", vendor) != vendor and hasattr(loaded, "bind") else loaded
    if cls is not None:
        with _lock:
            _classes[key] = cls
    return cls


def vendors(modality: str) -> list[str]:
    """Every vendor name known for ``modality`` (built in, registered, by entry point), sorted."""
    known = set(BUILTINS[modality]) | {v for m, v in _registered if m == modality}
    known |= {v for m, v in _entry_points() if m == modality}
    return sorted(known)


def resolve(modality: str, provider_id: str, settings: Any = None, *, overridable: bool = True) -> Any:
    """The provider for ``provider_id`` ('vendor:model') built with ``settings`` (process settings when
    None); inside :func:`override` the overriding instance, unless ``overridable`` is False (a fixed
    engine such as the template renderer). Raises :class:`InputError` if the ID is malformed or the
    vendor unknown."""
    _check_modality(modality)
    if overridable and _overrides[modality]:
        return _overrides[modality][-1]
    vendor, sep, model = provider_id.partition(":")
    if not sep or not vendor or not model:
        raise InputError(f"{provider_id!r} is not a provider ID", field=f"{modality} provider", hint="use vendor:model")
    cls = provider_class(modality, vendor)
    if cls is None:
        known = ", ".join(f"{v}:…" for v in vendors(modality))
        raise InputError(f"unknown vendor {vendor!r}", field=f"{modality} provider", hint=f"available: {known}")
    return cls(model, settings)


@contextmanager
def override(**providers: Any) -> Iterator[None]:
    """Within the block, :func:`resolve` of each given modality returns the given provider instance,
    e.g. ``with override(image=FakeImages(), llm=FakeLlm(["a prompt"])): api.make(...)``. Nests;
    process-wide (the executor's worker threads see it too)."""
    for modality in providers:
        _check_modality(modality)
    with _lock:
        for modality, instance in providers.items():
            _overrides[modality].append(instance)
    try:
        yield
    finally:
        with _lock:
            for modality in providers:
                _overrides[modality].pop()
