"""The facade: one module per verb — ``make``, ``plan``, ``render``, ``imagegen``, ``qc``, ``status``,
``cost``, ``list_projects``, ``pick``, ``quality``, ``enhance_prompt`` — each taking its request model (:mod:`storyreel.api.requests`) or the same
fields as keyword arguments, and returning a typed result. The CLI and the web call only this.

    from storyreel import api
    result = api.make(input_path=Path("fable.txt"))      # or api.make(api.MakeRequest(...))

Verbs are imported on first use, so ``storyreel.api.requests`` stays cheap to import (the CLI's no-op
``make`` builds its request before deciding to load the engine). ``storyreel.api.make`` is the function;
its module is ``sys.modules["storyreel.api.make"]``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

VERBS = {
    "make": "make", "plan": "plan", "render": "render", "imagegen": "imagegen", "qc": "qc", "status": "status",
    "cost": "cost", "list_projects": "projects", "pick": "pick", "quality": "quality",
    "enhance_prompt": "enhance",
}
"""Verb function → its module under ``storyreel.api``."""

_NAMES = {
    "MakeRequest": "requests", "PlanRequest": "requests", "RenderRequest": "requests", "ImagegenRequest": "requests",
    "ProjectRequest": "requests", "QcRequest": "requests", "ListRequest": "requests", "PickRequest": "requests",
    "RunResult": "results", "MakeResult": "results", "ImagegenResult": "results", "CostReport": "results",
}

__all__ = sorted([*VERBS, *_NAMES])


class _Facade(types.ModuleType):
    """Module type of ``storyreel.api``: a verb name always means the verb function, also after the
    import system has set the package attribute of the same name to the verb's module."""

    def __getattribute__(self, name: str) -> Any:
        if name in VERBS:
            return getattr(importlib.import_module(f"{__name__}.{VERBS[name]}"), name)
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        if name in _NAMES:
            return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


sys.modules[__name__].__class__ = _Facade
