"""``enhance-prompt``: the two-agent prompt enhancement on its own (seed 004 story 8.1), with its trace
files under ``<workspace>/prompt_traces/<UTC time>-<hash>/``. Offline (``--llm local:…``, the default) the
rule-based director and checklist critic run; with a model both agents are that model."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from storyreel.api.requests import EnhanceRequest
from storyreel.api.session import Workspace
from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_value
from storyreel.core.text import strip_controls
from storyreel.prompts.enhance import Brief, Enhancement, enhance
from storyreel.providers.registry import resolve
from storyreel.stages.enhance import agents


def enhance_prompt(request: EnhanceRequest | None = None, **fields: object) -> Enhancement:
    """Enhance ``text``; the result names its trace folder. Raises :class:`InputError` (exit 2) for an empty
    prompt or limits out of range, :class:`~storyreel.core.errors.ProviderError` when a model fails."""
    request = request or EnhanceRequest.build(**fields)
    text = strip_controls(request.text).strip()
    if not text:
        raise InputError("the prompt is empty", field="text", hint="give the prompt text, or - to read it from stdin")
    settings = Workspace.open(request.workspace).settings
    director, critic = agents(resolve("llm", request.llm or settings.llm, settings))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(settings.workspace) / "prompt_traces" / f"{stamp}-{hash_value(text).removeprefix('sha256:')[:8]}"
    return enhance(text, director, critic, Brief(kind=request.prompt_kind), threshold=request.threshold,
                   max_iterations=request.max_iterations, trace_dir=folder)
