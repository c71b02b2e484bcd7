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
from storyreel.core.hashing import hash_file
from storyreel.store.models import MediaAsset
from storyreel.engine.graph import Node, NodeOutput, RecipeParts
from storyreel.providers.base import ImageGenService, ImageRequest
from storyreel.providers.image.local_cards import seed_for
from storyreel.stages.context import ProjectContext
from storyreel.store.files import atomic_write_text


def route(ctx: ProjectContext, unit: str) -> str:
    """``template`` (local renderer) or ``generated`` (the configured provider) for a shot."""
    _, shot = ctx.storyboard.shot(unit)
    if shot.visual.type in ctx.storyboard.settings.template_types or ctx.image_provider.provider_id.startswith("local:"):
        return "template"
    return "generated"


class ImageStage:
    name: ClassVar[str] = "image"
    code_version: ClassVar[str] = "image/2"
    max_workers: ClassVar[int] = 4
    editable_output: ClassVar[bool] = False

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("image_prompt", unit)] if route(ctx, unit) == "generated" else []

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return self.inputs(ctx, unit)

    def provider_for(self, ctx: ProjectContext, unit: str) -> tuple[ImageGenService, str]:
        """The provider for a shot and the manifest's generation method: ``template`` or ``generated``."""
        method = route(ctx, unit)
        if method == "template" and not ctx.image_provider.provider_id.startswith("local:") and ctx.template_provider:
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
        if prompt is not None:
            pass
        elif route(ctx, unit) == "generated":
            prompt = self.prompt_record(ctx, unit)["prompt"]
        else:
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
        identity = provider.identity() if hasattr(provider, "identity") else {}
        return RecipeParts(
            provider=f"{provider.provider_id}@{provider.code_version}",
            params={"request": self.request(ctx, unit).model_dump(mode="json"), "provider": identity},
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        out = ctx.paths.images / f"{unit}.png"
        sidecar = ctx.paths.images / f"{unit}.json"
        provider, method = self.provider_for(ctx, unit)
        request = self.request(ctx, unit)
        chapter, shot = ctx.storyboard.shot(unit)
        entry = {
            "shot_id": unit, "chapter_id": chapter.chapter_id, "chapter_title": chapter.title,
            "visual_type": shot.visual.type, "file_path": ctx.paths.rel(out),
            "prompt": request.prompt if method == "generated" else None,
            "generation_method": method, "provider": provider.provider_id,
            "size": f"{request.width}x{request.height}", "mime_type": "image/png",
        }
        attention = None
        estimate = provider.estimate(request) if method == "generated" and hasattr(provider, "estimate") else 0.0
        held = ctx.ledger.reserve(f"image[{unit}]", provider.provider_id, estimate) if ctx.ledger and method == "generated" else None
        try:
            result = provider.generate(request, out)
            if held is not None:
                ctx.ledger.commit(held, result.cost_usd)  # type: ignore[union-attr]
            entry.update(status="generated" if method == "generated" else "template", error=None,
                         cost_usd=result.cost_usd, metadata=result.provider_details)
        except ProviderError as exc:
            if held is not None:
                ctx.ledger.release(held)  # type: ignore[union-attr]  # failed and rejected calls are not billed
            if method != "generated" or ctx.template_provider is None:
                raise
            result = ctx.template_provider.generate(request, out)
            attention = f"{provider.provider_id} failed: {exc}"
            entry.update(status="failed", error=str(exc), cost_usd=0.0, stand_in=ctx.template_provider.provider_id,
                         metadata=result.provider_details)
        entry["size_bytes"] = out.stat().st_size
        record = self.prompt_record(ctx, unit) if method == "generated" else {}
        if record:
            entry.update(prompt_source=record.get("source"), prompt_version=record.get("prompt_version"))
        atomic_write_text(sidecar, json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        if ctx.assets is not None:
            ctx.assets.add(MediaAsset(
                project_id=ctx.storyboard.project_id, asset_type="IMAGE", chapter_id=chapter.chapter_id, shot_id=unit,
                file_path=ctx.paths.rel(out), mime_type="image/png", size_bytes=entry["size_bytes"], sha256=hash_file(out),
                meta={k: entry.get(k) for k in ("status", "generation_method", "provider", "error", "cost_usd")},
                prompt_version_id=record.get("prompt_version_id"),
            ))
        details = {"provider": result.provider, "status": entry["status"], **result.provider_details}
        return NodeOutput(files=[out, sidecar], details=details, cost_usd=entry["cost_usd"], attention=attention)
