"""The facade: every verb of storyreel as a function taking its request model
(:mod:`storyreel.api.requests`) or the same fields as keyword arguments, and returning a typed result.
The CLI, the job runner and the web call only this.

    from storyreel import api
    result = api.make(input_path=Path("fable.txt"))      # or api.make(api.MakeRequest(...))

Verbs that write a project (``plan``, ``make``, ``imagegen``, ``render``, ``preview``, ``pick``, ``edit``, ``reference``) run
through the one verb runner (:mod:`storyreel.api.runner`); their implementations are the
:class:`~storyreel.api.runner.Verb` classes in :mod:`storyreel.api.verbs`. Read-only verbs (``status``,
``cost``, ``qc``, ``quality``, ``list_projects``, ``enhance_prompt``) and the session
(:class:`~storyreel.api.session.Workspace`, :class:`~storyreel.api.session.Project`) are loaded on first
use (PEP 562), so importing this package — which the CLI's no-op ``make`` does — loads no engine code.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyreel.api import runner
from storyreel.api.requests import (
    EditRequest,
    EnhanceRequest,
    ImagegenRequest,
    ListRequest,
    MakeRequest,
    PickRequest,
    PlanRequest,
    PreviewRequest,
    ProjectRequest,
    QcRequest,
    ReferenceRequest,
    RenderRequest,
)
from storyreel.api.results import CostReport, ImagegenResult, MakeResult, PlanResult, RunResult

if TYPE_CHECKING:
    from storyreel.core.artifact import Storyboard
    from storyreel.engine.executor import ProgressFn

LAZY: dict[str, str] = {
    "status": "storyreel.api.verbs.status", "cost": "storyreel.api.verbs.cost", "qc": "storyreel.api.verbs.qc",
    "quality": "storyreel.api.verbs.quality", "list_projects": "storyreel.api.verbs.projects",
    "enhance_prompt": "storyreel.api.verbs.enhance", "doctor": "storyreel.api.verbs.doctor", "Workspace": "storyreel.api.session", "Project": "storyreel.api.session",
    "NotFound": "storyreel.api.library", "JobConflict": "storyreel.store.jobs", "ProjectBusy": "storyreel.store.locks",
}
"""Name → the module defining it, imported on first use (with the errors a caller maps: not found, busy)."""

__all__ = ["CostReport", "EditRequest", "EnhanceRequest", "ImagegenRequest", "ImagegenResult", "JobConflict", "ListRequest",
    "MakeRequest", "MakeResult", "NotFound", "PickRequest", "PlanRequest", "PlanResult", "PreviewRequest", "Project",
    "ProjectBusy", "ProjectRequest", "QcRequest", "ReferenceRequest", "RenderRequest", "RunResult",
    "Workspace", "cost", "doctor", "edit", "enhance_prompt", "export", "imagegen", "list_projects", "make", "pick", "plan", "preview", "qc", "versions",
    "quality", "reference", "render", "status"]


def __getattr__(name: str) -> Any:
    if name not in LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(LAZY[name]), name)
    globals()[name] = value
    return value


def plan(request: PlanRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> PlanResult:
    """Plan the input into ``storyboard.json`` (kept as it is, edits included, while the plan node is
    fresh). Raises :class:`~storyreel.core.errors.InputError` (exit 2) before writing anything when the
    input is bad; :class:`~storyreel.store.locks.ProjectBusy` when another process writes the project and
    ``wait`` is False; :class:`~storyreel.core.errors.CostLimitReached` when a paid planner would pass the cap."""
    return runner.run("plan", request or PlanRequest.build(**fields), progress)


def make(request: MakeRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """Make the video of the input: storyboard, images, narration, clips, ``video.mp4`` and QC — running
    only the nodes that are not fresh (a repeated request with nothing changed answers from its stamp).
    Raises :class:`~storyreel.core.errors.InputError` (exit 2) for bad input, :class:`~storyreel.core.errors.StageError`
    (exit 1) when nodes fail and :class:`~storyreel.core.errors.CostLimitReached` at the cost cap; finished
    nodes stay cached for the next run either way."""
    return runner.run("make", request or MakeRequest.build(**fields), progress)


def imagegen(request: ImagegenRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> ImagegenResult:
    """Image prompts, images and ``images/manifest.json`` for all shots, a ``chapter``'s or one ``shot``;
    ``dry_run`` writes the exact request payloads and prices the plan without calling anything. Raises
    :class:`~storyreel.core.errors.InputError` (exit 2) for an unknown project, chapter or shot."""
    return runner.run("imagegen", request or ImagegenRequest.build(**fields), progress)


def render(request: RenderRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """Re-render ``video.mp4`` from the existing images and narration (``force``: every segment), with the
    preset, CRF and music bed kept in ``options.json``. Raises :class:`~storyreel.core.errors.InputError`
    (exit 2) when images or narration are missing or stale (run ``make`` first)."""
    return runner.run("render", request or RenderRequest.build(**fields), progress)


def pick(request: PickRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """Use candidate ``candidate`` (None: the best ranked again) as a shot's image and, with ``render``,
    update the video. Raises :class:`~storyreel.core.errors.InputError` (exit 2) naming ``shot_id`` or
    ``candidate`` when it does not exist."""
    return runner.run("pick", request or PickRequest.build(**fields), progress)


def edit(request: EditRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """One editing verb (``op``: split, merge, move, delete, duplicate, undo, redo, restore) on the storyboard, recorded
    as a version, then — with ``render`` — the video updated, re-making only the nodes the edit touched. Raises
    :class:`~storyreel.core.errors.InputError` (exit 2) naming the argument of an edit that cannot be made."""
    return runner.run("edit", request or EditRequest.build(**fields), progress)


def preview(request: PreviewRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """The current version at the preview profile (540p, fast encoding) in ``preview/video.mp4``: what an edit looks like
    in seconds, made from the same images, narration and soundtrack as the delivery, which it leaves as it is."""
    return runner.run("preview", request or PreviewRequest.build(**fields), progress)


def versions(request: ProjectRequest | None = None, **fields: object) -> list[dict]:
    """The project's versions (``[{"version", "what", "at", "storyboard", "video", "current"}]``, oldest first)."""
    from storyreel.api.session import Workspace
    from storyreel.api.verbs.edit import versions as listed

    request = request or ProjectRequest.build(**fields)
    return listed(Workspace.open(request.workspace).existing(request.project))


def export(project: str, fmt: str = "otio", output: Path | None = None, workspace: Path | None = None) -> Path:
    """Write a made project's timeline as OpenTimelineIO (``otio`` or ``otioz``) and return the file's path. Raises
    :class:`~storyreel.core.errors.InputError` (exit 2) for a project without a video, a bad format or output."""
    from storyreel.api.session import Workspace
    from storyreel.api.verbs.export import export as exported

    request = ProjectRequest.build(project=project, workspace=workspace)
    return exported(Workspace.open(request.workspace).existing(request.project), fmt, output)


def reference(request: ReferenceRequest | None = None, **fields: object) -> Storyboard:
    """Give an entity (character, product, place) a reference image and name the shots that show it; the
    storyboard as written. Raises :class:`~storyreel.core.errors.InputError` (exit 2) naming ``image`` or
    ``shots``; nothing is written then."""
    return runner.run("reference", request or ReferenceRequest.build(**fields))
