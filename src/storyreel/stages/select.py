"""Stage ``select``: a shot's image chosen from its candidates (best-of-N, ARCHITECTURE.md "Data flow").

``select[shot]`` reads the candidates the ``image`` stage made (``images/<shot>/<i>.png``; a vendor's at the
size it drew them, a local renderer's at the frame size), scores each with
the project's scorer (``local:technical`` by default; a verdict is cached in ``image_scores`` by the
candidate's hash, the scorer's identity and the rubric hash, so no image is scored twice), ranks them by
:func:`weighted_total` and writes the chosen one, cover-fitted to the frame, to ``images/<shot>.png`` with its sidecar
``images/<shot>.meta.json`` (the manifest entry, plus ``candidate``, ``candidates`` and ``picked_by``), and
the record ``images/<shot>/scores.json``. With one candidate there is nothing to choose and nothing is scored.

A person's pick (``storyreel pick``, stored in the storyboard as ``visual.selected_candidate``) always wins
over the ranking and survives re-runs; a pick of a candidate that does not exist (N was lowered) or failed
is set aside (``pick_ignored`` in the record) and the ranking decides. The node's data version is the chosen
image's bytes only: picking the candidate that is already in the video changes the record, not the image,
and leaves every clip fresh (early cutoff).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any, ClassVar

from storyreel.core.atomic import atomic_path, atomic_write_text
from storyreel.core.cancel import checkpoint
from storyreel.core.errors import ProviderError
from storyreel.core.hashing import hash_file, hash_value
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.providers.image.pixels import image_size, save_fitted
from storyreel.providers.scorer.vlm_judge import check as check_verdict
from storyreel.providers.scorer.vlm_judge import judge_total
from storyreel.stages.context import ProjectContext
from storyreel.store.files import seed_named
from storyreel.stages.reference import reference_nodes
from storyreel.store.ledger import hold

log = logging.getLogger(__name__)

SCORER_WEIGHTS: dict[str, float] = {"technical": 0.3, "judge": 0.7, "consistency": 0.4}
"""Weight of each scorer kind in a candidate's total (:func:`weighted_total`); a kind that did not score
the candidate drops out and the others are re-normalized. With a VLM judge (``--judge``) what the image
shows and how well it fits the shot (the judge) outweighs how clean it is (technical). The offline default
has one scorer, so its total is the technical total — unless the shot shows entities with reference
images: then ``local:consistency`` (colour histogram and ORB features against the references) weighs 0.4
beside the technical 0.3 (``local:technical``: sharpness .25, exposure .25, borders .15, BRISQUE quality .1,
palette fit .1, contrast .075, colourfulness .075)."""


def weighted_total(totals: dict[str, float]) -> float | None:
    """The documented weighted total (0–100) of a candidate's per-scorer-kind totals (:data:`SCORER_WEIGHTS`);
    None when no scorer scored it."""
    weights = {kind: SCORER_WEIGHTS.get(kind, 0.0) for kind in totals}
    norm = sum(weights.values())
    if not norm:
        return None
    return round(sum(totals[k] * w for k, w in weights.items()) / norm, 2)


def ranked(candidates: list[dict]) -> list[dict]:
    """Candidates best first: by total (unscored last), ties by the lower index (the first made wins)."""
    return sorted(candidates, key=lambda c: (c["total"] is None, -(c["total"] or 0.0), c["index"]))


class SelectStage(Stage[ProjectContext]):
    name: ClassVar[str] = "select"
    code_version: ClassVar[str] = "select/4"  # /4: the chosen candidate fitted to the frame (a vendor's are kept as drawn)
    max_workers: ClassVar[int] = 2

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("image", unit), *reference_nodes(ctx, unit)]

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        """The candidates (through the image node's version), the person's pick and — with more than one
        candidate — the scorer's identity and the weights."""
        _, shot = ctx.storyboard.shot(unit)
        count = ctx.settings.image_candidates
        params: dict[str, Any] = {"candidates": count, "picked": shot.visual.selected_candidate, "size": list(ctx.frame_size)}
        if count > 1:
            params.update(scorer=self._scorer_id(ctx), rubric=self._rubric(ctx), weights=SCORER_WEIGHTS)
            refs = ctx.references(unit)
            if refs:
                params["references"] = {name: hash_file(path) for name, path in refs}
                params["consistency"] = ctx.consistency.identity() if ctx.consistency is not None else None
            if ctx.judge is not None:
                params["judge"] = {"id": f"{ctx.judge.provider_id}@{ctx.judge.code_version}", "identity": ctx.judge.identity(),
                                   "description": self._description(ctx, unit)}
        return RecipeParts(provider="local:select", params=params)

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        _, shot = ctx.storyboard.shot(unit)
        count = ctx.settings.image_candidates
        # 1. the candidates the image stage made (a failed one has a sidecar and no file)
        candidates = []
        for index in range(1, count + 1):
            try:
                entry = json.loads(ctx.paths.candidate_meta(unit, index).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            path = ctx.paths.candidate(unit, index)
            usable = entry.get("file_path") is not None and path.exists()
            candidates.append({"index": index, "path": ctx.paths.rel(path) if usable else None, "status": entry.get("status"),
                               "usable": usable, "entry": entry, "scores": {}, "total": None})
        usable = [c for c in candidates if c["usable"]]
        if not usable:
            raise FileNotFoundError(f"no candidate image of {unit} in {ctx.paths.rel(ctx.paths.candidates(unit))}/")
        # 2. scores (only when there is a choice to make): technical for each, then the judge on all at once
        cost, attention = 0.0, None
        if len(usable) > 1:
            refs = ctx.references(unit)
            for cand in usable:
                checkpoint()
                cand["scores"] = self._scores(ctx, unit, cand)
                if refs and ctx.consistency is not None:
                    cand["scores"]["consistency"] = self._consistent(ctx, unit, cand, refs)
            if ctx.judge is not None:
                judged, cost, attention = self._judged(ctx, unit, usable)
                for cand in usable:
                    if cand["index"] in judged:
                        cand["scores"]["judge"] = judged[cand["index"]]
            for cand in usable:
                cand["total"] = weighted_total({kind: s["total"] for kind, s in cand["scores"].items()})
        order = ranked(usable)
        # 3. the choice: the person's pick when it can be honoured, else the best ranked
        picked, ignored = shot.visual.selected_candidate, None
        chosen = next((c for c in usable if c["index"] == picked), None) if picked else None
        if picked and chosen is None:
            ignored = f"candidate {picked} {'failed' if any(c['index'] == picked for c in candidates) else 'does not exist'}; the best ranked is used"
            log.warning("select[%s]: the picked %s", unit, ignored)
        picked_by = "user" if chosen is not None else "auto"
        chosen = chosen or order[0]
        # 4. the shot's image and sidecar, then the record
        out, sidecar = ctx.paths.image(unit), ctx.paths.image_meta(unit)
        size = self._write_image(ctx, ctx.paths.root / chosen["path"], out)
        entry = dict(chosen["entry"])
        entry.update(file_path=ctx.paths.rel(out), size=size, candidate=chosen["index"], candidates=count, picked_by=picked_by,
                     candidate_cost_usd=entry.get("cost_usd") or 0.0,
                     cost_usd=round(sum(c["entry"].get("cost_usd") or 0.0 for c in candidates), 6))
        atomic_write_text(sidecar, json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        rank = {c["index"]: i + 1 for i, c in enumerate(order)}
        record = {
            "shot_id": unit,
            "candidates": [{"index": c["index"], "path": c["path"], "status": c["status"], "scores": c["scores"], "total": c["total"],
                            "rank": rank.get(c["index"]), **({"error": c["entry"].get("error")} if not c["usable"] else {})}
                           for c in candidates],
            "selected": chosen["index"], "picked_by": picked_by, "pick_ignored": ignored,
            "scorers": ([self._scorer_id(ctx)] + ([f"{ctx.judge.provider_id}@{ctx.judge.code_version}"] if ctx.judge else [])
                        if len(usable) > 1 else []),
            "weights": SCORER_WEIGHTS, **({"judge_failed": attention} if attention else {}),
        }
        atomic_write_text(ctx.paths.scores(unit), json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        details = {"selected": chosen["index"], "picked_by": picked_by, "total": chosen["total"]}
        named = [seed_named(ctx.paths.images, "shot", unit, out)] if ctx.storyboard.plan.structure == "story" else []  # seed 003's names
        return NodeOutput(files=[out, sidecar, ctx.paths.scores(unit), *named], details=details, versioned=[out], cost_usd=cost,
                          attention=attention)

    def _consistent(self, ctx: ProjectContext, unit: str, cand: dict, refs: list) -> dict:
        """The candidate's consistency with the references, from the cache when seen before."""
        scorer = ctx.consistency
        scorer_id = f"{scorer.provider_id}@{scorer.code_version}"
        rubric = hash_value({"scorer": scorer.identity(), "references": [hash_file(p) for _, p in refs]})
        sha = cand["entry"].get("sha256")
        cached = ctx.scores.cached(sha, scorer_id, rubric) if ctx.scores is not None and sha else None
        if cached is not None:
            return {**cached[0], "total": cached[1]}
        verdict = scorer.score(ctx.paths.root / cand["path"], [p for _, p in refs])
        total = verdict.pop("total")
        if ctx.scores is not None and sha:
            ctx.scores.record(ctx.storyboard.project_id, unit, cand["index"], sha, scorer_id, rubric, verdict, total)
        return {**verdict, "total": total}

    @staticmethod
    def _write_image(ctx: ProjectContext, chosen: Path, out: Path) -> str:
        """The chosen candidate as the shot's image, exactly the frame size: copied when it already is (the
        local renderers draw at the frame size), else cover-fitted (a vendor's candidates are kept at the
        size drawn, so N candidates cost one fit). Returns the size written, ``WxH``."""
        width, height = ctx.frame_size
        if image_size(chosen) == (width, height):
            with atomic_path(out) as tmp:
                shutil.copyfile(chosen, tmp)
        else:
            save_fitted(chosen.read_bytes(), width, height, out)
        return f"{width}x{height}"

    @staticmethod
    def _description(ctx: ProjectContext, unit: str) -> str:
        """What the judge compares the candidates with: the shot's own image prompt, else its description."""
        _, shot = ctx.storyboard.shot(unit)
        return shot.visual.image_prompt or shot.visual.description

    def _judged(self, ctx: ProjectContext, unit: str, usable: list[dict]) -> tuple[dict[int, dict], float, str | None]:
        """The VLM judge's verdict per candidate index ``{index: {criterion: 0–100, "reason", "best", "total"}}``,
        the USD it cost and, when it failed, the attention message (the ranking then is technical only).
        A paid call is reserved before and booked after (an answer with an invalid index is booked, then
        refused); a verdict on the same candidates, description and judge is read from ``image_scores``."""
        judge = ctx.judge
        judge_id = f"{judge.provider_id}@{judge.code_version}"
        description = self._description(ctx, unit)
        shas = [c["entry"].get("sha256") for c in usable]
        refs = [hash_file(p) for _, p in ctx.references(unit)]
        rubric = hash_value({"judge": judge.identity(), "description": description, "candidates": shas, "references": refs})
        if ctx.scores is not None:
            cached = {c["index"]: ctx.scores.cached(sha, judge_id, rubric) for c, sha in zip(usable, shas, strict=True)}
            if all(v is not None for v in cached.values()):
                return {i: {**v[0], "total": v[1]} for i, v in cached.items()}, 0.0, None
        booked = 0.0
        try:
            with hold(ctx.ledger, f"select[{unit}]", judge.provider_id, lambda: judge.estimate(len(usable)), paid=judge.paid,
                      request_key=rubric.removeprefix("sha256:")[:32]) as held:
                verdict, _, booked = judge.judge([ctx.paths.root / c["path"] for c in usable], description,
                                                 ctx.references(unit))
                held.commit(booked)
            check_verdict(verdict, len(usable))
        except ProviderError as exc:
            log.warning("select[%s]: the judge failed, the ranking is technical only: %s", unit, exc)
            return {}, booked, f"judge failed: {exc}"
        out = {}
        for judged in verdict.candidates:
            cand = usable[judged.index - 1]
            scores = {k: v for k, v in judged.model_dump(exclude={"index"}).items() if v is not None}
            scores["best"] = judged.index == verdict.best_index
            total = judge_total(judged)
            if ctx.scores is not None:
                ctx.scores.record(ctx.storyboard.project_id, unit, cand["index"], cand["entry"].get("sha256"), judge_id, rubric, scores, total)
            out[cand["index"]] = {**scores, "total": total}
        return out, booked, None

    @staticmethod
    def _scorer_id(ctx: ProjectContext) -> str:
        return f"{ctx.scorer.provider_id}@{ctx.scorer.code_version}"

    @staticmethod
    def _rubric(ctx: ProjectContext) -> dict:
        """What a verdict depends on besides the bytes and the scorer's code: its constants and the project's
        palette (the palette-fit sub-score)."""
        return {"scorer": ctx.scorer.identity(), "palette": list(ctx.storyboard.settings.style.palette)}

    def _scores(self, ctx: ProjectContext, unit: str, cand: dict) -> dict[str, dict]:
        """``{kind: {sub-score: 0–100, …, "total": 0–100}}`` of one candidate, from the cache when this scorer
        has seen these bytes under this rubric."""
        scorer_id, rubric = self._scorer_id(ctx), hash_value(self._rubric(ctx))
        sha = cand["entry"].get("sha256")
        cached = ctx.scores.cached(sha, scorer_id, rubric) if ctx.scores is not None and sha else None
        if cached is not None:
            scores, total = cached
        else:
            verdict = ctx.scorer.score(ctx.paths.root / cand["path"], list(ctx.storyboard.settings.style.palette) or None).model_dump()
            total = verdict.pop("total")
            scores = {k: round(v, 2) for k, v in verdict.items() if v is not None}
        if ctx.scores is not None and sha:
            ctx.scores.record(ctx.storyboard.project_id, unit, cand["index"], sha, scorer_id, rubric, scores, total)
        return {ctx.scorer.kind: {**scores, "total": round(total, 2)}}
