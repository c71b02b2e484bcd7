"""``edit``: the editing verbs on a made video (issue 28) — ``split``, ``merge``, ``move``, ``delete``, ``duplicate``
(:mod:`storyreel.core.edits`), ``undo``, ``redo`` and ``restore`` (:mod:`storyreel.store.history`). Each changes the
storyboard (recorded as a version), then — unless ``render`` is False — brings the video up to date like ``pick``: the
engine re-makes only the nodes of the shots the edit touched, the crossfades beside them, the assembly and QC.
An invalid edit changes nothing (exit 2, the reason named)."""

from __future__ import annotations

from storyreel.api.requests import EditRequest
from storyreel.api.results import RunResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core import edits
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.executor import Executor
from storyreel.store.history import History

NEEDS = {"split": ("shot_id", "at"), "merge": ("shot_id", "other"), "move": ("shot_id", "to"), "delete": ("shot_id",),
         "duplicate": ("shot_id",), "restore": ("version",)}
FLAGS = {"shot_id": "SHOT", "other": "SHOT_B", "at": "--at", "to": "--to", "version": "VERSION"}


class Edit(Verb[EditRequest, RunResult]):
    """``storyreel edit PROJECT OP …`` / ``undo`` / ``redo`` / ``restore``. Raises :class:`InputError` (exit 2) naming the
    argument for an edit that cannot be made; nothing is written then."""

    name = "edit"

    def check(self, project: Project, request: EditRequest) -> None:
        for name in NEEDS.get(request.op, ()):
            if getattr(request, name) is None:
                raise InputError(f"{request.op} needs {FLAGS[name]}", field=FLAGS[name])
        if not project.paths.storyboard.exists():
            raise InputError(f"{project.id} has no storyboard yet", field="PROJECT", hint="make the video first")

    def prepare(self, project: Project, request: EditRequest, executor: Executor) -> RunResult | None:
        history = History(project.paths)
        history.record("as made")  # the storyboard before the first edit is a version (version 1 the first time)
        if request.op in ("undo", "redo"):
            history.step(-1 if request.op == "undo" else 1)
        elif request.op == "restore":
            history.restore(request.version)  # type: ignore[arg-type] - checked
        else:
            board, what = self._apply(project, request)
            atomic_write_text(project.paths.storyboard, board.model_dump_json(indent=2) + "\n")
            history.record(what)
        if request.render:
            return None
        return RunResult(project_id=project.id, status=project.status or ProjectStatus.PLANNED, storyboard_path=project.paths.storyboard,
                         video_path=None)

    def _apply(self, project: Project, request: EditRequest):  # noqa: ANN202 - (Storyboard, str)
        board = project.storyboard()
        shot_id = request.shot_id or ""
        if request.op == "split":
            words, duration = self._timing(project, board, shot_id)
            return edits.split(board, shot_id, request.at or 0.0, words, duration)
        if request.op == "merge":
            return edits.merge(board, shot_id, request.other or "", {})
        if request.op == "move":
            return edits.move(board, shot_id, request.to or 0)
        if request.op == "delete":
            return edits.delete(board, shot_id)
        return edits.duplicate(board, shot_id)

    @staticmethod
    def _timing(project: Project, board, shot_id: str):  # noqa: ANN001, ANN205 - (words, seconds)
        """The shot's word timings and length: its narration's when made, else estimated at the speaking rate."""
        import json

        from storyreel.core.words import WordTiming

        try:
            _, shot = board.shot(shot_id)
        except KeyError:
            raise InputError(f"no shot {shot_id!r} in the storyboard", field="SHOT", hint="see `storyreel quality PROJECT`") from None
        sidecar = project.paths.narration_timing(shot_id)
        if sidecar.is_file():
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            if data.get("text", shot.narration) == shot.narration or "text" not in data:
                return [WordTiming(**w) for w in data["words"]], float(data["duration_s"])
        return edits.estimated_words(shot, project.ws.settings.speech_rate_wpm)

    def result(self, project: Project, ctx, report, status: ProjectStatus, request: EditRequest, started: float) -> RunResult:  # noqa: ANN001
        History(project.paths).rendered()
        return RunResult.of(project, report, status, started)


def versions(project: Project) -> list[dict]:
    """The project's versions, oldest first (``storyreel versions``)."""
    return History(project.paths).versions()
