"""Nodes, recipes and the stage protocol.

A node's **key** is computed before it runs: sha256 over canonical JSON of the stage name, the stage's
code version, the provider's semantic identity, the prompt template hash, the hash of the node's literal
parameters, and the **data versions** of its input nodes (ARCHITECTURE.md "Engine").
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from storyreel.core.hashing import hash_value

Ctx = TypeVar("Ctx")

FORCED: ContextVar[bool] = ContextVar("storyreel_forced", default=False)
"""True while the executor runs a node the caller forced (``--force``): a stage that reuses parts of an
earlier output inside one node (the image stage's candidates) makes them anew instead."""


def forced() -> bool:
    """Whether the node being run was forced (see :data:`FORCED`)."""
    return FORCED.get()


@dataclass(frozen=True, order=True)
class Node:
    """One stage applied to one unit, e.g. ``image[ch03-s02]``."""

    stage: str
    unit: str

    @property
    def name(self) -> str:
        return f"{self.stage}[{self.unit}]"


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a node's output. ``inputs`` maps input node name → data version."""

    stage: str
    code_version: str
    provider: str
    params: dict[str, Any]
    inputs: dict[str, str]
    template_hash: str | None = None

    @property
    def params_hash(self) -> str:
        return hash_value(self.params)

    @property
    def key(self) -> str:
        return hash_value(
            {
                "stage": self.stage,
                "code_version": self.code_version,
                "provider": self.provider,
                "template_hash": self.template_hash,
                "params": self.params_hash,
                "inputs": self.inputs,
            }
        )


@dataclass
class NodeOutput:
    """What a node produced: files (absolute paths), provider details and cost in USD. ``attention`` says
    the output is a stand-in (e.g. the provider rejected the shot): downstream nodes use it, and the next
    run retries the node."""

    files: list[Path]
    details: dict[str, Any] = field(default_factory=dict)
    cost_usd: float = 0.0
    attention: str | None = None
    cleanup: list[Path] = field(default_factory=list)  # removed once the run record is committed (e.g. a journal entry)
    versioned: list[Path] | None = None
    """The files whose hashes make the node's data version (default: all ``files``). A node whose other
    outputs are records about the result (who picked it, its scores) names the result here, so a change
    to the records alone leaves downstream nodes fresh (early cutoff)."""


@dataclass(frozen=True)
class RecipeParts:
    provider: str
    params: dict[str, Any]
    template_hash: str | None = None


class Stage(Generic[Ctx]):
    """Base of a pipeline stage; a subclass declares ``name`` and ``code_version`` and implements
    ``units``, ``recipe`` and ``run`` — the rest has working defaults.

    ``inputs(ctx, unit)``: nodes whose data versions enter the key (default none); ``requires``: nodes that
    must be fresh before ``recipe`` can read their outputs (default: the inputs); units run concurrently
    up to ``concurrency(ctx)`` (default ``max_workers``, 1); the executor starts the units with the largest
    ``cost_hint`` first (default: all equal, storyboard order); ``editable_output`` marks an output the
    user may edit (edits are not a staleness cause). Consecutive stages that name the same ``pool`` share
    one worker pool (sized by the first's ``concurrency``): their pending nodes run together, longest first,
    so one stage's tail overlaps the next stage's work. A node that requires a node of an earlier stage of
    the same pool waits for it inside the pool (assessed once it has run) while the other nodes go on.
    ``fans_out`` marks a stage whose nodes other workers may run (:mod:`storyreel.engine.dispatch`): its ``run``
    reads only its declared inputs' outputs and the project's own files, its recipe is the same on any machine, and
    its output does not depend on what the process ran before (a fanned make gives the same bytes as a lone one).
    """

    name: ClassVar[str]
    code_version: ClassVar[str]
    max_workers: ClassVar[int] = 1
    editable_output: ClassVar[bool] = False
    pool: ClassVar[str | None] = None
    fans_out: ClassVar[bool] = False

    def units(self, ctx: Ctx) -> list[str]:
        raise NotImplementedError

    def inputs(self, ctx: Ctx, unit: str) -> list[Node]:
        return []

    def requires(self, ctx: Ctx, unit: str) -> list[Node]:
        return self.inputs(ctx, unit)

    def concurrency(self, ctx: Ctx) -> int:
        return self.max_workers

    def cost_hint(self, ctx: Ctx, unit: str) -> float:
        """Relative run time of a unit (the executor starts the longest first, so the last worker does
        not run alone for long)."""
        return 1.0

    def recipe(self, ctx: Ctx, unit: str) -> RecipeParts:
        raise NotImplementedError

    def run(self, ctx: Ctx, unit: str) -> NodeOutput:
        raise NotImplementedError

    def reused(self, ctx: Ctx, unit: str) -> None:
        """Called instead of :meth:`run` once the build cache has put an earlier run's outputs back (same key): a stage
        whose context caches what it read of its outputs forgets it here (default: nothing to forget)."""
