"""``pick``: a person chooses a shot's candidate image; the choice is stored in the storyboard
(``visual.selected_candidate``), always wins over the ranking, survives re-runs, and the video is brought
up to date — only that shot's selection, clip, its crossfades, the assembly and QC run again (and nothing
when the picked candidate is the one already in the video: early cutoff)."""

from __future__ import annotations

import json
import time

from storyreel.api.project import context, load_project, open_store, preflight, settings_for, writing
from storyreel.api.requests import PickRequest
from storyreel.api.results import RunResult
from storyreel.core.artifact import Storyboard
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import CostLimitReached, InputError
from storyreel.engine.executor import Executor, ProgressFn
from storyreel.stages.manifest import write_manifest
from storyreel.stages.pipeline import MEDIA_STAGES
from storyreel.store.files import ProjectPaths


def pick(request: PickRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> RunResult:
    """Record ``candidate`` (None: automatic again) as the shot's image and, with ``render``, update the
    video. Raises :class:`InputError` (exit 2) naming ``PROJECT``, ``SHOT`` or ``CANDIDATE`` when the project,
    the shot or a usable candidate of that number does not exist; :class:`StageError` /
    :class:`CostLimitReached` as ``make`` does."""
    t0 = time.perf_counter()
    request = request or PickRequest.build(**fields)
    settings = settings_for(request.workspace)
    paths = ProjectPaths(settings.workspace, request.project)
    with writing(paths, settings, wait=request.wait, verb="pick"):
        board = load_project(request.project, settings)
        board = _record(board, paths, request.shot_id, request.candidate)
        if not request.render:
            return RunResult(project_id=board.project_id, status="picked", storyboard_path=paths.storyboard, video_path=None,
                             duration_s=time.perf_counter() - t0)
        store = open_store(settings)
        ctx = context(board, settings, store)
        preflight(ctx)
        executor = Executor(store, board.project_id, paths.root, progress)
        try:
            report = executor.evaluate(MEDIA_STAGES, ctx, execute=True)
        except CostLimitReached:
            store.upsert_project(board.project_id, status="cost_limit")
            write_manifest(ctx)
            raise
        attention = {s.node.name: s.attention for s in report.statuses.values() if s.attention}
        status_word = "partial" if attention else "done"
        store.upsert_project(board.project_id, status=status_word, video_path=str(paths.video))
        return RunResult(project_id=board.project_id, status=status_word, attention=attention, storyboard_path=paths.storyboard,
                         video_path=paths.video, executed=[n.name for n in report.executed], invocation=report.invocation,
                         duration_s=time.perf_counter() - t0)


def _record(board: Storyboard, paths: ProjectPaths, shot_id: str, candidate: int | None) -> Storyboard:
    """The storyboard with the pick stored (written atomically when it changed)."""
    try:
        board.shot(shot_id)
    except KeyError:
        raise InputError(f"no shot {shot_id!r} in {board.project_id}", field="shot_id", hint="see `storyreel quality PROJECT` for the shot IDs") from None
    if candidate is not None:
        _check_candidate(paths, shot_id, candidate)
    data = board.model_dump(mode="json")
    shot = next(s for ch in data["chapters"] for s in ch["shots"] if s["shot_id"] == shot_id)
    if shot["visual"].get("selected_candidate") == candidate:
        return board
    shot["visual"]["selected_candidate"] = candidate
    edited = Storyboard.model_validate(data)
    atomic_write_text(paths.storyboard, edited.model_dump_json(indent=2) + "\n")
    return edited


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
