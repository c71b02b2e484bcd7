"""Stage ``plan``: the input becomes ``storyboard.json`` (the planning itself happens in the planner
provider or the chapter-JSON importer before this stage runs; the stage records and writes it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from storyreel.core.artifact import Storyboard
from storyreel.core.source import Source
from storyreel.engine.graph import Node, NodeOutput, RecipeParts
from storyreel.store.files import ProjectPaths, atomic_write_text


@dataclass
class PlanCtx:
    """``make_board`` plans on demand: a paid (LLM) planner is only called when the plan node runs, never
    for a fresh plan. ``usage`` is filled by it (tokens, cost in USD) when it ran."""

    make_board: Callable[[], Storyboard]
    source: Source
    request: dict
    paths: ProjectPaths
    provider: str
    usage: dict = field(default_factory=dict)
    _board: Storyboard | None = None

    @property
    def storyboard(self) -> Storyboard:
        if self._board is None:
            self._board = self.make_board()
        return self._board


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
        board = ctx.storyboard
        atomic_write_text(ctx.paths.storyboard, board.model_dump_json(indent=2) + "\n")
        details = {"structure": board.plan.structure, **({"usage": ctx.usage.get("tokens")} if ctx.usage else {})}
        return NodeOutput(files=[ctx.paths.storyboard], details=details, cost_usd=ctx.usage.get("cost_usd", 0.0))
