"""Stage ``image``: one image per shot, routed by visual type (seed 001 §4.3).

Visual types listed in the project's ``template_types`` (default ``title_card``, ``talking_head``) are
drawn by the local template renderer; the others go to the configured image provider
(``--image-provider`` / ``STORYREEL_IMAGE_PROVIDER``; ``local:cards`` by default). A shot's own
``image_prompt`` wins over the generated prompt (seed 001 assumption 8).

Only a *content* rejection (moderation, safety block: :class:`ProviderRejected`) gets a template stand-in
so the project still renders: its sidecar records ``status: failed`` with the provider's reason, the node
is marked as needing attention, and the next run retries it (seed 002 §6). Any other provider error —
missing or wrong key, unknown model, retries exhausted, a malformed answer — fails the node loudly: its
sidecar says ``failed`` with the error (so the manifest names it), and only what depends on the shot is
not made. Each node writes ``images/<shot>.png`` and the sidecar ``images/<shot>.meta.json``.
"""

from __future__ import annotations

import json
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import ProviderError
from storyreel.core.hashing import hash_file, seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.providers.base import ImageGenService, ImageRequest, ImageResult
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.stages.context import ProjectContext
from storyreel.store.journal import CallJournal, request_key
from storyreel.store.ledger import hold
from storyreel.store.models import MediaAsset


def route(ctx: ProjectContext, unit: str) -> str:
    """``template`` (local renderer) or ``generated`` (the configured provider) for a shot."""
    _, shot = ctx.storyboard.shot(unit)
    if shot.visual.type in ctx.storyboard.settings.template_types or ctx.image_provider.offline:
        return "template"
    return "generated"


