"""What "Update video" would redo, said to a person: which shots changed and why, what of each is remade, what
of the whole video follows, about how long it takes and what it costs — from the engine's stale nodes
(:func:`storyreel.api.library.stale`), the project's run records (how long each node took last time, what it
cost) and the image stage's dry-run prices.

The engine's words (nodes, causes) stay one click away: :func:`pending` keeps the node list."""

from __future__ import annotations

import math
from statistics import fmean

from storyreel.api import imagegen
from storyreel.api.session import Project
from storyreel.engine.staleness import Cause
from storyreel.store import review

SHOT_PARTS = {"image_prompt": "image prompt", "enhance": "image prompt", "reference": "reference image", "image": "image",
              "select": "image", "narration": "voice", "audio_segment": "voice", "motion_prompt": "motion prompt",
              "end_frame": "end frame", "motion": "motion clip", "clip": "clip"}
"""A shot's parts, in pipeline order, by the stage that makes them (several stages make one part)."""
WHOLE_PARTS = {"plan": "storyboard", "lore": "story world", "narrative": "plot", "scenes": "scenes", "components": "characters, props and places",
               "stage_shot": "stage shots", "shots": "shot list", "stage_image": "stage pictures", "manifest": None, "segment": "transitions", "mix": "soundtrack",
               "render": "final video", "qc": "quality check"}
"""The whole video's parts, in pipeline order (None: bookkeeping a person does not need to hear about)."""
IMPLIED = "image prompt or settings changed"
"""The image node's own parameters include the shot's narration: said only when no other change of the shot
(a narration edit) explains it."""
EDITED = {"narration": "narration changed", "image_prompt": "image prompt changed", "enhance": "image prompt changed",
          "image": "image prompt or settings changed", "select": "another image picked", "reference": "reference image changed",
          "clip": "timing or camera move changed", "audio_segment": "timing changed",
          "motion_prompt": "description, camera move or timing changed", "end_frame": "end state changed",
          "motion": "motion prompt or clip settings changed"}
"""A PARAMS cause (the node's own storyboard fields or settings) in words, by stage."""
CAUSES = {Cause.OUTPUT: "a file was missing or changed on disk", Cause.FAILED: "the last attempt failed",
          Cause.CODE: "storyreel was updated", Cause.TEMPLATE: "the prompt template changed"}
PROVIDER_CHANGED = {"image": "image provider changed", "narration": "voice changed", "image_prompt": "model changed",
                    "enhance": "model changed"}
STAGE_WORDS = {"plan": "planning the storyboard", "image_prompt": "writing image prompts", "enhance": "improving image prompts",
               "reference": "making reference images", "image": "making images", "select": "choosing images",
               "manifest": "listing images", "narration": "recording the voice", "audio_segment": "timing the voice",
               "clip": "animating shots", "segment": "making transitions", "mix": "mixing the sound",
               "render": "rendering the video", "qc": "checking quality"}
"""What a running job is doing, by stage, for the job card and its announcements."""
FALLBACK_S = 1.0
"""Seconds assumed for a node of a stage this project never ran (the offline engines take ≈ 0.1–1 s a node)."""


