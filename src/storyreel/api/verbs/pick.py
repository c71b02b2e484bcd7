"""``pick``: a person chooses a shot's candidate image; the choice is stored in the storyboard
(``visual.selected_candidate``), always wins over the ranking, survives re-runs, and the video is brought
up to date — only that shot's selection, clip, its crossfades, the assembly and QC run again (and nothing
when the picked candidate is the one already in the video: early cutoff)."""

from __future__ import annotations

import json

from storyreel.api.requests import PickRequest
from storyreel.api.results import RunResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core.artifact import Storyboard
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_file
from storyreel.core.vocabulary import ProjectStatus
from storyreel.core.story import PICKABLE
from storyreel.engine.executor import Executor
from storyreel.providers.story.llm_story import writer as story_writer
from storyreel.stages.story import STORY_STAGES, StoryCtx
from storyreel.store.files import ProjectPaths
from storyreel.store.history import History


class Pick(Verb[PickRequest, RunResult]):
    """``storyreel pick PROJECT SHOT N``: record candidate ``N`` (None: automatic again) as the shot's image
    and, with ``render``, update the video. Raises :class:`InputError` (exit 2) naming ``shot_id`` or
    ``candidate`` when the shot or a made candidate of that number does not exist."""

    name = "pick"

    def check(self, project: Project, request: PickRequest) -> None:
        if request.shot_id in PICKABLE:  # a story step's option (issue 27): lore, narrative, scenes
            StoryCtx.load(project.paths, story_writer(project.ws.settings), scene_options=project.ws.settings.story_scene_options).check_option(request.shot_id, request.candidate)
            return
        board = project.storyboard()
        try:
            board.shot(request.shot_id)
        except KeyError:
            raise InputError(f"no shot {request.shot_id!r} in {board.project_id}", field="shot_id",
                             hint="see `storyreel quality PROJECT` for the shot IDs") from None
        if request.candidate is not None:
            (_check_clip if request.clip else _check_candidate)(project.paths, request.shot_id, request.candidate)

    def prepare(self, project: Project, request: PickRequest, executor: Executor) -> RunResult | None:
        if request.shot_id in PICKABLE:
            story = StoryCtx.load(project.paths, story_writer(project.ws.settings), scene_options=project.ws.settings.story_scene_options)
            story.ledger = project.ledger
            story.pick(request.shot_id, request.candidate)
            if request.render:  # the steps that depend on the pick, then (step 7) what depends on the new storyboard
                executor.evaluate(list(STORY_STAGES), story, execute=True)
                return None
            return RunResult(project_id=project.id, status=project.status or ProjectStatus.PLANNED,
                             storyboard_path=project.paths.storyboard, video_path=None)
        history = History(project.paths)
        history.baseline(project.status is ProjectStatus.DONE)
        _record(project.storyboard(), project.paths, request.shot_id, request.candidate,
                field="selected_clip" if request.clip else "selected_candidate")
        what = "clip" if request.clip else "image"
        history.record(f"picked {what} {request.candidate} for {request.shot_id}" if request.candidate is not None
                       else f"the best-scored {what} again for {request.shot_id}")
        if request.render:
            return None
        return RunResult(project_id=project.id, status=project.status or ProjectStatus.PLANNED, storyboard_path=project.paths.storyboard,
                         video_path=None)


    def result(self, project: Project, ctx, report, status: ProjectStatus, request: PickRequest, started: float) -> RunResult:  # noqa: ANN001
        runs = project.store.for_invocation(report.invocation)  # a story pick's steps run before the media stages
        History(project.paths).rendered()
        return RunResult.of(project, report, status, started, runs=runs)


def _record(board: Storyboard, paths: ProjectPaths, shot_id: str, candidate: int | None, *, field: str = "selected_candidate") -> None:
    """Store the pick (``visual.<field>``) in the storyboard (written atomically, only when it changed)."""
    data = board.model_dump(mode="json")
    shot = next(s for ch in data["chapters"] for s in ch["shots"] if s["shot_id"] == shot_id)
    pin = shot["visual"].get("clip_pin")
    if field == "selected_clip" and pin and candidate is not None:  # a trimmed shot keeps its cut on the clip picked now
        shot["visual"]["clip_pin"] = hash_file(paths.motion_attempt(shot_id, candidate))
    elif shot["visual"].get(field) == candidate:
        return
    shot["visual"][field] = candidate
    atomic_write_text(paths.storyboard, Storyboard.model_validate(data).model_dump_json(indent=2) + "\n")


def _check_clip(paths: ProjectPaths, shot_id: str, attempt: int) -> None:
    """A clip pick must name an attempt the vendor made (``clips/<shot>.motion.json``)."""
    try:
        record = json.loads(paths.motion_meta(shot_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    made = sorted(a["attempt"] for a in record.get("attempts", []) if paths.motion_attempt(shot_id, a["attempt"]).exists())
    if attempt not in made:
        listing = ", ".join(map(str, made)) or "none (make the video with --clips VENDOR:MODEL first)"
        raise InputError(f"shot {shot_id} has no clip attempt {attempt}; its attempts: {listing}", field="candidate")


def _check_candidate(paths: ProjectPaths, shot_id: str, candidate: int) -> None:
    """A pick must name a candidate that exists and was made (not a failed one)."""
    made = []
    for meta in sorted(paths.candidates(shot_id).glob("*.meta.json")):
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
        except ValueError:
            continue
        index = entry.get("candidate")
        if isinstance(index, int) and entry.get("file_path") and paths.candidate(shot_id, index).exists():
            made.append(index)
    if candidate not in made:
        listing = ", ".join(map(str, sorted(made))) or "none yet (run make or imagegen first)"
        raise InputError(f"shot {shot_id} has no candidate {candidate}; its candidates: {listing}", field="candidate")
