"""``edit``: the editing verbs on a made video (issue 28) — ``split``, ``merge``, ``move``, ``delete``, ``duplicate``
(:mod:`storyreel.core.edits`), ``undo``, ``redo`` and ``restore`` (:mod:`storyreel.store.history`). Each changes the
storyboard (recorded as a version), then — unless ``render`` is False — brings the video up to date like ``pick``: the
engine re-makes only the nodes of the shots the edit touched, the crossfades beside them, the assembly and QC.
An invalid edit changes nothing (exit 2, the reason named)."""

from __future__ import annotations

from pathlib import Path

from storyreel.api.requests import EditRequest
from storyreel.api.results import RunResult
from storyreel.api.editor import layout, narration_words
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core import edits
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.hashing import hash_file
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.executor import Executor
from storyreel.media.timeline import FPS, LEAD_IN_S, TAIL_S
from storyreel.store.files import PreviewPaths
from storyreel.store.history import History

NEEDS = {"split": ("shot_id", "at"), "merge": ("shot_id", "other"), "move": ("shot_id", "to"), "delete": ("shot_id",),
         "duplicate": ("shot_id",), "restore": ("version",), "trim": ("shot_id", "in_s", "out_s"), "import": ("file",)}
FLAGS = {"shot_id": "SHOT", "other": "SHOT_B", "at": "--at", "to": "--to", "version": "VERSION", "in_s": "--in", "out_s": "--out",
         "file": "FILE"}


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
        if request.op in ("undo", "redo", "restore"):
            history.baseline(project.status is ProjectStatus.DONE)
            if request.op == "restore":
                history.restore(request.version)  # type: ignore[arg-type] - checked
            else:
                history.step(-1 if request.op == "undo" else 1)
        else:
            board, what = self._apply(project, request)  # raises before anything is written
            if board is not None:  # an import that maps to no change changes nothing
                history.baseline(project.status is ProjectStatus.DONE)
                atomic_write_text(project.paths.storyboard, board.model_dump_json(indent=2) + "\n")
                history.record(what)
            self.said = what
        if request.render:
            return None
        return RunResult(project_id=project.id, status=project.status or ProjectStatus.PLANNED, storyboard_path=project.paths.storyboard,
                         video_path=None, edited=self.said or request.op)

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
        if request.op == "trim":
            timing, words = self._slot(project, shot_id)
            return edits.trim(board, shot_id, request.in_s or 0.0, request.out_s or 0.0, words, timing.narration_offset_s,
                              timing.slot / FPS, LEAD_IN_S + TAIL_S, footage=_footage(project, shot_id))
        if request.op == "import":
            return self._import(project, request.file)  # type: ignore[arg-type] - checked
        return edits.duplicate(board, shot_id)

    @staticmethod
    def _slot(project: Project, shot_id: str):  # noqa: ANN205 - (ShotTiming, words)
        """A shot's slot on the timeline as it will be made and its word timings (made, else estimated: an edit may
        follow another before the video is updated). Raises :class:`InputError` (``SHOT``) for a shot not in the storyboard."""
        board = project.storyboard()
        timeline, narrated = layout(project, board)
        timing = next((t for t in timeline.shots if t.shot_id == shot_id), None)
        if timing is None:
            raise InputError(f"no shot {shot_id!r} in the storyboard", field="SHOT", hint="see `storyreel quality PROJECT`")
        return timing, narrated[shot_id][0]

    def _import(self, project: Project, path):  # noqa: ANN001, ANN202 - (Storyboard | None, str)
        """The storyboard with what an edited OpenTimelineIO file changed: clips deleted, reordered or trimmed on its
        video track (clips are matched by their ``storyreel.shot_id`` metadata, else their name); what cannot be mapped
        is listed in the sentence, never silently dropped. ``(None, sentence)`` when nothing changed."""
        import opentimelineio as otio

        try:
            timeline = otio.adapters.read_from_file(str(path))
        except Exception as exc:  # noqa: BLE001 - the adapter's parse errors are many
            raise InputError(f"{path}: not an OpenTimelineIO file ({type(exc).__name__}: {str(exc)[:120]})", field="FILE") from None
        tracks = timeline.video_tracks()
        if not tracks:
            raise InputError(f"{path}: the timeline has no video track", field="FILE")
        ctx = project.context()
        slots = {t.shot_id: t for t in ctx.timeline.shots}
        board = project.storyboard()
        order, unmapped, trims = [], [], {}
        for item in tracks[0]:
            if not isinstance(item, otio.schema.Clip):
                if not isinstance(item, otio.schema.Gap):
                    unmapped.append(f"{type(item).__name__} {item.name!r}")
                continue
            shot_id = (item.metadata.get("storyreel") or {}).get("shot_id") or item.name
            timing = slots.get(shot_id)
            if timing is None or shot_id in order:
                unmapped.append(f"clip {item.name!r}" + (" (a second copy)" if shot_id in order else " (no such shot)"))
                continue
            order.append(shot_id)
            rate = item.source_range.start_time.rate
            start = round(item.source_range.start_time.value * FPS / rate) - timing.start
            length = round(item.source_range.duration.value * FPS / rate)
            if start != 0 or length != timing.slot:
                trims[shot_id] = (start / FPS, (start + length) / FPS)
        if not order:
            raise InputError(f"{path}: none of its clips is a shot of {project.id}", field="FILE", hint="import a timeline exported from this project")
        said = []
        for shot_id in [s for s in slots if s not in order]:
            board, what = edits.delete(board, shot_id)
            said.append(what)
        for position, shot_id in enumerate(order, start=1):
            current = [s.shot_id for _, s in board.shots()]
            if current.index(shot_id) + 1 != position:
                board, what = edits.move(board, shot_id, position)
                said.append(what)
        for shot_id, (in_s, out_s) in trims.items():
            timing = slots[shot_id]
            board, what = edits.trim(board, shot_id, max(0.0, in_s), min(out_s, timing.slot / FPS), ctx.narration(shot_id)[1],
                                     timing.narration_offset_s, timing.slot / FPS, LEAD_IN_S + TAIL_S,
                                     footage=_footage(project, shot_id, ctx))
            said.append(what)
        if unmapped:
            said.append(f"not mapped: {', '.join(unmapped)}")
        if not any(not w.startswith("not mapped") for w in said):
            return None, "; ".join(said) or "nothing changed"
        return board, f"import {Path(path).name}: " + "; ".join(said)

    @staticmethod
    def _timing(project: Project, board, shot_id: str):  # noqa: ANN001, ANN205 - (words, seconds)
        """The shot's word timings and length: its narration's when made of its words as they are, else estimated at the
        speaking rate. Raises :class:`InputError` (``SHOT``) for a shot not in ``board``."""
        words, seconds, _ = narration_words(project, board, shot_id)
        return words, seconds

    def stages(self, request: EditRequest, ctx):  # noqa: ANN001, ANN201
        """Every media stage, or with ``preview`` the preview's pipeline (:mod:`storyreel.stages.preview`)."""
        if request.preview:
            from storyreel.stages.preview import preview_stages

            return preview_stages(ctx)
        return super().stages(request, ctx)

    def settles(self, request: EditRequest) -> bool:
        return not request.preview

    def result(self, project: Project, ctx, report, status: ProjectStatus, request: EditRequest, started: float) -> RunResult:  # noqa: ANN001
        result = RunResult.of(project, report, status, started).model_copy(update={"edited": self.said or request.op})
        if request.preview:
            preview = PreviewPaths(project.paths).video
            History(project.paths).previewed(preview)
            return result.model_copy(update={"video_path": preview})
        History(project.paths).rendered()
        return result

    said: str = ""


def _footage(project: Project, shot_id: str, ctx=None) -> str | None:  # noqa: ANN001
    """The sha256 of the vendor clip shot ``shot_id`` plays, or None (a still, or a shot the vendor refused)."""
    if not project.paths.motion_clip(shot_id).is_file():
        return None
    path = (ctx or project.context()).footage(shot_id)
    return hash_file(path) if path is not None else None


def versions(project: Project) -> list[dict]:
    """The project's versions, oldest first (``storyreel versions``)."""
    return History(project.paths).versions()
