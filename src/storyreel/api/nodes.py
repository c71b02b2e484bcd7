"""One node of another worker's make, run here (issue 29 item 4: fan-out). The job service hands a claimed node task
to :func:`run_node`; the coordinating worker shares the project first with :func:`share`.

A helper's copy of the project is partial: it fetches the project's own files (storyboard, options, input, prompts…)
and the outputs of the nodes this node reads — not the other shots' images, clips and segments — so a helper moves
only what its node needs. The node then runs like any other (recorded, its outputs pushed to the shared storage
before it counts as done) and its outcome goes back to the coordinator (:meth:`storyreel.engine.executor.Executor.run_node`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from storyreel.api.session import Project, Workspace
from storyreel.engine.graph import Node, Stage
from storyreel.stages.pipeline import MEDIA_STAGES
from storyreel.store.sync import ProjectMirror

log = logging.getLogger("storyreel.api")

FANNING: dict[str, Stage[Any]] = {stage.name: stage for stage in MEDIA_STAGES if stage.fans_out}
"""The stages whose nodes a helper runs, by name."""


_BASES: dict[tuple[str, str], int] = {}
"""(workspace, project) → the shared generation whose project files this process has fetched (a helper fetches them
once per make, then only each node's inputs)."""
_BASES_LOCK = threading.Lock()


def share(ws: Workspace, project_id: str) -> int:
    """Before a make offers nodes: push the project's folder to the shared storage (the files the verb wrote before its
    nodes — options, history — reach the helpers). Call while holding the project's lock. Returns the tree's generation
    (0 on one machine)."""
    project = Project(ws, project_id)
    return project.sync.push() if project.sync is not None else 0


def run_node(ws: Workspace, project_id: str, stage_name: str, unit: str, *, key: str, inputs: dict[str, str],
             forcing: bool, base: int = 0) -> dict[str, Any]:
    """Run the offered node ``stage_name[unit]`` of ``project_id`` in this workspace and return its outcome; ``base`` is
    the generation the coordinator shared (the project's own files are fetched once per base). Raises :class:`KeyError`
    for a stage that does not fan out, :class:`~storyreel.engine.executor.NodeMismatch` when this copy's recipe differs
    from the coordinator's, :class:`~storyreel.core.cancel.Canceled` when the task was withdrawn."""
    stage = FANNING[stage_name]
    project = Project(ws, project_id)  # not Workspace.project: no full refresh, only what this node reads
    node = Node(stage_name, unit)
    if project.sync is not None:
        seen = (str(ws.root), project_id)
        with _BASES_LOCK:
            fresh = base and _BASES.get(seen) == base
        if not fresh:
            fanned = project.store.outputs_of(project_id, set(FANNING))
            project.sync.pull_only(lambda rel: rel not in fanned)
            with _BASES_LOCK:
                _BASES[seen] = base
        ctx = project.context()
        wanted = [(n.stage, n.unit) for n in {*stage.inputs(ctx, unit), *stage.requires(ctx, unit)}]
        paths = {rel for run in project.store.latest_for(project_id, wanted).values() for rel in (run.outputs or {})}
        if project.sync.pull_only(paths):
            ctx = project.context()  # read again over the inputs just fetched
        project.paths.mirror = ProjectMirror(project.sync)
    else:
        ctx = project.context()
    try:
        executor = project.executor()
        outcome = executor.run_node(stage, ctx, unit, key=key, inputs=inputs, forcing=forcing)
    finally:
        project.paths.mirror = None
    log.info("%s of %s run here for another worker: %s", node.name, project_id, outcome["status"])
    return outcome
