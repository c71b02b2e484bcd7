"""Providers: one adapter per vendor or local engine, named ``vendor:model`` (see :mod:`.registry`).

``resolve``, ``register`` and ``override`` are the registry's; fakes for tests and embedders live beside
the real adapters (``image/fake.py``, ``llm/fake.py``, ``tts/fake.py``).
"""

from storyreel.providers.registry import override, register, resolve

__all__ = ["override", "register", "resolve"]