def _join(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _reasons(node: dict) -> list[str]:
    """The root reasons of one stale node (a change that follows from another node's change is not one)."""
    if node["state"] == "MISSING" and not node["causes"]:
        return ["not made yet"]
    found = []
    for cause in node["causes"]:
        category = Cause(cause.split(":", 1)[0])
        if category == Cause.PARAMS:
            found.append(EDITED.get(node["stage"], "settings changed"))
        elif category == Cause.PROVIDER:
            found.append(PROVIDER_CHANGED.get(node["stage"], "provider changed"))
        elif category in CAUSES:
            found.append(CAUSES[category])
    if node.get("attention"):
        found.append(node["attention"])
    return found


def pending(project: Project, nodes: list[dict]) -> dict:
    """What an update of ``project`` would redo, given its not-fresh ``nodes`` (:func:`library.stale`)::

        {"shots": [{"shot_id", "number" (1-based, storyboard order), "reasons": [str], "remakes": [str],
                    "text": "Shot 2 (narration changed): its voice and clip will be remade"}],
         "whole": [str], "seconds": int (about; the sum of each node's last duration — no parallelism assumed),
         "paid_calls": int, "estimate_usd": float, "first_make": bool (nothing of the video made yet),
         "summary": "Then the transitions, soundtrack and final video will be remade — about 6 s, no paid calls",
         "nodes": nodes}

    Paid calls: image nodes priced by the image stage's dry run (its provider, candidates and sizes); other
    stages by what the node cost last time."""
    board = review.storyboard(project.paths)
    order = [s.shot_id for ch in board.chapters for s in ch.shots] if board else []
    number = {shot_id: i + 1 for i, shot_id in enumerate(order)}
    runs = project.store.latest_success(project.id)
    by_stage: dict[str, list[float]] = {}
    for (stage, _unit), run in runs.items():
        by_stage.setdefault(stage, []).append(run.duration_s)

    shots: dict[str, dict] = {}
    whole: list[str] = []
    seconds, paid_calls, estimate = 0.0, 0, 0.0
    image_units = []
    for node in nodes:
        stage, unit = node["stage"], node["unit"]
        last = runs.get((stage, unit))
        seconds += last.duration_s if last else fmean(by_stage[stage]) if by_stage.get(stage) else FALLBACK_S
        if stage == "image":
            image_units.append(unit)
        elif last is not None and last.cost_usd > 0:
            paid_calls, estimate = paid_calls + 1, estimate + last.cost_usd
        if stage in SHOT_PARTS and unit in number:
            entry = shots.setdefault(unit, {"shot_id": unit, "number": number[unit], "reasons": [], "remakes": []})
            entry["remakes"] += [SHOT_PARTS[stage]] if SHOT_PARTS[stage] not in entry["remakes"] else []
            entry["reasons"] += [r for r in _reasons(node) if r not in entry["reasons"]]
        elif WHOLE_PARTS.get(stage, stage) and WHOLE_PARTS.get(stage, stage) not in whole:
            whole.append(WHOLE_PARTS.get(stage, stage))
    if image_units:
        priced = imagegen(project=project.id, dry_run=True, wait=False, workspace=project.ws.root)
        for row in priced.shots:
            if row["shot_id"] in image_units and row.get("estimate_usd", 0) > 0:
                paid_calls, estimate = paid_calls + 1, estimate + row["estimate_usd"]
    stage_rank = {name: i for i, name in enumerate(dict.fromkeys(SHOT_PARTS.values()))}
    listed = sorted(shots.values(), key=lambda s: s["number"])
    for entry in listed:
        entry["remakes"].sort(key=lambda part: stage_rank.get(part, 99))
        if IMPLIED in entry["reasons"] and len(entry["reasons"]) > 1:
            entry["reasons"].remove(IMPLIED)
        entry["reasons"] = entry["reasons"] or ["follows a change before it"]
    whole_rank = {name: i for i, name in enumerate(v for v in WHOLE_PARTS.values() if v)}
    whole.sort(key=lambda part: whole_rank.get(part, 99))
    changes = {"shots": listed, "whole": whole, "seconds": math.ceil(seconds) if nodes else 0, "paid_calls": paid_calls,
               "estimate_usd": round(estimate, 6), "first_make": not any(stage == "render" for stage, _ in runs),
               "nodes": nodes}
    for entry in listed:
        entry["text"] = sentence(entry)
    changes["summary"] = summary_line(changes) if nodes else ""
    return changes


def sentence(shot: dict) -> str:
    """One shot's line: ``Shot 2 (narration changed): its voice and clip will be remade``."""
    return f"Shot {shot['number']} ({_join(shot['reasons'])}): its {_join(shot['remakes'])} will be remade"


def summary_line(changes: dict) -> str:
    """The closing line: what of the whole video follows, about how long, what it costs."""
    seconds = changes["seconds"]
    took = f"about {seconds} s" if seconds < 90 else f"about {math.ceil(seconds / 60)} min"
    money = ("no paid calls" if not changes["paid_calls"] else
             f"{changes['paid_calls']} paid call{'s' if changes['paid_calls'] != 1 else ''}, about ${changes['estimate_usd']:.2f}")
    head = f"Then the {_join(changes['whole'])} will be remade" if changes["shots"] and changes["whole"] else (
        f"The {_join(changes['whole'])} will be remade" if changes["whole"] else "")
    return f"{head} — {took}, {money}" if head else f"{took[0].upper()}{took[1:]}, {money}"
