"""Stage ``plan``: the input becomes ``storyboard.json`` (the planning itself happens in the planner
provider or the chapter-JSON importer before this stage runs; the stage records and writes it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from storyreel.core.artifact import Storyboard
from storyreel.core.source import Source
from storyreel.engine.graph import Node, NodeOutput, RecipeParts
from storyreel.store.files import ProjectPaths, atomic_write_text


@dataclass
class PlanCtx:
    storyboard: Storyboard
    source: Source
    request: dict
    paths: ProjectPaths
    provider: str


class PlanStage:
    """Stage ``plan``: input → ``storyboard.json``. The storyboard is the user's to edit: edits are kept
    (not a staleness cause) until the input or the planner changes."""

    name: ClassVar[str] = "plan"
    code_version: ClassVar[str] = "plan/1"
    max_workers: ClassVar[int] = 1
    editable_output: ClassVar[bool] = True

    def units(self, ctx: PlanCtx) -> list[str]:
        return ["project"]

    def inputs(self, ctx: PlanCtx, unit: str) -> list[Node]:
        return []

    def requires(self, ctx: PlanCtx, unit: str) -> list[Node]:
        return []

    def recipe(self, ctx: PlanCtx, unit: str) -> RecipeParts:
        return RecipeParts(provider=ctx.provider, params=ctx.request)

    def run(self, ctx: PlanCtx, unit: str) -> NodeOutput:
        atomic_write_text(ctx.paths.storyboard, ctx.storyboard.model_dump_json(indent=2) + "\n")
        return NodeOutput(files=[ctx.paths.storyboard], details={"structure": ctx.storyboard.plan.structure})