class ImageStage(Stage[ProjectContext]):
    name: ClassVar[str] = "image"
    code_version: ClassVar[str] = "image/3"  # /3: the sidecar is images/<shot>.meta.json
    max_workers: ClassVar[int] = 4

    def concurrency(self, ctx: ProjectContext) -> int:
        """Calls in flight: the provider's own limit, else ``STORYREEL_IMAGE_CONCURRENCY``."""
        return ctx.image_provider.max_concurrency or ctx.settings.image_concurrency

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        """A generated shot reads its prompt record; the prompt enters the key through the payload (below),
        not through the record's version, so a re-written record with the same prompt buys nothing."""
        return [Node("image_prompt", unit)] if route(ctx, unit) == "generated" else []

    def provider_for(self, ctx: ProjectContext, unit: str) -> tuple[ImageGenService, str]:
        """The provider for a shot and the manifest's generation method: ``template`` or ``generated``."""
        method = route(ctx, unit)
        if method == "template" and not ctx.image_provider.offline and ctx.template_provider:
            return ctx.template_provider, method
        return ctx.image_provider, method

    @staticmethod
    def prompt_record(ctx: ProjectContext, unit: str) -> dict:
        return json.loads(ctx.paths.prompt_record(unit).read_text(encoding="utf-8"))

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
            narration=shot.narration if shot.visual.type in ("diagram", "b_roll") else "",
            palette=settings.style.palette,
            width=width,
            height=height,
            seed=seed_for(shot.visual.description),
            language=settings.language,
            camera_move=shot.camera_move,
            text_area=ctx.text_area(unit),
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        """Exactly what is sent (the provider's ``payload``: for a vendor its request body, for the local
        renderer the whole request) plus the output size and the provider's identity — so an edit that
        does not change the request (a diagram's narration) never makes a paid image stale."""
        provider, _ = self.provider_for(ctx, unit)
        request = self.request(ctx, unit)
        return RecipeParts(
            provider=f"{provider.provider_id}@{provider.code_version}",
            params={"payload": provider.payload(request), "size": [request.width, request.height], "provider": provider.identity()},
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        out = ctx.paths.image(unit)
        provider, method = self.provider_for(ctx, unit)
        request = self.request(ctx, unit)
        record = self.prompt_record(ctx, unit) if method == "generated" else {}
        # 1. the image: the provider's, or a template stand-in when it rejects the shot's content
        try:
            entry, result, attention = self._make(ctx, unit, provider, method, request, out)
        except ProviderError as exc:  # the node fails; the sidecar tells the manifest why
            self._record_failure(ctx, unit, provider, method, request, exc)
            raise
        # 2. the sidecar (this shot's manifest entry, seed 001 §6)
        entry["size_bytes"] = out.stat().st_size
        layout = result.provider_details.pop("layout", None)  # the boxes of the text it drew (media/layout.py)
        if layout:
            entry["layout"] = layout
        if "subjects" in result.provider_details:  # what the picture shows, and the artwork's licence
            entry.update(subjects=result.provider_details["subjects"], art_license=result.provider_details["art"])
        if record:
            entry.update(prompt_source=record.get("source"), prompt_version=record.get("prompt_version"))
        sidecar = ctx.paths.image_meta(unit)
        atomic_write_text(sidecar, json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        # 3. the media_assets row (seed 001 §7)
        self._record_asset(ctx, unit, out, entry, record)
        details = {"provider": result.provider, "status": entry["status"], **result.provider_details}
        if method == "generated" and provider.paid:  # recorded with the run: the journal entry is no longer needed
            journal = CallJournal(ctx.paths, request_key(provider.provider_id, provider.payload(request)))
            cleanup = journal.files()
        else:
            cleanup = []
        return NodeOutput(files=[out, sidecar], details=details, cost_usd=entry["cost_usd"], attention=attention, cleanup=cleanup)

    @staticmethod
    def _entry(ctx: ProjectContext, unit: str, provider: ImageGenService, method: str, request: ImageRequest) -> dict:
        """The sidecar's fixed fields (seed 001 §6)."""
        chapter, shot = ctx.storyboard.shot(unit)
        return {
            "shot_id": unit, "chapter_id": chapter.chapter_id, "chapter_title": chapter.title,
            "visual_type": shot.visual.type, "file_path": ctx.paths.rel(ctx.paths.image(unit)),
            "prompt": request.prompt if method == "generated" else None,
            "generation_method": method, "provider": provider.provider_id,
            "size": f"{request.width}x{request.height}", "mime_type": "image/png",
        }

    def _record_failure(self, ctx: ProjectContext, unit: str, provider: ImageGenService, method: str, request: ImageRequest,
                        exc: Exception) -> None:
        entry = {**self._entry(ctx, unit, provider, method, request), "file_path": None, "status": "failed",
                 "error": str(exc), "cost_usd": 0.0}
        atomic_write_text(ctx.paths.image_meta(unit), json.dumps(entry, indent=2, ensure_ascii=False) + "\n")

    def _make(self, ctx: ProjectContext, unit: str, provider: ImageGenService, method: str, request: ImageRequest,
              out) -> tuple[dict, ImageResult, str | None]:  # noqa: ANN001
        """Reserve the estimate, call the provider, commit its cost (any failure releases the
        reservation); a content rejection draws the template stand-in. Returns (sidecar entry, result,
        attention)."""
        entry = self._entry(ctx, unit, provider, method, request)
        try:
            if method == "generated" and provider.paid:
                result = self._bought(ctx, unit, provider, request, out)
            else:
                result = provider.generate(request, out)
        except ProviderRejected as exc:  # a content decision: not billed, a stand-in keeps the video whole
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
    def _bought(ctx: ProjectContext, unit: str, provider: ImageGenService, request: ImageRequest, out) -> ImageResult:  # noqa: ANN001
        """The paid-call protocol (docs/architecture.md "Paid calls"): an answer already in the received
        journal is used as it is (bought by an earlier, interrupted run; its cost is in the ledger);
        otherwise reserve the estimate, call, journal the answer before anything else, book the cost."""
        key = request_key(provider.provider_id, provider.payload(request))
        journal = CallJournal(ctx.paths, key)
        received = journal.load()
        if received is None:
            with hold(ctx.ledger, f"image[{unit}]", provider.provider_id, lambda: provider.estimate(request),
                      paid=True, request_key=key) as held:
                attempt = f"{key}-{ctx.ledger.purchases(key) if ctx.ledger else 0}"  # same on resume, new after a purchase
                received = provider.fetch(request, jobs=journal, key=attempt)
                journal.save(received)
                held.commit(received.cost_usd)
            if provider.bills_once_per_request and ctx.ledger is not None:
                ctx.ledger.settle_uncertain(key)  # an earlier lost attempt of this request was this purchase
        try:
            return provider.finish(request, received, out)
        except MalformedResponse:
            journal.discard()  # a paid answer that does not decode: the next run asks again instead of re-reading it
            raise

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
