"""Stage ``image``: one image per shot, routed by visual type (seed 001 §4.3).

Visual types listed in the project's ``template_types`` (default ``title_card``, ``talking_head``) are
drawn by the local template renderer; the others go to the configured image provider
(``--image-provider`` / ``STORYREEL_IMAGE_PROVIDER``; ``local:cards`` by default). A shot's own
``image_prompt`` wins over the generated prompt (seed 001 assumption 8).

When the provider rejects a shot (moderation, safety block) or keeps failing after its retries, the shot
gets a template stand-in so the project still renders; its sidecar records ``status: failed`` with the
provider's reason, ``status`` marks the node as needing attention, and the next run retries it (seed 002
§6). Each node writes ``images/<shot>.png`` and the sidecar ``images/<shot>.json`` (its manifest entry).
"""

from __future__ import annotations

import json
from typing import ClassVar

from storyreel.core.errors import ProviderError
from storyreel.core.hashing import hash_file, seed_for
from storyreel.store.models import MediaAsset
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.providers.base import ImageGenService, ImageRequest, ImageResult
from storyreel.stages.context import ProjectContext
from storyreel.store.ledger import hold
from storyreel.core.atomic import atomic_write_text


def route(ctx: ProjectContext, unit: str) -> str:
    """``template`` (local renderer) or ``generated`` (the configured provider) for a shot."""
    _, shot = ctx.storyboard.shot(unit)
    if shot.visual.type in ctx.storyboard.settings.template_types or ctx.image_provider.offline:
        return "template"
    return "generated"


class ImageStage(Stage[ProjectContext]):
    name: ClassVar[str] = "image"
    code_version: ClassVar[str] = "image/2"
    max_workers: ClassVar[int] = 4

    def concurrency(self, ctx: ProjectContext) -> int:
        """Calls in flight: the provider's own limit, else ``STORYREEL_IMAGE_CONCURRENCY``."""
        return ctx.image_provider.max_concurrency or ctx.settings.image_concurrency

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("image_prompt", unit)] if route(ctx, unit) == "generated" else []

    def provider_for(self, ctx: ProjectContext, unit: str) -> tuple[ImageGenService, str]:
        """The provider for a shot and the manifest's generation method: ``template`` or ``generated``."""
        method = route(ctx, unit)
        if method == "template" and not ctx.image_provider.offline and ctx.template_provider:
            return ctx.template_provider, method
        return ctx.image_provider, method

    @staticmethod
    def prompt_record(ctx: ProjectContext, unit: str) -> dict:
        return json.loads((ctx.paths.root / "prompts" / f"{unit}.json").read_text(encoding="utf-8"))

    def request(self, ctx: ProjectContext, unit: str, prompt: str | None = None) -> ImageRequest:
        """The provider request for a shot. Generated shots take the prompt of their ``image_prompt`` node
        (or ``prompt`` when given); template shots the style prefix plus the description, unless the shot has
        its own ``image_prompt`` (which wins, seed 001 assumption 8). Diagrams also see the narration."""
        chapter, shot = ctx.storyboard.shot(unit)
        settings = ctx.storyboard.settings
        width, height = settings.frame_size
        if prompt is None and route(ctx, unit) == "generated":
            prompt = self.prompt_record(ctx, unit)["prompt"]
        elif prompt is None:
            prompt = shot.visual.image_prompt or f"{settings.style.style_prefix} {shot.visual.description}".strip()
        return ImageRequest(
            shot_id=shot.shot_id,
            visual_type=shot.visual.type,
            description=shot.visual.description,
            prompt=prompt,
            chapter_title=chapter.title,
            project_title=settings.title,
            narration=shot.narration if shot.visual.type == "diagram" else "",
            palette=settings.style.palette,
            width=width,
            height=height,
            seed=seed_for(shot.visual.description),
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        provider, _ = self.provider_for(ctx, unit)
        return RecipeParts(
            provider=f"{provider.provider_id}@{provider.code_version}",
            params={"request": self.request(ctx, unit).model_dump(mode="json"), "provider": provider.identity()},
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        out = ctx.paths.images / f"{unit}.png"
        provider, method = self.provider_for(ctx, unit)
        request = self.request(ctx, unit)
        record = self.prompt_record(ctx, unit) if method == "generated" else {}
        # 1. the image: the provider's, or a template stand-in when it rejects the shot or keeps failing
        entry, result, attention = self._make(ctx, unit, provider, method, request, out)
        # 2. the sidecar (this shot's manifest entry, seed 001 §6)
        entry["size_bytes"] = out.stat().st_size
        if record:
            entry.update(prompt_source=record.get("source"), prompt_version=record.get("prompt_version"))
        sidecar = ctx.paths.images / f"{unit}.json"
        atomic_write_text(sidecar, json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        # 3. the media_assets row (seed 001 §7)
        self._record_asset(ctx, unit, out, entry, record)
        details = {"provider": result.provider, "status": entry["status"], **result.provider_details}
        return NodeOutput(files=[out, sidecar], details=details, cost_usd=entry["cost_usd"], attention=attention)

    def _make(self, ctx: ProjectContext, unit: str, provider: ImageGenService, method: str, request: ImageRequest,
              out) -> tuple[dict, ImageResult, str | None]:  # noqa: ANN001
        """Reserve the estimate, call the provider, commit its cost; on a provider error release the
        reservation and draw the template stand-in. Returns (sidecar entry, result, attention)."""
        chapter, shot = ctx.storyboard.shot(unit)
        entry = {
            "shot_id": unit, "chapter_id": chapter.chapter_id, "chapter_title": chapter.title,
            "visual_type": shot.visual.type, "file_path": ctx.paths.rel(out),
            "prompt": request.prompt if method == "generated" else None,
            "generation_method": method, "provider": provider.provider_id,
            "size": f"{request.width}x{request.height}", "mime_type": "image/png",
        }
        paid = method == "generated" and provider.paid
        try:
            with hold(ctx.ledger, f"image[{unit}]", provider.provider_id, lambda: provider.estimate(request), paid=paid) as held:
                result = provider.generate(request, out)
                held.commit(result.cost_usd)
        except ProviderError as exc:  # not billed: the hold was released
            if method != "generated" or ctx.template_provider is None:
                raise
            result = ctx.template_provider.generate(request, out)
            entry.update(status="failed", error=str(exc), cost_usd=0.0, stand_in=ctx.template_provider.provider_id,
                         metadata=result.provider_details)
            return entry, result, f"{provider.provider_id} failed: {exc}"
        entry.update(status="generated" if method == "generated" else "template", error=None,
                     cost_usd=result.cost_usd, metadata=result.provider_details)
        return entry, result, None

    @staticmethod
    def _record_asset(ctx: ProjectContext, unit: str, out, entry: dict, record: dict) -> None:  # noqa: ANN001
        if ctx.assets is None:
            return
        chapter, _ = ctx.storyboard.shot(unit)
        ctx.assets.add(MediaAsset(
            project_id=ctx.storyboard.project_id, asset_type="IMAGE", chapter_id=chapter.chapter_id, shot_id=unit,
            file_path=ctx.paths.rel(out), mime_type="image/png", size_bytes=entry["size_bytes"], sha256=hash_file(out),
            meta={k: entry.get(k) for k in ("status", "generation_method", "provider", "error", "cost_usd")},
            prompt_version_id=record.get("prompt_version_id"),
        ))
