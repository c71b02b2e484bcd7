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
    """Why a node is stale — categories named as dagster names them."""

    CODE = "CODE"  # the stage's code version changed
    PARAMS = "PARAMS"  # the node's own parameters (storyboard fields, settings) changed
    TEMPLATE = "TEMPLATE"  # the prompt template changed
    PROVIDER = "PROVIDER"  # provider, model or its parameters changed
    DATA = "DATA"  # an input node now has a different data version
    DEPENDENCY = "DEPENDENCY"  # an input node is not fresh itself, or the set of inputs changed
    OUTPUT = "OUTPUT"  # an output file is missing or was modified on disk
    FAILED = "FAILED"  # the last execution failed


@dataclass(frozen=True)
class StaleCause:
    """One cause of staleness: its category and, for DATA / DEPENDENCY, the input nodes involved.
    ``str()`` gives the compact form ``DATA:image[ch01-s02]`` shown by ``storyreel status``."""

    category: Cause
    nodes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.category.value}:{','.join(self.nodes)}" if self.nodes else self.category.value

    def as_dict(self) -> dict:
        return {"category": self.category.value, "nodes": list(self.nodes)}


@dataclass
class NodeStatus:
    node: Node
    state: State
    causes: list[StaleCause] = field(default_factory=list)
    key: str | None = None
    version: str | None = None  # data version of the fresh output
    attention: str | None = None  # FRESH with a stand-in output (e.g. a rejected image): retried by the next run

    def as_dict(self) -> dict:
        return {
            "node": self.node.name,
            "stage": self.node.stage,
            "unit": self.node.unit,
            "state": self.state.value,
            "causes": [str(c) for c in self.causes],
            "stale_causes": [c.as_dict() for c in self.causes],
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


def compare(recipe: Recipe, last: Run) -> list[StaleCause]:
    """Causes of staleness between the current recipe and the last successful run."""
    causes: list[StaleCause] = []
    for category, changed in (
        (Cause.CODE, recipe.code_version != last.code_version),
        (Cause.TEMPLATE, recipe.template_hash != last.template_hash),
        (Cause.PROVIDER, recipe.provider != last.provider),
        (Cause.PARAMS, recipe.params_hash != last.params_hash),
    ):
        if changed:
            causes.append(StaleCause(category))
    old, new = last.input_versions or {}, recipe.inputs
    changed = {n for n in set(old) & set(new) if old[n] != new[n]}
    unmade = {n for n in changed if not new[n]}  # an input with no fresh output yet ("" in the recipe)
    changed_data = tuple(sorted(changed - unmade))
    changed_set = tuple(sorted((set(old) ^ set(new)) | unmade))
    if changed_data:
        causes.append(StaleCause(Cause.DATA, changed_data))
    if changed_set:
        causes.append(StaleCause(Cause.DEPENDENCY, changed_set))
    return causes
