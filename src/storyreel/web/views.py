"""What the dashboard shows of a project, as plain dicts for templates and the JSON API: chapters → shots
with their image sidecar (provider, model, method, cost, failure reason), the nodes that are not fresh and
why, the QC report and the cost breakdown. Reads files and the database through :mod:`storyreel.api`."""

from __future__ import annotations

import json
import os
import threading
import time
from functools import lru_cache
from pathlib import Path

from storyreel import api
from storyreel.api import library
from storyreel.core.artifact import Storyboard, load_storyboard
from storyreel.engine.staleness import Cause, State
from storyreel.store.files import ProjectPaths


def _by_version(path: Path, parse):  # noqa: ANN001, ANN202
    """``parse(path, mtime_ns, size)`` — an LRU-cached parser keyed on the file's stat — or None when the
    file is missing: each version of a file is parsed once."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return parse(str(path), st.st_mtime_ns, st.st_size)


def read_json(path: Path) -> dict | None:
    """The JSON file's content (None if missing or unreadable), parsed once per version of the file."""
    return _by_version(path, _parsed)


@lru_cache(maxsize=4096)
def _parsed(path: str, mtime_ns: int, size: int) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _storyboard(path: Path) -> Storyboard | None:
    """The validated storyboard, parsed once per version of the file."""
    return _by_version(path, _board)


@lru_cache(maxsize=256)
def _board(path: str, mtime_ns: int, size: int) -> Storyboard:
    return load_storyboard(Path(path))


def shots(board: Storyboard, paths: ProjectPaths, wpm: int) -> list[dict]:
    """Chapters with their shots: narration, visual type, camera move, duration (measured narration when
    made, else estimated at ``wpm``), image prompt and the image's sidecar."""
    chapters = []
    for chapter in board.chapters:
        rows = []
        for shot in chapter.shots:
            timing = read_json(paths.narration_timing(shot.shot_id)) or {}
            words = len(shot.narration.split())
            meta = read_json(paths.image_meta(shot.shot_id)) or {}
            record = read_json(paths.scores(shot.shot_id)) or {}
            rows.append({
                "shot_id": shot.shot_id, "narration": shot.narration, "visual_type": shot.visual.type,
                "description": shot.visual.description, "image_prompt": shot.visual.image_prompt,
                "camera_move": shot.camera_move,
                "duration_s": round(timing.get("duration_s") or words * 60.0 / wpm, 1), "duration_measured": bool(timing),
                "has_image": paths.image(shot.shot_id).exists(),
                "image": {k: meta.get(k) for k in ("generation_method", "provider", "status", "error", "cost_usd", "prompt", "size")}
                if meta else None,
                "candidates": [_candidate(c) for c in record.get("candidates", [])] if len(record.get("candidates", [])) > 1 else [],
                "selected": record.get("selected"), "picked_by": record.get("picked_by"),
            })
        chapters.append({"chapter_id": chapter.chapter_id, "title": chapter.title, "shots": rows})
    return chapters


def _candidate(c: dict) -> dict:
    """One candidate for the shot's grid: index, whether its file exists, total, rank and flat sub-scores."""
    flat = {f"{kind} {name.replace('_', ' ')}": v for kind, scores in (c.get("scores") or {}).items() for name, v in scores.items()
            if name != "total" and isinstance(v, (int, float)) and not isinstance(v, bool)}
    judge = (c.get("scores") or {}).get("judge") or {}
    return {"index": c["index"], "made": bool(c.get("path")), "total": c.get("total"), "rank": c.get("rank"), "scores": flat,
            "reason": judge.get("reason"), "status": c.get("status")}


WHY = {
    Cause.CODE: "storyreel's code for this stage changed", Cause.PARAMS: "its text or settings changed",
    Cause.TEMPLATE: "the prompt template changed", Cause.PROVIDER: "the provider or model changed",
    Cause.DATA: "made from changed {nodes}", Cause.DEPENDENCY: "waits for {nodes}",
    Cause.OUTPUT: "its file is missing or was changed on disk", Cause.FAILED: "the last attempt failed",
}
"""The engine's stale causes in words (the page shows these; the API also gives the compact form)."""


STALE_TTL_S = 5.0
"""How long the stale-node list of an unchanged project is reused (the full evaluation costs ≈ 25 ms)."""
_stale_cache: dict[str, tuple[float, tuple, list[dict]]] = {}
_stale_locks: dict[str, threading.Lock] = {}


def stale_nodes(project_id: str, workspace: Path) -> list[dict]:
    """Every node that is not fresh: ``causes`` in ``storyreel status``'s compact form, ``why`` in words.

    Reused for :data:`STALE_TTL_S` while the storyboard, the options and the project's newest run record
    are the same (many viewers of one project cost one evaluation); an edit or a finished node changes the
    key, so the answer after an edit is always fresh."""
    paths = ProjectPaths(workspace, project_id)

    def stamp(path: Path) -> tuple:
        try:
            st = os.stat(path)
            return st.st_mtime_ns, st.st_size
        except OSError:
            return ()

    key = (stamp(paths.storyboard), stamp(paths.options), library.run_version(project_id, workspace=workspace))
    lock = _stale_locks.setdefault(project_id, threading.Lock())
    with lock:  # one evaluation per project at a time; the others wait for it and reuse it
        hit = _stale_cache.get(project_id)
        if hit is not None and hit[0] > time.monotonic() and hit[1] == key:
            return hit[2]
        nodes = _evaluate_stale(project_id, workspace)
        _stale_cache[project_id] = (time.monotonic() + STALE_TTL_S, key, nodes)
        return nodes


def _evaluate_stale(project_id: str, workspace: Path) -> list[dict]:
    out = []
    for st in api.status(project=project_id, workspace=workspace):
        if st.state == State.FRESH and not st.attention:
            continue
        why = [WHY[c.category].format(nodes=", ".join(c.nodes)) for c in st.causes]
        if not st.causes:
            why = ["not made yet" if st.state == State.MISSING else "needs attention"]
        out.append({"node": st.node.name, "stage": st.node.stage, "unit": st.node.unit, "state": st.state.value,
                    "causes": [str(c) for c in st.causes], "why": why, "attention": st.attention})
    return out


def qc_report(paths: ProjectPaths) -> dict | None:
    return read_json(paths.qc_report)


def project_page(project_id: str, user_id: int, workspace: Path, *, with_cost: bool = True) -> dict:
    """Everything the project page and ``GET /api/projects/{id}`` show (the page loads the cost and QC
    panels on their own: ``with_cost=False`` leaves out the ledger summary). Raises
    :class:`~storyreel.api.library.NotFound` for another user's project."""
    from storyreel.api.project import project_settings, settings_for

    settings = settings_for(workspace)
    row, recent = library.overview(project_id, user_id, workspace=workspace)
    paths = ProjectPaths(settings.workspace, project_id)
    board = _storyboard(paths.storyboard)
    cost = library.cost_summary(project_id, workspace=workspace) if with_cost else None
    return {
        "project": row,
        "storyboard": {"title": board.settings.title, "language": board.settings.language,
                       "aspect_ratio": board.settings.aspect_ratio, "chapters": shots(board, paths, settings.speech_rate_wpm)}
        if board else None,
        "job": recent[0].as_dict() if recent else None,
        "jobs": [j.as_dict() for j in recent],
        "has_video": paths.video.exists(), "has_subtitles": paths.root.joinpath("video.vtt").exists(),
        "qc": qc_report(paths), "cost": cost, "cap_usd": project_settings(settings, project_id).max_cost_usd,
    }
