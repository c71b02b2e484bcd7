"""``enhance-prompt``: the two-agent prompt enhancement on its own (seed 004 story 8.1), with its trace
files under ``<workspace>/prompt_traces/<UTC time>-<hash>/``. Offline (``--llm local:…``, the default) the
rule-based director and checklist critic run; with a model both agents are that model."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pydantic import Field

from storyreel.api.project import settings_for
from storyreel.api.requests import _Request
from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_value
from storyreel.core.text import strip_controls
from storyreel.prompts.enhance import Brief, Enhancement, PromptKind, enhance


class EnhanceRequest(_Request):
    """``storyreel enhance-prompt``: a prompt (1–4,000 characters) and the loop's limits."""

    text: str = Field(min_length=1, max_length=4000, description="The prompt to enhance.")
    prompt_kind: PromptKind = Field(default="image", description="image | video.")
    max_iterations: int = Field(default=3, ge=1, le=10)
    threshold: float = Field(default=85.0, ge=0, le=100)
    llm: str | None = Field(default=None, description="LLM of both agents VENDOR:MODEL (default: the configured LLM; local:… = the offline rules).")


def agents(settings, llm: str | None = None):  # noqa: ANN001, ANN201
    """(director, critic) for the configured LLM: the offline rules for a local LLM, else pydantic-ai agents."""
    from storyreel.providers.llm.enhance_rules import ChecklistCritic, RuleDirector
    from storyreel.providers.registry import resolve

    model = resolve("llm", llm or settings.llm, settings)
    if not model.runs_agents:
        return RuleDirector(), ChecklistCritic()
    from storyreel.providers.llm.enhance_agents import LlmCritic, LlmDirector

    return LlmDirector(model), LlmCritic(model)


def enhance_prompt(request: EnhanceRequest | None = None, **fields: object) -> Enhancement:
    """Enhance ``text``; the result names its trace folder. Raises :class:`InputError` (exit 2) for an empty
    prompt or limits out of range, :class:`~storyreel.core.errors.ProviderError` when a model fails."""
    request = request or EnhanceRequest.build(**fields)
    text = strip_controls(request.text).strip()
    if not text:
        raise InputError("the prompt is empty", field="text", hint="give the prompt text, or - to read it from stdin")
    settings = settings_for(request.workspace)
    director, critic = agents(settings, request.llm)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(settings.workspace) / "prompt_traces" / f"{stamp}-{hash_value(text).removeprefix('sha256:')[:8]}"
    return enhance(text, director, critic, Brief(kind=request.prompt_kind), threshold=request.threshold,
                   max_iterations=request.max_iterations, trace_dir=folder)
