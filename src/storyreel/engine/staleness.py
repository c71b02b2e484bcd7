"""Computed node status: MISSING, STALE (with causes) or FRESH — never stored, always derived."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from storyreel.core.hashing import FileHashes
from storyreel.engine.graph import Node, Recipe
from storyreel.store.models import Run


class State(StrEnum):
    MISSING = "MISSING"
    STALE = "STALE"
    FRESH = "FRESH"


class Cause(StrEnum):
    CODE = "CODE"  # the stage's code version changed
    TEMPLATE = "TEMPLATE"  # the prompt template changed
    PROVIDER = "PROVIDER"  # provider, model or its parameters changed
    DATA = "DATA"  # the node's own parameters (storyboard fields, settings) changed
    DEPENDENCY = "DEPENDENCY"  # an input node produced a different version, or is not fresh itself
    OUTPUT = "OUTPUT"  # an output file is missing or was modified on disk
    FAILED = "FAILED"  # the last execution failed


@dataclass
class NodeStatus:
    node: Node
    state: State
    causes: list[str] = field(default_factory=list)
    key: str | None = None
    version: str | None = None  # data version of the fresh output
    attention: str | None = None  # FRESH with a stand-in output (e.g. a rejected image): retried by the next run

    def as_dict(self) -> dict:
        return {
            "node": self.node.name,
            "stage": self.node.stage,
            "unit": self.node.unit,
            "state": self.state.value,
            "causes": self.causes,
            "attention": self.attention,
        }


def outputs_intact(root: Path, run: Run, hashes: FileHashes) -> bool:
    """True when every output file of ``run`` exists with its recorded hash (files unchanged since they
    were last hashed are not read again, see :class:`FileHashes`)."""
    for rel, digest in run.outputs.items():
        path = root / rel
        if not path.is_file() or hashes.hash(path) != digest:
            return False
    return True


def outputs_present(root: Path, run: Run) -> bool:
    return all((root / rel).is_file() for rel in run.outputs)


def compare(recipe: Recipe, last: Run) -> list[str]:
    """Causes of staleness between the current recipe and the last successful run."""
    causes: list[str] = []
    if recipe.code_version != last.code_version:
        causes.append(Cause.CODE)
    if recipe.template_hash != last.template_hash:
        causes.append(Cause.TEMPLATE)
    if recipe.provider != last.provider:
        causes.append(Cause.PROVIDER)
    if recipe.params_hash != last.params_hash:
        causes.append(Cause.DATA)
    changed = sorted(n for n in set(recipe.inputs) | set(last.input_versions) if recipe.inputs.get(n) != last.input_versions.get(n))
    if changed:
        causes.append(f"{Cause.DEPENDENCY}:{','.join(changed)}")
    return causes
