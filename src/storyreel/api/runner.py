"""The one verb runner. Every verb that writes a project — ``plan``, ``make``, ``imagegen``, ``render``,
``pick``, ``reference`` and those still to come — is a :class:`Verb` run by :func:`run` in the same steps:

0. stamp — a ``make`` whose request, and every file and setting it depended on, are unchanged answers
   from its up-to-date stamp (:mod:`storyreel.engine.uptodate`). Only the standard library runs before
   this step decides: the engine, the stages and the database are imported after it;
1. open — the workspace and the project (:mod:`storyreel.api.session`), and the verb's checks of its
   request against them (nothing is written before they pass);
2. lock — the project's lock; reservations a dead run left are settled;
3. prepare — the verb's own first step (plan the storyboard, record a pick); a verb whose work ends there
   (``plan``, a dry run, a pick without render) returns its result here;
4. options — the choices the request gives are kept in ``options.json``;
5. context — what the stages read;
6. preflight — every provider the run will call, checked before any paid work;
7. evaluate — the verb's stages, running what is not fresh (``only``: a subset);
8. settle — the project's status from the outcome, in one place (:func:`settle`), on every exit;
9. stamp — a ``make`` that left every node fresh records what it depended on, for step 0.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from storyreel.api.results import RunResult
from storyreel.core.cancel import Canceled
from storyreel.core.errors import CostLimitReached, InputError
from storyreel.core.locations import default_workspace
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine import uptodate

if TYPE_CHECKING:
    from storyreel.api.session import Project, Workspace
    from storyreel.engine.executor import Executor, ProgressFn, RunReport
    from storyreel.engine.graph import Node, Stage
    from storyreel.stages.context import ProjectContext

Q = TypeVar("Q")
R = TypeVar("R")

VERBS: dict[str, str] = {
    "plan": "storyreel.api.verbs.plan:Plan",
    "make": "storyreel.api.verbs.make:Make",
    "imagegen": "storyreel.api.verbs.imagegen:Imagegen",
    "render": "storyreel.api.verbs.render:Render",
    "pick": "storyreel.api.verbs.pick:Pick",
    "edit": "storyreel.api.verbs.edit:Edit",
    "preview": "storyreel.api.verbs.preview:Preview",
    "reference": "storyreel.api.verbs.reference:Reference",
}
"""Verb name → its class, imported on first use (a no-op ``make`` never imports one)."""

STAMPED = frozenset({"make"})
"""Verbs answered from an up-to-date stamp when nothing changed (step 0)."""


class Verb(Generic[Q, R]):
    """A verb that writes a project: its hooks, called by :func:`run` in order. Defaults suit a verb on an
    existing project that stores no options, calls providers and runs every media stage."""

    name: ClassVar[str] = ""
    preflight: ClassVar[bool] = True
    """Check the providers before evaluating (False for a verb that calls none, e.g. ``render``)."""

    def open(self, ws: Workspace, request: Q) -> Project:
        """1. The project the request names. Raises :class:`~storyreel.core.errors.InputError` when it
        does not exist."""
        return ws.existing(request.project)  # type: ignore[attr-defined]

    def check(self, project: Project, request: Q) -> None:
        """1. Read-only checks of the request against the project, before the lock and before anything
        is written. Raises :class:`~storyreel.core.errors.InputError`."""

    def prepare(self, project: Project, request: Q, executor: Executor) -> R | None:
        """3. The verb's own first step under the lock; a result ends the verb there."""
        return None

    def options(self, request: Q) -> dict[str, Any]:
        """4. The choices to keep in ``options.json`` (None values keep the stored ones)."""
        return {}

    def stages(self, request: Q, ctx: ProjectContext) -> Sequence[Stage[Any]]:
        """7. The stages evaluated (every media stage: the status settles from all of them)."""
        from storyreel.stages.pipeline import MEDIA_STAGES

        return MEDIA_STAGES

    def only(self, request: Q, ctx: ProjectContext) -> Callable[[Node], bool] | None:
        """7. The nodes that may run (None: all)."""
        return None

    def force(self, request: Q) -> bool:
        return bool(getattr(request, "force", False))

    def settles(self, request: Q) -> bool:
        """8. Whether the outcome is the project's status (False for a preview: the delivered video is not what ran)."""
        return True

    def result(self, project: Project, ctx: ProjectContext, report: RunReport, status: ProjectStatus, request: Q,
               started: float) -> R:
        """The verb's typed result (default: what the evaluation ran and what needs attention)."""
        return RunResult.of(project, report, status, started)  # type: ignore[return-value]

    def stamp(self, project: Project, ctx: ProjectContext, request: Q, result: R) -> None:
        """9. Record a fully fresh result for step 0 (only stamped verbs)."""


