"""Stage ``plan``: the input becomes ``storyboard.json`` (the planning itself happens in the planner
provider or the chapter-JSON importer, on demand; the stage records and writes it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from storyreel.core.artifact import Storyboard
from storyreel.core.atomic import atomic_write_text
from storyreel.engine.graph import NodeOutput, RecipeParts, Stage
from storyreel.store.files import ProjectPaths


@dataclass
class PlanCtx:
    """``make_board`` plans on demand: a paid (LLM) planner is only called when the plan node runs, never
    for a fresh plan. ``request`` holds the node's parameters (input hash, kind, overrides); ``origin`` the
    input file's absolute path (None for ``--prompt``), recorded so ``status`` can tell an edited input;
    ``usage`` is filled by the planner (tokens, cost in USD) when it ran."""

    make_board: Callable[[], Storyboard]
    request: dict
    paths: ProjectPaths
    provider: str
    usage: dict = field(default_factory=dict)
    origin: str | None = None
    _board: Storyboard | None = None

    @property
    def storyboard(self) -> Storyboard:
        if self._board is None:
            self._board = self.make_board()
        return self._board


class PlanStage(Stage[PlanCtx]):
    """Stage ``plan``: input → ``storyboard.json``. The storyboard is the user's to edit: edits are kept
    (not a staleness cause) until the input or the planner changes."""

    name: ClassVar[str] = "plan"
    code_version: ClassVar[str] = "plan/1"
    editable_output: ClassVar[bool] = True

    def units(self, ctx: PlanCtx) -> list[str]:
        return ["project"]

    def recipe(self, ctx: PlanCtx, unit: str) -> RecipeParts:
        return RecipeParts(provider=ctx.provider, params=ctx.request)

    def run(self, ctx: PlanCtx, unit: str) -> NodeOutput:
        board = ctx.storyboard
        atomic_write_text(ctx.paths.storyboard, board.model_dump_json(indent=2) + "\n")
        details = {"structure": board.plan.structure, "request": ctx.request, "origin": ctx.origin,
                   **({"usage": ctx.usage.get("tokens")} if ctx.usage else {})}
        return NodeOutput(files=[ctx.paths.storyboard], details=details, cost_usd=ctx.usage.get("cost_usd", 0.0))
