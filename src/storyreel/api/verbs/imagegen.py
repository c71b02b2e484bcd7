"""``imagegen``: the image stage on its own (seed 001 §2.2, 002 §11) — prompts, images and the manifest
for all shots, one chapter's or one shot, with a summary of generated / reused / failed shots and cost;
``dry_run`` writes the exact request payloads to ``images/<shot>/request-<candidate>.json`` and prices the plan
without calling any provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from storyreel.api.requests import ImagegenRequest
from storyreel.api.results import ImagegenResult
from storyreel.api.runner import Verb
from storyreel.api.session import Project
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.core.vocabulary import ProjectStatus
from storyreel.engine.executor import Executor, RunReport
from storyreel.engine.graph import Node
from storyreel.engine.staleness import State
from storyreel.providers.base import ImageRequest
from storyreel.stages.context import ProjectContext
from storyreel.stages.image import ImageStage
from storyreel.stages.image_prompt import TEMPLATE, template_values
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.options import ProjectOptions

IMAGE_STAGE_NAMES = frozenset(stage.name for stage in IMAGE_STAGES)


class Imagegen(Verb[ImagegenRequest, ImagegenResult]):
    """``storyreel imagegen PROJECT``: image prompts, images and ``images/manifest.json`` for the selected
    shots; the rest of the pipeline is evaluated, not run, so the project's status says whether the video
    is now out of date. Raises :class:`InputError` (exit 2) for an unknown chapter or shot."""

    name = "imagegen"

    def check(self, project: Project, request: ImagegenRequest) -> None:
        self.shots = select_shots(project, request.chapter, request.shot)

    def prepare(self, project: Project, request: ImagegenRequest, executor: Executor) -> ImagegenResult | None:
        if not request.dry_run:
            return None
        flags = ProjectOptions(**self.options(request)).settings_overrides()  # this plan's only: nothing is stored
        return dry_run(project, project.context(flags), self.shots)

    def options(self, request: ImagegenRequest) -> dict:
        return {"image_provider": request.image_provider, "llm": request.llm, "max_cost_usd": request.max_cost,
                "candidates": request.candidates, "judge": request.judge, "enhance": request.enhance,
                "resolution": request.resolution}

    def only(self, request: ImagegenRequest, ctx: ProjectContext) -> Callable[[Node], bool]:
        selected = set(self.shots)
        return lambda node: node.stage in IMAGE_STAGE_NAMES and (node.stage == "manifest" or node.unit in selected)

    def result(self, project: Project, ctx: ProjectContext, report: RunReport, status: ProjectStatus, request: ImagegenRequest,
               started: float) -> ImagegenResult:
        executed = {n for n in report.executed if n.stage == "image"}
        result = ImagegenResult(project_id=project.id, dry_run=False, cap_usd=ctx.settings.max_cost_usd)
        result.cost_usd = round(sum(r.cost_usd for r in project.store.for_invocation(report.invocation) if r.status == "success"), 6)
        for unit in self.shots:
            node = report.statuses[Node("image", unit)]
            if node.attention:
                result.failed += 1
            elif Node("image", unit) in executed:
                result.generated += 1
            else:
                result.reused += 1
            result.shots.append({"shot_id": unit, "method": ctx.route(unit), "ran": Node("image", unit) in executed,
                                 "attention": node.attention})
        return result


def select_shots(project: Project, chapter: str | None, shot: str | None) -> list[str]:
    """Shot IDs selected by ``--chapter``/``--shot``. Raises :class:`InputError` naming the valid IDs."""
    board = project.storyboard()
    if chapter is not None and chapter not in {c.chapter_id for c in board.chapters}:
        raise InputError(f"no chapter {chapter!r} in {board.project_id}", field="--chapter",
                         hint="use one of " + ", ".join(c.chapter_id for c in board.chapters))
    shots = [s.shot_id for c, s in board.shots() if chapter is None or c.chapter_id == chapter]
    if shot is not None:
        if shot not in shots:
            raise InputError(f"no shot {shot!r}" + (f" in chapter {chapter}" if chapter else ""), field="--shot",
                             hint="use one of " + ", ".join(shots[:12]) + (" …" if len(shots) > 12 else ""))
        shots = [shot]
    return shots


def dry_run(project: Project, ctx: ProjectContext, shots: list[str]) -> ImagegenResult:
    """Price the plan and write each generated shot's exact request payload; calls nothing."""
    status = project.evaluate(IMAGE_STAGES, ctx, execute=False)
    result = ImagegenResult(project_id=project.id, dry_run=True, cap_usd=ctx.settings.max_cost_usd,
                            spent_before_usd=ctx.ledger.summary().committed_usd if ctx.ledger else 0.0)
    stage = ImageStage()
    for unit in shots:
        node = status.statuses[Node("image", unit)]
        fresh = node.state == State.FRESH and not node.attention
        method = ctx.route(unit)
        row: dict = {"shot_id": unit, "method": method, "provider": stage.provider_for(ctx, unit)[0].provider_id,
                     "would_run": not fresh, "estimate_usd": 0.0}
        if method == "generated":
            provider, files, estimate = ctx.image_provider, [], 0.0
            count = stage.count(ctx)
            size = provider.max_candidates if provider.paid and ctx.settings.image_batch else 1  # candidates per call: native batch
            for index in range(1, count + 1, size):  # one request per call (best-of-N)
                request = stage.request(ctx, unit, candidate=index) if ctx.paths.prompt_record(unit).exists() else None
                if request is None or not fresh:
                    request = _request_without_prompt_node(ctx, unit, index)
                request = request.model_copy(update={"count": min(size, count - index + 1)})
                path = ctx.paths.request_payload(unit, index)
                atomic_write_text(path, json.dumps({"provider": provider.provider_id, "candidates": list(range(index, index + request.count)),
                                                    "payload": provider.payload(request)}, indent=2, ensure_ascii=False) + "\n")
                files.append(ctx.paths.rel(path))
                estimate += provider.estimate(request) if provider.paid else 0.0
            row.update(request_file=files[0], request_files=files, estimate_usd=round(estimate, 6))
            if not fresh:
                result.estimate_usd += row["estimate_usd"]
        result.shots.append(row)
    result.estimate_usd = round(result.estimate_usd, 6)
    return result


def _request_without_prompt_node(ctx: ProjectContext, unit: str, candidate: int = 1) -> ImageRequest:
    """The image request with the prompt computed the way the prompt step would: free for the shot's own
    ``image_prompt`` and for the local step; an LLM's text cannot be known without calling it, so the
    payload then shows what the LLM will be asked about."""
    _, shot = ctx.storyboard.shot(unit)
    if shot.visual.image_prompt:
        prompt = shot.visual.image_prompt
    elif ctx.llm is not None and ctx.llm.offline:
        prompt = ctx.llm.image_prompt(ctx.template(TEMPLATE), template_values(ctx, unit)).text
    else:
        prompt = f"<written by {ctx.llm.provider_id if ctx.llm else 'the LLM'} from: {shot.visual.description}>"
    return ImageStage().request(ctx, unit, prompt=prompt, candidate=candidate)