def run(name: str, request: Any, progress: ProgressFn | None = None) -> Any:
    """Run verb ``name`` on ``request`` (its request model) through steps 0–9 and return its result.

    Raises what the verb raises: :class:`~storyreel.core.errors.InputError` (exit 2) before anything is
    written, :class:`~storyreel.store.locks.ProjectBusy` when another process writes the project and the
    request says not to wait, :class:`~storyreel.core.errors.StageError`,
    :class:`~storyreel.core.errors.CostLimitReached` or :class:`~storyreel.core.cancel.Canceled` — with
    the project's status settled first."""
    started = time.perf_counter()
    answered = stamped(name, request)  # 0
    if answered is not None:
        return answered
    from storyreel.api.session import Workspace  # the database, the engine and the stages load from here on

    verb: Verb = _verb_class(name)()
    ws = Workspace.open(request.workspace)  # 1
    project = verb.open(ws, request)
    verb.check(project, request)
    with project.writing(wait=request.wait, verb=name):  # 2
        executor = project.executor(progress)
        try:
            done = verb.prepare(project, request, executor)  # 3
            if done is not None:
                return done
            options = verb.options(request)  # 4
            if options:
                project.keep_options(**options)
            ctx = project.context()  # 5
            if verb.preflight:  # 6
                ctx.preflight()
            report = project.evaluate(verb.stages(request, ctx), ctx, execute=True, force=verb.force(request),  # 7
                                      only=verb.only(request, ctx), executor=executor)
        except BaseException as exc:
            status = settle(exc)  # 8
            if status is not None and project.status is not None and verb.settles(request):
                project.mark(status)
            raise
        status = settle(report)
        video = project.paths.video
        if verb.settles(request):
            project.mark(status, video_path=str(video) if video.exists() else None)
        result = verb.result(project, ctx, report, status, request, started)
        if status is ProjectStatus.DONE:
            verb.stamp(project, ctx, request, result)  # 9
        return result


def settle(outcome: RunReport | BaseException) -> ProjectStatus | None:
    """The project's status after a verb's evaluation — the one rule: ``done`` when every node of the
    pipeline is fresh with nothing needing attention, ``partial`` otherwise; ``cost_limit`` at the cap;
    ``interrupted`` when the process was stopping, ``canceled`` when a person canceled; ``failed`` for any
    other error. None (the status stays) for bad input — nothing was made — and for an interruption that is
    not an error of the run (Ctrl-C of the CLI)."""
    if isinstance(outcome, InputError):
        return None
    if isinstance(outcome, CostLimitReached):
        return ProjectStatus.COST_LIMIT
    if isinstance(outcome, Canceled):
        return ProjectStatus.INTERRUPTED if outcome.interrupted else ProjectStatus.CANCELED
    if isinstance(outcome, BaseException):
        return ProjectStatus.FAILED if isinstance(outcome, Exception) else None
    from storyreel.engine.staleness import State

    fresh = all(s.state == State.FRESH and not s.attention for s in outcome.statuses.values())
    return ProjectStatus.DONE if fresh else ProjectStatus.PARTIAL


def stamped(name: str, request: Any) -> Any | None:
    """Step 0: the result a stamped verb recorded, when nothing it depended on changed (else None). Reads
    file stats only; ``force`` always falls through."""
    if name not in STAMPED or getattr(request, "force", False):
        return None
    done = uptodate.check(_workspace_root(request.workspace), request.stamp_identity())
    return RunResult.from_stamp(done) if done is not None else None


def _workspace_root(workspace: Path | None) -> Path:
    """The workspace folder without building the settings: the request's, ``STORYREEL_WORKSPACE``, or the
    per-user data folder (a stamp is only ever a shortcut: a miss runs the full evaluation)."""
    if workspace is not None:
        return workspace
    return Path(os.environ["STORYREEL_WORKSPACE"]) if os.environ.get("STORYREEL_WORKSPACE") else default_workspace()


def _verb_class(name: str) -> type[Verb]:
    module, _, attr = VERBS[name].partition(":")
    return getattr(importlib.import_module(module), attr)
