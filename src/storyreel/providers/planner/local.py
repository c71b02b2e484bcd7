"""``local:planner`` — the deterministic, rule-based planner (no key, no network): scripts by
:mod:`~storyreel.providers.planner.script_rules`, prompts by :mod:`~storyreel.providers.planner.brief_rules`."""

from __future__ import annotations

from typing import ClassVar

from storyreel.core.artifact import Storyboard
from storyreel.providers.base import LocalProvider, PlannerRequest
from storyreel.providers.planner.brief_rules import plan_prompt
from storyreel.providers.planner.script_rules import plan_script


class LocalPlanner(LocalProvider):
    """Rule-based planner. ``plan(PlannerRequest) -> Storyboard``; deterministic for a given request."""

    modality: ClassVar[str] = "planner"
    code_version: ClassVar[str] = "local-planner/5"  # /5: paragraph chapters titled by a whole short sentence or "Part N"; a prompt's format is not its topic
    default_model: ClassVar[str] = "planner"
    last_usage: dict = {}

    def estimate(self, request: PlannerRequest) -> float:
        return 0.0

    def plan(self, request: PlannerRequest) -> Storyboard:
        """Plan a script or prompt. Raises ``ValueError`` for a chapters request (imported, not planned)."""
        if request.kind == "script":
            return plan_script(request, self.provider_id)
        if request.kind == "prompt":
            return plan_prompt(request, self.provider_id)
        raise ValueError("chapter JSON is imported, not planned")
