"""``imagegen``: the image stage on its own (seed 001 §2.2, 002 §11) — prompts, images and the manifest
for all shots, one chapter's or one shot, with a summary of generated / reused / failed shots and cost;
``dry_run`` writes the exact request payloads to ``images/<shot>/request-<candidate>.json`` and prices the plan
without calling any provider.
"""

from __future__ import annotations

import json

from storyreel.api.project import (
    context,
    load_project,
    open_store,
    preflight,
    settings_for,
    settled_status,
    writing,
)
from storyreel.api.requests import ImagegenRequest
from storyreel.api.results import ImagegenResult
from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import CostLimitReached, InputError, StageError
from storyreel.engine.executor import Executor, ProgressFn
from storyreel.engine.graph import Node
from storyreel.engine.staleness import State
from storyreel.providers.base import ImageRequest
from storyreel.stages.context import ProjectContext
from storyreel.stages.image import ImageStage, route
from storyreel.stages.image_prompt import TEMPLATE, template_values
from storyreel.stages.manifest import write_manifest
from storyreel.stages.pipeline import IMAGE_STAGES as STAGES
from storyreel.store.files import ProjectPaths
from storyreel.store.options import update_options
from storyreel.store.records import RunStore


def imagegen(request: ImagegenRequest | None = None, *, progress: ProgressFn | None = None, **fields: object) -> ImagegenResult:
    """Image prompts, images and ``images/manifest.json`` for the selected shots of ``request`` (or of an
    :class:`ImagegenRequest` built from ``fields``); ``dry_run`` writes the request payloads and prices
    the plan without calling anything. Raises :class:`InputError` (exit 2) for an unknown project,
    chapter or shot, :class:`CostLimitReached` at the cap, :class:`~storyreel.core.errors.StageError` when
    nodes fail."""
    request = request or ImagegenRequest.build(**fields)
    settings = settings_for(request.workspace)
    board = load_project(request.project, settings)
    paths = ProjectPaths(settings.workspace, request.project)
    choices = {"image_provider": request.image_provider, "llm": request.llm, "max_cost_usd": request.max_cost}
    overrides = {**choices, "image_candidates": request.candidates, "judge": request.judge, "enhance_prompts": request.enhance}
    with writing(paths, settings, wait=request.wait, verb="imagegen"):
        store = open_store(settings)
        shots = select_shots(context(board, settings, store, overrides), request.chapter, request.shot)
        if request.dry_run:  # the flags apply to this plan only: options.json and the project's status stay as they are
            return dry_run(context(board, settings, store, overrides), shots, store)
        update_options(paths, **choices, candidates=request.candidates, judge=request.judge, enhance=request.enhance)
        ctx = context(board, settings, store)
        preflight(ctx)
        try:
            result = run(ctx, shots, store, force=request.force, progress=progress)
        except CostLimitReached:
            store.upsert_project(request.project, status="cost_limit")
            raise
        except StageError:
            store.upsert_project(request.project, status="failed")
            raise
        store.upsert_project(request.project, status=settled_status(ctx, store))
        return result


def select_shots(ctx: ProjectContext, chapter: str | None, shot: str | None) -> list[str]:
    """Shot IDs selected by ``--chapter``/``--shot``. Raises :class:`InputError` naming the valid IDs."""
    board = ctx.storyboard
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


def dry_run(ctx: ProjectContext, shots: list[str], store: RunStore) -> ImagegenResult:
    """Price the plan and write each generated shot's exact request payload; calls nothing."""
    status = Executor(store, ctx.storyboard.project_id, ctx.paths.root).evaluate(STAGES, ctx, execute=False)
    summary = ctx.ledger.summary() if ctx.ledger else None
    result = ImagegenResult(project_id=ctx.storyboard.project_id, dry_run=True, cap_usd=ctx.settings.max_cost_usd,
                            spent_before_usd=summary.committed_usd if summary else 0.0)
    stage = ImageStage()
    for unit in shots:
        node = status.statuses[Node("image", unit)]
        fresh = node.state == State.FRESH and not node.attention
        method = route(ctx, unit)
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


def run(ctx: ProjectContext, shots: list[str], store: RunStore, *, force: bool, progress: ProgressFn | None) -> ImagegenResult:
    """Run prompts, images and the manifest for ``shots``. Raises :class:`CostLimitReached` at the cap."""
    selected = set(shots)
    executor = Executor(store, ctx.storyboard.project_id, ctx.paths.root, progress)

    def only(node: Node) -> bool:
        return node.stage == "manifest" or node.unit in selected

    try:
        report = executor.evaluate(STAGES, ctx, execute=True, force=force, only=only)
    except CostLimitReached:
        write_manifest(ctx)
        raise
    executed = {n for n in report.executed if n.stage == "image"}
    result = ImagegenResult(project_id=ctx.storyboard.project_id, dry_run=False, cap_usd=ctx.settings.max_cost_usd)
    for run_ in store.for_invocation(report.invocation):
        if run_.status == "success":
            result.cost_usd += run_.cost_usd
    for unit in shots:
        node = report.statuses[Node("image", unit)]
        if node.attention:
            result.failed += 1
        elif Node("image", unit) in executed:
            result.generated += 1
        else:
            result.reused += 1
        result.shots.append({"shot_id": unit, "method": route(ctx, unit), "ran": Node("image", unit) in executed,
                             "attention": node.attention})
    result.cost_usd = round(result.cost_usd, 6)
    return result
