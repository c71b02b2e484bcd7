"""What the dashboard's video editor reads (issue 28 items 2 and 4): the timeline of the current version — shots in
order with their place and length in seconds, from the made narration or, for words not spoken yet, estimated at the
speaking rate — the versions with what each is, whether the preview and the exported video show the current version,
and two versions compared (their videos, kept by the build cache, and the shots that differ).

The edits themselves are the ``edit`` verb (:mod:`storyreel.api.verbs.edit`); this module only reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from storyreel.api.session import Project
from storyreel.core import edits
from storyreel.core.artifact import Storyboard
from storyreel.core.errors import InputError
from storyreel.core.hashing import FileHashes
from storyreel.core.words import WordTiming
from storyreel.media.timeline import FPS, Timeline, build_timeline
from storyreel.store.files import PreviewPaths
from storyreel.store.history import History
from storyreel.store.objects import ObjectStore


def narration_words(project: Project, board: Storyboard, shot_id: str) -> tuple[list[WordTiming], float, bool]:
    """``(word timings, seconds, made)`` of a shot's narration: the made narration's when its words are the shot's words
    as they are now (each word at its recorded character offsets, the first and the last words the text's), else estimated at the speaking rate (``made`` False).
    Raises :class:`InputError` (``SHOT``) for a shot not in ``board``."""
    try:
        _, shot = board.shot(shot_id)
    except KeyError:
        raise InputError(f"no shot {shot_id!r} in the storyboard", field="SHOT", hint="see `storyreel quality PROJECT`") from None
    sidecar = project.paths.narration_timing(shot_id)
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        words = [WordTiming(**w) for w in data["words"]]
        text = shot.narration
        if words and all(text[w.char_start:w.char_end] == w.word for w in words) \
                and not any(c.isalnum() for c in text[:words[0].char_start] + text[words[-1].char_end:]):
            return words, float(data["duration_s"]), True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    words, seconds = edits.estimated_words(shot, project.ws.settings.speech_rate_wpm)
    return words, seconds, False


def layout(project: Project, board: Storyboard) -> tuple[Timeline, dict[str, tuple[list[WordTiming], float, bool]]]:
    """The timeline of ``board`` as it will be made — each shot's narration as made, else estimated
    (:func:`narration_words`) — and those ``(words, seconds, made)`` per shot ID."""
    narrated = {shot.shot_id: narration_words(project, board, shot.shot_id) for _, shot in board.shots()}
    return build_timeline(board, {sid: seconds for sid, (_, seconds, _) in narrated.items()}), narrated


def _hashes(project: Project) -> FileHashes:
    return FileHashes(project.paths.root / ".file-hashes.json")  # read through, never saved here (the engine owns it)


def _digest(hashes: FileHashes, path: Path) -> str | None:
    try:
        return hashes.hash(path) if path.is_file() else None
    except OSError:
        return None


def timeline(project: Project) -> dict:
    """The editor's model of the current version::

        {"project_id", "title", "fps", "duration_s", "aspect_ratio",
         "shots": [{"shot_id", "chapter_id", "position", "start_s", "duration_s", "narration_offset_s", "narration",
                    "words": [{"word", "start_s", "end_s"}], "spoken": bool, "has_image": bool}],
         "version", "versions": [{"version", "what", "at", "current", "exported", "previewed"}], "can_undo", "can_redo",
         "preview": {"exists", "current"}, "video": {"exists", "current"}}

    Times are seconds on the video; ``spoken`` False means the shot's words are not narrated yet (its length is an
    estimate until the preview is updated). ``current`` says a file shows the current version."""
    board = project.storyboard()
    chapters = {shot.shot_id: chapter.chapter_id for chapter, shot in board.shots()}
    tl, narrated = layout(project, board)
    history = History(project.paths)
    versions = history.versions()
    current = next((v for v in versions if v["current"]), None)
    hashes = _hashes(project)
    video, preview = _digest(hashes, project.paths.video), _digest(hashes, PreviewPaths(project.paths).video)
    listed = [{"version": v["version"], "what": v["what"], "at": v["at"], "current": v["current"],
               "exported": bool(v.get("video")), "previewed": bool(v.get("preview"))} for v in versions]
    shots = []
    for timing in tl.shots:
        _, shot = board.shot(timing.shot_id)
        words, _, spoken = narrated[timing.shot_id]
        shots.append({
            "shot_id": timing.shot_id, "chapter_id": chapters[timing.shot_id], "position": timing.index + 1,
            "start_s": round(timing.start / FPS, 3), "duration_s": round(timing.slot / FPS, 3),
            "narration_offset_s": round(timing.narration_offset_s, 3), "narration": shot.narration,
            "words": [{"word": w.word, "start_s": w.start_s, "end_s": w.end_s} for w in words], "spoken": spoken,
            "has_image": project.paths.image(timing.shot_id).is_file(),
        })
    fresh_video = current is None and video is not None or current is not None and video is not None and current.get("video") == video
    return {
        "project_id": project.id, "title": board.settings.title, "fps": FPS, "duration_s": round(tl.total_frames / FPS, 3),
        "aspect_ratio": board.settings.aspect_ratio, "shots": shots,
        "version": current["version"] if current else 1, "versions": listed,
        "can_undo": bool(current) and current["version"] > 1,
        "can_redo": bool(current) and any(v["version"] > current["version"] for v in versions),
        "preview": {"exists": preview is not None, "current": preview is not None and current is not None and current.get("preview") == preview},
        "video": {"exists": video is not None, "current": bool(fresh_video)},
    }


def preview_file(project: Project, name: str) -> Path:
    """A file of the preview: ``video.mp4``, ``video.vtt``, ``thumbnail.jpg``."""
    paths = PreviewPaths(project.paths)
    return paths.video if name == "video.mp4" else paths.deliverable(name)


def version_video(project: Project, version: int) -> tuple[Path, str] | None:
    """Version ``version``'s video as the build cache keeps it (the file it was, byte for byte) and which it is —
    ``"exported"`` (full size), else ``"preview"`` (540p) — or None when neither was made or the cache no longer holds it."""
    found = next((v for v in History(project.paths).versions() if v["version"] == version), None)
    if found is None:
        return None
    store = ObjectStore(project.paths.objects, _hashes(project))
    for kind, digest in (("exported", found.get("video")), ("preview", found.get("preview"))):
        if digest and (store.path(digest).is_file() or (project.sync is not None and project.sync.fetch(digest))):
            return store.path(digest), kind  # with shared storage, another machine's version is fetched by its digest
    return None


FIELDS = {"narration": "words", "visual": "picture", "overlays": "text on screen", "camera_move": "camera move",
          "transition": "transition", "min_duration_s": "length"}
"""Shot fields a comparison names, in the words the dashboard uses."""


def compare(project: Project, a: int, b: int) -> dict:
    """Versions ``a`` and ``b`` side by side::

        {"a": {"version", "what", "at", "video": "exported" | "preview" | None}, "b": {…},
         "changes": [{"shot_id", "what": [str]}], "same": bool}

    ``changes`` lists, in ``b``'s order, each shot added, removed, moved (its place among the shots both keep) or changed
    (which of its words, picture, text on screen, camera move, transition, length). Raises :class:`InputError`
    (``VERSION``) for a version not recorded."""
    history = History(project.paths)
    listed = {v["version"]: v for v in history.versions()}
    boards = {}
    for n in (a, b):
        if n not in listed:
            raise InputError(f"no version {n}; the versions: {', '.join(map(str, listed)) or 'none yet'}", field="VERSION")
        boards[n] = Storyboard.model_validate_json(history.storyboard_of(n).read_text(encoding="utf-8"))
    old = {shot.shot_id: shot for _, shot in boards[a].shots()}
    new = {shot.shot_id: shot for _, shot in boards[b].shots()}
    kept_old = [s for s in old if s in new]
    kept_new = [s for s in new if s in old]
    changes = []
    for shot_id, shot in new.items():
        if shot_id not in old:
            changes.append({"shot_id": shot_id, "what": ["added"]})
            continue
        what = [words for name, words in FIELDS.items()
                if getattr(shot, name) != getattr(old[shot_id], name)]
        if kept_old.index(shot_id) != kept_new.index(shot_id) and _moved(shot_id, kept_old, kept_new):
            what.insert(0, f"moved from {kept_old.index(shot_id) + 1} to {kept_new.index(shot_id) + 1}")
        if what:
            changes.append({"shot_id": shot_id, "what": what})
    changes += [{"shot_id": s, "what": ["removed"]} for s in old if s not in new]

    def side(n: int) -> dict:
        v = listed[n]
        kept = version_video(project, n)
        return {"version": n, "what": v["what"], "at": v["at"], "video": kept[1] if kept else None}

    return {"a": side(a), "b": side(b), "changes": changes, "same": not changes}


def _moved(shot_id: str, before: list[str], after: list[str]) -> bool:
    """Whether ``shot_id`` itself moved, not merely shifted by another's move: its neighbours among the kept shots differ."""
    i, j = before.index(shot_id), after.index(shot_id)
    prev_before, prev_after = before[i - 1] if i else None, after[j - 1] if j else None
    next_before = before[i + 1] if i + 1 < len(before) else None
    next_after = after[j + 1] if j + 1 < len(after) else None
    return prev_before != prev_after and next_before != next_after
