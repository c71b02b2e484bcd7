"""``plan``: validate the input, plan it (rule-based, an LLM, or the chapter-JSON importer) and write
``storyboard.json`` — unless the plan node is fresh, in which case the existing, possibly user-edited,
storyboard is kept and no planner is called. ``make`` plans the same way (:class:`Planning`) as its first
step, under the same lock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from storyreel.api.requests import InputRequest, PlanRequest
from storyreel.api.results import PlanResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project, Workspace
from storyreel.core.artifact import SourceInfo, Storyboard, format_validation_error, load_storyboard, slugify_id
from storyreel.core.chapters_json import chapters_to_storyboard, parse_chapter_document
from storyreel.core.errors import InputError
from storyreel.core.settings import Settings
from storyreel.core.source import Source, read_source
from storyreel.engine.executor import Executor
from storyreel.providers.base import PlannerRequest
from storyreel.providers.registry import resolve
from storyreel.providers.story.llm_story import writer as story_writer
from storyreel.stages.plan import PlanCtx, PlanStage
from storyreel.stages.story import STORY_STAGES, StoryCtx
from storyreel.store.ledger import hold

IMPORTER = f"import:chapters@{PlanStage.code_version}"


class Planning:
    """An input read, validated and named: the project it makes (``project``) and the plan node's context.

    A free planner plans at once (its title names the project); a paid one is only called when the plan node
    must run, and the project is then named from the input file. Raises :class:`InputError` (exit 2) when the
    input is bad — before anything is written."""

    def __init__(self, ws: Workspace, request: InputRequest) -> None:
        settings = ws.settings
        self.source = source = read_source(request.input_path, prompt=request.prompt, kind=request.kind)
        params = plan_params(source, request.project_id, request.language, request.aspect_ratio, settings)
        usage: dict = {}
        make_board: Callable[[], Storyboard] | None = None
        self.story: StoryCtx | None = None
        if source.kind == "story":  # the story steps plan it (stages/story.py), node by node
            pid = request.project_id or f"{slugify_id(' '.join(source.text.split()[:6]), fallback='story')[:40]}-{source.sha256[7:13]}"
            self.project = ws.project(pid, field="--project-id")
            self.title = pid
            self.story = StoryCtx(self.project.paths, source.text, story_writer(settings),
                                  SourceInfo(kind="story", name=source.name, sha256=source.sha256), language=request.language,
                                  aspect_ratio=request.aspect_ratio, ledger=self.project.ledger,
                                  scene_options=settings.story_scene_options)
            return
        if source.kind == "chapters":
            board: Storyboard | None = _valid(lambda: _imported(source, request), source)
            pid, provider, title = board.project_id, IMPORTER, board.settings.title
        else:
            planner = resolve("planner", settings.planner, settings)
            provider = f"{planner.provider_id}@{planner.code_version}"
            planning = PlannerRequest(
                kind=source.kind, text=source.text, name=source.name, sha256=source.sha256, project_id=request.project_id,
                language=request.language, aspect_ratio=request.aspect_ratio, words_per_minute=settings.speech_rate_wpm,
            )
            if not planner.paid:  # free and instant: plan now, the title names the project
                board = _valid(lambda: planner.plan(planning), source)
                pid, title = board.project_id, board.settings.title
            else:  # paid: name the project from the input, call the model only if the plan node must run
                pid = request.project_id or slugify_id(Path(source.name).stem if source.kind == "script" else f"prompt-{source.sha256[7:13]}")
                board, title = None, pid

                def make_board() -> Storyboard:
                    return _valid(lambda: _paid_plan(planner, planning.model_copy(update={"project_id": pid}), self.project, usage), source)
        pid = _unique_id(pid, source, ws, explicit=request.project_id is not None)
        if board is not None and board.project_id != pid:
            board = board.model_copy(update={"project_id": pid})
        self.project = ws.project(pid, field="--project-id")
        self.title = title
        params["project_id"] = pid
        origin = str(request.input_path.resolve()) if request.input_path else None
        self.ctx = PlanCtx(make_board or (lambda: board), params, self.project.paths, provider, usage, origin)

    def evaluate(self, executor: Executor, *, force: bool) -> Storyboard:
        """Record the project and evaluate its plan node (the caller holds the project's lock); the storyboard
        as it now is on disk."""
        project = self.project
        project.record(title=self.title, input_kind=self.source.kind, input_name=self.source.name)
        if self.story is not None:
            self.story.save_request()
            executor.evaluate(list(STORY_STAGES), self.story, execute=True, force=force)
        else:
            executor.evaluate([PlanStage()], self.ctx, execute=True, force=force)
        planned = load_storyboard(project.paths.storyboard)
        if planned.settings.title != self.title:
            project.record(title=planned.settings.title)
        return planned


class Plan(Verb[PlanRequest, PlanResult]):
    """``storyreel plan``: the storyboard only."""

    name = "plan"

    def open(self, ws: Workspace, request: PlanRequest) -> Project:
        self.planning = Planning(ws, request)
        return self.planning.project

    def prepare(self, project: Project, request: PlanRequest, executor: Executor) -> PlanResult:
        board = self.planning.evaluate(executor, force=request.force)
        return PlanResult(project_id=project.id, storyboard=board, storyboard_path=project.paths.storyboard)


def plan_params(source: Source, project_id: str | None, language: str | None, aspect_ratio: str | None, settings: Settings) -> dict:
    """The plan node's parameters: the input's hash and kind and every override that changes the plan."""
    return {"source": source.sha256, "kind": source.kind, "project_id": project_id, "language": language,
            "aspect_ratio": aspect_ratio, "wpm": settings.speech_rate_wpm}


def planner_identity(kind: str, settings: Settings) -> str:
    """The plan node's provider string for an input ``kind`` under ``settings`` (without calling anything)."""
    if kind == "chapters":
        return IMPORTER
    planner = resolve("planner", settings.planner, settings)
    return f"{planner.provider_id}@{planner.code_version}"


def _paid_plan(planner, planning: PlannerRequest, project: Project, usage: dict) -> Storyboard:  # noqa: ANN001
    """Reserve the call's estimate in the project's ledger, plan, commit the actual cost (release on failure)."""
    with hold(project.ledger, "plan[project]", planner.provider_id, lambda: planner.estimate(planning), paid=True) as held:
        planned = planner.plan(planning)
        usage.update(planner.last_usage or {})
        held.commit(usage.get("cost_usd", 0.0))
    return planned


def _valid(build: Callable[[], Storyboard], source: Source) -> Storyboard:
    """``build()``, with a storyboard the input cannot make (a field over its limit) reported as bad
    input naming the fields, never as a traceback."""
    try:
        return build()
    except ValidationError as exc:
        raise InputError("the input cannot be made into a valid storyboard:\n" + format_validation_error(exc), field=source.name,
                         hint="shorten the text named above (see the limits in `storyreel schema`)") from None


def _imported(source: Source, request: InputRequest) -> Storyboard:
    """Chapter JSON → storyboard (no planner involved)."""
    doc = parse_chapter_document(source.data or {}, source.name)
    info = SourceInfo(kind="chapters", name=source.name, sha256=source.sha256)
    board = chapters_to_storyboard(doc, info, request.project_id)
    updates = {k: v for k, v in {"language": request.language, "aspect_ratio": request.aspect_ratio}.items() if v}
    if updates:
        board = board.model_copy(update={"settings": board.settings.model_copy(update=updates)})
    return Storyboard.model_validate_json(board.model_dump_json())


def _unique_id(candidate: str, source: Source, ws: Workspace, explicit: bool) -> str:
    """Keep ``candidate`` unless another input already owns that project folder (then add a hash suffix)."""
    if explicit:
        return candidate
    paths = ws.project(candidate).paths
    if paths.storyboard.exists():
        try:
            existing = load_storyboard(paths.storyboard)
        except InputError:
            return candidate
        if existing.source.name != source.name:
            return f"{candidate[:57]}-{source.sha256.split(':')[1][:6]}"
    return candidate
