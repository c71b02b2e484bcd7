"""What a person reviews of a project, read from its folder as plain dicts for the dashboard: chapters → shots
with their image sidecars (provider, method, cost, failure reason), each shot's candidate grid with its
scores flattened to one level, the quality summary of every score, the QC report, and whether it has a
picture to show yet.

Files are parsed once per version (keyed on their size and mtime), so many viewers of one project cost one
parse of each file; an edit changes the stat, so what a page shows after an edit is always read again."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from statistics import median
from typing import Any

from storyreel.core.artifact import Storyboard, load_storyboard
from storyreel.store.files import ProjectPaths


def _by_version(path: Path, parse: Any) -> Any:
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


def storyboard(paths: ProjectPaths) -> Storyboard | None:
    """The validated storyboard (None before it is planned), parsed once per version of the file."""
    return _by_version(paths.storyboard, _board)


@lru_cache(maxsize=256)
def _board(path: str, mtime_ns: int, size: int) -> Storyboard:
    return load_storyboard(Path(path))


def shots(board: Storyboard, paths: ProjectPaths, wpm: int) -> list[dict]:
    """Chapters with their shots: the shot's number in the video (from 1), narration, visual type, camera move, duration in seconds (the measured
    narration when made, else estimated at ``wpm`` words per minute), image prompt, the image's sidecar and,
    for a shot with more than one candidate, the candidate grid (:func:`candidate`)."""
    chapters, number = [], 0
    for chapter in board.chapters:
        rows = []
        for shot in chapter.shots:
            number += 1
            timing = read_json(paths.narration_timing(shot.shot_id)) or {}
            words = len(shot.narration.split())
            meta = read_json(paths.image_meta(shot.shot_id)) or {}
            record = read_json(paths.scores(shot.shot_id)) or {}
            made = record.get("candidates", [])
            rows.append({
                "shot_id": shot.shot_id, "number": number, "narration": shot.narration, "visual_type": shot.visual.type,
                "description": shot.visual.description, "image_prompt": shot.visual.image_prompt,
                "camera_move": shot.camera_move,
                "duration_s": round(timing.get("duration_s") or words * 60.0 / wpm, 1), "duration_measured": bool(timing),
                "has_image": paths.image(shot.shot_id).exists(),
                "image": {k: meta.get(k) for k in ("generation_method", "provider", "status", "error", "cost_usd", "prompt", "size")}
                if meta else None,
                "candidates": [candidate(c) for c in made] if len(made) > 1 else [],
                "selected": record.get("selected"), "picked_by": record.get("picked_by"),
                "clip": motion(paths, shot.shot_id),
            })
        chapters.append({"chapter_id": chapter.chapter_id, "title": chapter.title, "shots": rows})
    return chapters


def candidate(entry: dict) -> dict:
    """One candidate of the select stage's record (``images/<shot>/scores.json``) for a shot's grid: index,
    whether its file exists, total, rank, the judge's reason and every sub-score as ``"<scorer> <criterion>"``."""
    flat = {f"{kind} {name.replace('_', ' ')}": v for kind, scores in (entry.get("scores") or {}).items() for name, v in scores.items()
            if name != "total" and isinstance(v, (int, float)) and not isinstance(v, bool)}
    judge = (entry.get("scores") or {}).get("judge") or {}
    return {"index": entry["index"], "made": bool(entry.get("path")), "total": entry.get("total"), "rank": entry.get("rank"),
            "scores": flat, "reason": judge.get("reason"), "status": entry.get("status")}


def motion(paths: ProjectPaths, shot_id: str) -> dict | None:
    """A shot's vendor clip as its record (``clips/<shot>.motion.json``) says: provider, the attempt in the video and
    who chose it, each attempt (number, whether its file exists, total, cost, length, the judge's reason, every
    metric as a name → 0–100), the refusals, and whether an end frame was sent; None for a shot without one."""
    record = read_json(paths.motion_meta(shot_id))
    if not record:
        return None
    attempts = []
    for a in record.get("attempts", []):
        scores = {name.replace("_", " "): v for name, v in (a.get("scores") or {}).items()
                  if name != "total" and isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 100 and name not in ("black_frames", "frozen_frames")}
        judge = a.get("judge") or {}
        if judge.get("total") is not None:
            scores["judge"] = judge["total"]
        attempts.append({"attempt": a["attempt"], "made": paths.motion_attempt(shot_id, a["attempt"]).is_file(),
                         "total": a.get("total", (a.get("scores") or {}).get("total")), "cost_usd": a.get("cost_usd"),
                         "duration_s": a.get("duration_s"), "scores": scores, "reason": judge.get("reason")})
    return {"provider": record.get("provider"), "chosen": record.get("chosen"), "chosen_by": record.get("chosen_by"),
            "attempts": attempts, "refused": len(record.get("refused") or []), "end_frame": paths.end_frame(shot_id).is_file(),
            "prompt": record.get("prompt")}


def story(paths: ProjectPaths, board: Storyboard | None) -> dict | None:
    """A story project's steps as the project page shows them: the options of lore and narrative with the one in
    use, the components (entity ID, name, kind, whether its sheet is drawn) and the scenes (name, whether its stage
    picture is drawn); None for a project that is not a story."""
    folder = paths.root / "story"
    if board is None or board.plan.structure != "story" or not (folder / "lore.json").exists():
        return None
    picks = read_json(folder / "picks.json") or {}
    steps = {}
    for step in ("lore", "narrative", "scenes"):
        options = (read_json(folder / f"{step}.json") or {}).get("options") or []
        if step == "scenes":  # options only with the setting story_scene_options: each shown as its scenes' names
            options = [{"scenes": " · ".join(sc.get("name", "") for sc in o.get("scenes", []))} for o in options]
        chosen = min(int(picks.get(step, 1)), len(options)) if options else None
        steps[step] = {"options": options, "chosen": chosen}
    components = [{"entity_id": e.entity_id, "name": e.name, "kind": e.kind, "description": e.description,
                   "drawn": (paths.references / e.reference if e.reference else paths.generated_reference(e.entity_id)).is_file()}
                  for e in board.entities]
    scenes = [{"scene": ch.chapter_id, "title": ch.title, "drawn": (paths.images / "stage" / f"{ch.chapter_id}.png").is_file(),
               "stage": (read_json(folder / "stage_shot" / f"{ch.chapter_id}.json") or {}).get("description")}
              for ch in board.chapters if ch.chapter_id.startswith("scene-")]
    return {**steps, "components": components, "scenes": scenes}


def score_distribution(candidates: Iterable[dict]) -> list[dict]:
    """The quality summary of a project's candidates (FR-043): per criterion (``"<scorer> <criterion>"``, and
    ``total``), min, median and max of every candidate's score rounded to whole points, and how many were scored."""
    values: dict[str, list[float]] = {}
    for cand in candidates:
        for kind, scores in (cand.get("scores") or {}).items():
            for name, v in scores.items():
                if name != "total" and isinstance(v, (int, float)) and not isinstance(v, bool):
                    values.setdefault(f"{kind} {name.replace('_', ' ')}", []).append(float(v))
        if cand.get("total") is not None:
            values.setdefault("total", []).append(float(cand["total"]))
    return [{"criterion": k, "min": round(min(v)), "median": round(median(v)), "max": round(max(v)), "count": len(v)}
            for k, v in sorted(values.items())]


def narration_voices(board: Storyboard, paths: ProjectPaths) -> dict[str, int]:
    """The voices the project's narration was made with, as recorded in its ``audio/<shot>.json`` sidecars:
    ``{provider: shots}`` (``provider`` as ``vendor:model/voice``), most used first; empty before any narration."""
    counts: dict[str, int] = {}
    for _, shot in board.shots():
        sidecar = read_json(paths.narration_timing(shot.shot_id)) or {}
        if sidecar.get("provider"):
            counts[sidecar["provider"]] = counts.get(sidecar["provider"], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def qc_report(paths: ProjectPaths) -> dict | None:
    """The project's ``qc.json`` (None before the first render)."""
    return read_json(paths.qc_report)


def has_picture(paths: ProjectPaths) -> bool:
    """Whether the project has a picture to show: the video's thumbnail, else any image made."""
    if (paths.root / "thumbnail.jpg").exists():
        return True
    try:
        with os.scandir(paths.images) as entries:
            return any(e.name.endswith(".png") for e in entries)
    except OSError:
        return False


def provenance(paths: ProjectPaths, shot_id: str) -> dict | None:
    """A shot's image sidecar: its provenance record (None before the image is made)."""
    return read_json(paths.image_meta(shot_id))
