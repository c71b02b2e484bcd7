"""Stage ``image``: N candidate images per shot (best-of-N), routed by visual type (seed 001 §4.3).

Visual types listed in the project's ``template_types`` (default ``title_card``, ``talking_head``) are
drawn by the local template renderer; the others go to the configured image provider
(``--image-provider`` / ``STORYREEL_IMAGE_PROVIDER``; ``local:cards`` by default). A shot's own
``image_prompt`` wins over the generated prompt (seed 001 assumption 8).

Only a *content* rejection (moderation, safety block: :class:`ProviderRejected`) gets a template stand-in
so the project still renders: its sidecar records ``status: failed`` with the provider's reason, the node
is marked as needing attention, and the next run retries it (seed 002 §6). Any other provider error —
missing or wrong key, unknown model, retries exhausted, a malformed answer — fails the candidate loudly:
its sidecar says ``failed`` with the error (so the manifest names it).

Candidates (project option ``candidates``, ``--candidates N``, 1–8): candidate ``i`` is
``images/<shot>/<i>.png`` (a vendor's image as drawn, at its size — nothing is decoded or resampled until
``select`` fits the chosen one to the frame) with its sidecar ``<i>.meta.json`` and its own ``media_assets`` row, made with
its own recorded seed (candidate 1 keeps the shot's seed, so N=1 renders what it always did) and, for a
paid provider, its own request key, reservation and ledger entry. A candidate whose sidecar records the
same request key and whose file still has the recorded hash is kept as it is (raising N from 3 to 4 buys
one image, not four), unless the node was forced. A failed candidate fails the shot only when no
candidate succeeded; otherwise the node needs attention and the next run retries the failed ones. The
``select`` stage (:mod:`storyreel.stages.select`) scores them and writes the shot's image.
"""

from __future__ import annotations

import contextvars
import json
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.cancel import checkpoint
from storyreel.core.errors import MalformedResponse, ProviderError, ProviderRejected, UncertainCall
from storyreel.core.hashing import hash_file, seed_for
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage, forced
from storyreel.providers.base import ImageGenService, ImageRequest, ImageResult, ReferenceImage, request_key
from storyreel.stages.context import ProjectContext
from storyreel.stages.purchase import image_purchase
from storyreel.stages.stage_image import scene_of, stage_image_path
from storyreel.stages.reference import reference_nodes
from storyreel.store.journal import CallJournal
from storyreel.store.models import MediaAsset


def candidate_seed(description: str, index: int, entities: list[str] | None = None) -> int:
    """The recorded seed of candidate ``index`` (1-based): the description's seed for the first, so one
    candidate renders what storyreel always rendered; a distinct stable seed for each other. A shot that
    shows entities takes its consistency group's seeds instead — the same for every shot showing the same
    entities (seed 004 story 7.4: reuse seeds per consistency group), so a seeded vendor draws them alike."""
    if entities:
        return seed_for(f"entities:{','.join(sorted(entities))}\x00candidate {index}")
    return seed_for(description) if index == 1 else seed_for(f"{description}\x00candidate {index}")


def candidate_key(provider: ImageGenService, request: ImageRequest, index: int) -> str:
    """The request key of candidate ``index``: the first's is the plain :func:`request_key` (journals and
    idempotency keys of earlier runs stay valid); the others' include the index, so a vendor without a
    seed parameter (identical payloads) is still asked for, and bills, a distinct image."""
    payload = provider.payload(request)
    return request_key(provider.provider_id, payload if index == 1 else {"payload": payload, "candidate": index})


class ImageStage(Stage[ProjectContext]):
    name: ClassVar[str] = "image"
    fans_out: ClassVar[bool] = True  # another worker may run it (issue 29): it reads its inputs and the project files
    code_version: ClassVar[str] = "image/5"  # /5: a vendor's candidates kept at the size drawn (select fits the chosen one)
    max_workers: ClassVar[int] = 4

    @staticmethod
    def limit(ctx: ProjectContext) -> int:
        """Calls in flight: the provider's own limit, else ``STORYREEL_IMAGE_CONCURRENCY``."""
        return ctx.image_provider.max_concurrency or ctx.settings.image_concurrency

    def concurrency(self, ctx: ProjectContext) -> int:
        """Shots at once: the call limit, doubled when the provider's client holds the calls in flight to
        that limit itself (``client_caps_calls``) — then a shot whose answer is being decoded and saved does
        not keep the next shot's call from starting."""
        return self.limit(ctx) * (2 if ctx.image_provider.client_caps_calls else 1)

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots()]

    def cost_hint(self, ctx: ProjectContext, unit: str) -> float:
        """A shot sent to a vendor starts first: its node mostly waits on the network, and that wait then
        overlaps the local work of the shots the template renderer draws."""
        provider, method = self.provider_for(ctx, unit)
        return 4.0 if method == "generated" and not provider.offline else 1.0

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        """A generated shot reads its prompt record; the prompt enters the key through the payload (below),
        not through the record's version, so a re-written record with the same prompt buys nothing."""
        refs = reference_nodes(ctx, unit)  # drawn references must exist before a request can name them
        scene = scene_of(ctx, unit)
        if scene is not None:  # a story shot is drawn with its scene's stage picture as a reference (issue 27)
            refs = refs + [Node("stage_image", scene)]
        if ctx.route(unit) != "generated":
            return refs
        return [Node("image_prompt", unit)] + ([Node("enhance", unit)] if ctx.settings.enhance_prompts else []) + refs

    @staticmethod
    def count(ctx: ProjectContext) -> int:
        """Candidates per shot (``image_candidates`` setting / the project's ``candidates`` option)."""
        return ctx.settings.image_candidates

    def provider_for(self, ctx: ProjectContext, unit: str) -> tuple[ImageGenService, str]:
        """The provider for a shot and the manifest's generation method: ``template`` or ``generated``."""
        method = ctx.route(unit)
        if method == "template" and not ctx.image_provider.offline and ctx.template_provider:
            return ctx.template_provider, method
        return ctx.image_provider, method

    @staticmethod
    def prompt_record(ctx: ProjectContext, unit: str) -> dict:
        """The shot's prompt record; with ``--enhance`` its prompt is the enhancement loop's result."""
        record = json.loads(ctx.paths.prompt_record(unit).read_text(encoding="utf-8"))
        if ctx.settings.enhance_prompts and ctx.paths.enhanced_prompt(unit).exists():  # (a dry run may come before it)
            enhanced = json.loads(ctx.paths.enhanced_prompt(unit).read_text(encoding="utf-8"))
            record.update(prompt=enhanced["prompt"], draft_prompt=record["prompt"], enhanced_score=enhanced["score"])
        return record

    def request(self, ctx: ProjectContext, unit: str, prompt: str | None = None, candidate: int = 1) -> ImageRequest:
        """The provider request for a shot's candidate (1-based). Generated shots take the prompt of their
        ``image_prompt`` node (or ``prompt`` when given); template shots the style prefix plus the
        description, unless the shot has its own ``image_prompt`` (which wins, seed 001 assumption 8).
        Diagrams also see the narration."""
        chapter, shot = ctx.storyboard.shot(unit)
        settings = ctx.storyboard.settings
        width, height = ctx.frame_size
        if prompt is None and ctx.route(unit) == "generated":
            prompt = self.prompt_record(ctx, unit)["prompt"]
        elif prompt is None:
            prompt = shot.visual.image_prompt or f"{settings.style.style_prefix} {shot.visual.description}".strip()
        provider, _ = self.provider_for(ctx, unit)
        references = [ReferenceImage(label=label, sha256=hash_file(path), path=str(path)) for label, path in ctx.references(unit)] \
            if provider.accepts_reference_images else []
        scene = scene_of(ctx, unit)
        stage = stage_image_path(ctx, scene) if scene is not None else None
        if stage is not None and provider.accepts_reference_images and stage.is_file() and len(references) < 8:
            references.append(ReferenceImage(label="the scene's stage-setting picture", sha256=hash_file(stage), path=str(stage), role="stage"))
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
            seed=candidate_seed(shot.visual.description, candidate, shot.visual.entities),
            language=settings.language,
            camera_move=shot.camera_move,
            text_area=ctx.text_area(unit),
            variant=candidate - 1,
            references=references,
        )

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        """Exactly what is sent for each candidate (the provider's ``payload``: for a vendor its request
        body, for the local renderer the whole request) plus the output size and the provider's identity —
        so an edit that does not change the requests (a diagram's narration) never makes a paid image stale."""
        provider, _ = self.provider_for(ctx, unit)
        requests = [self.request(ctx, unit, candidate=i) for i in range(1, self.count(ctx) + 1)]
        payloads = [provider.payload(r) for r in requests]
        fallback = self.fallback_for(ctx, provider, ctx.route(unit))
        return RecipeParts(
            provider=f"{provider.provider_id}@{provider.code_version}",
            params={"payload": payloads[0], **({"candidates": payloads[1:]} if len(payloads) > 1 else {}),
                    "size": [requests[0].width, requests[0].height], "provider": provider.identity(),
                    **({"fallback": f"{fallback.provider_id}@{fallback.code_version}"} if fallback is not None else {})},
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        provider, method = self.provider_for(ctx, unit)
        record = self.prompt_record(ctx, unit) if method == "generated" else {}
        count = self.count(ctx)
        ctx.paths.candidates(unit).mkdir(parents=True, exist_ok=True)
        # 1. every candidate: kept when its request and file are unchanged, else made (a failure is recorded)
        made: dict[int, dict] = {}
        failures: dict[int, ProviderError] = {}
        cleanup: list = []
        cost = 0.0
        todo = []
        fallback = self.fallback_for(ctx, provider, method)
        for index in range(1, count + 1):
            request = self.request(ctx, unit, candidate=index)
            key = candidate_key(provider, request, index)
            kept = None if forced() else self._kept(ctx, unit, index, key)
            if kept is None and fallback is not None and not forced():  # made by the fallback model on an earlier run
                kept = self._kept(ctx, unit, index, candidate_key(fallback, request, index))
            if kept is None:
                todo.append((index, request, key))
                continue
            made[index] = kept
            if method == "generated" and provider.paid:  # bought by a run that stopped before recording it
                cleanup += CallJournal(ctx.paths, key).files()

        def make(chunk: list[tuple[int, ImageRequest, str]]) -> list[tuple[int, dict | None, ProviderError | None]]:
            checkpoint()
            if len(chunk) > 1:
                done = self._batch(ctx, unit, chunk, provider, method, record)
            else:
                index, request, key = chunk[0]
                try:
                    done = [(index, self._candidate(ctx, unit, index, provider, method, request, key, record), None)]
                except ProviderError as exc:
                    self._record_failure(ctx, unit, index, provider, method, request, key, exc)
                    done = [(index, None, exc)]
            if fallback is None:
                return done
            requests = {index: request for index, request, _ in chunk}
            return [self._fallback(ctx, unit, index, fallback, method, requests[index], record, exc) if exc is not None
                    and not isinstance(exc, UncertainCall) else (index, entry, exc) for index, entry, exc in done]

        size = provider.max_candidates if method == "generated" and provider.paid and ctx.settings.image_batch else 1  # native batch (n)
        chunks = [todo[i:i + size] for i in range(0, len(todo), max(1, size))]
        for index, entry, exc in (item for done in self._each(ctx, provider, method, chunks, make) for item in done):
            if exc is not None:
                failures[index] = exc
                continue
            made[index] = entry
            cost += entry["cost_usd"]
            if method == "generated" and provider.paid:  # recorded with the run: the journal entry is no longer needed
                cleanup += CallJournal(ctx.paths, entry["request_key"]).files()
        self._drop_beyond(ctx, unit, count)
        # 2. no candidate at all: a content rejection gets the template stand-in, anything else fails the node
        if not made:
            first = failures[min(failures)]
            if not isinstance(first, ProviderRejected) or method != "generated" or ctx.template_provider is None:
                raise first
            made[1] = self._stand_in(ctx, unit, provider, method, first, record)
        failed = {i: str(e) for i, e in failures.items() if i not in made}
        stand_in = next((e for e in made.values() if e.get("stand_in")), None)
        attention = None
        if stand_in is not None:
            attention = f"{provider.provider_id} failed: {stand_in['error']}"
        elif failed:
            attention = "; ".join(f"candidate {i} failed: {msg}" for i, msg in sorted(failed.items()))
        files = [p for i in range(1, count + 1) for p in (ctx.paths.candidate(unit, i), ctx.paths.candidate_meta(unit, i)) if p.exists()]
        details = {"provider": provider.provider_id, "candidates": count, "made": sorted(made), "failed": sorted(failed)}
        return NodeOutput(files=files, details=details, cost_usd=round(cost, 6), attention=attention, cleanup=cleanup)

    @staticmethod
    def fallback_for(ctx: ProjectContext, provider: ImageGenService, method: str) -> ImageGenService | None:
        """The provider asked when ``provider`` fails a generated shot (``image_fallback``), or None."""
        fallback = ctx.fallback_image_provider
        if fallback is None or method != "generated" or fallback.provider_id == provider.provider_id:
            return None
        return fallback

    def _fallback(self, ctx: ProjectContext, unit: str, index: int, fallback: ImageGenService, method: str, request: ImageRequest,
                  record: dict, first: ProviderError) -> tuple[int, dict | None, ProviderError | None]:
        """Candidate ``index`` asked of the fallback provider after the image provider failed with ``first`` (never after
        a lost answer: that call may have been made). The entry says so (``fallback_from``)."""
        request = self._for(fallback, request)
        key = candidate_key(fallback, request, index)
        try:
            entry = self._candidate(ctx, unit, index, fallback, method, request, key, record)
        except ProviderError as exc:
            self._record_failure(ctx, unit, index, fallback, method, request, key, exc)
            return index, None, ProviderError(f"{first}; then the fallback {fallback.provider_id}: {exc}")
        entry["fallback_from"] = f"{first}"[:300]
        atomic_write_text(ctx.paths.candidate_meta(unit, index), json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        return index, entry, None

    @staticmethod
    def _for(provider: ImageGenService, request: ImageRequest) -> ImageRequest:
        """``request`` as ``provider`` takes it (no reference images for a provider without input images)."""
        return request if provider.accepts_reference_images else request.model_copy(update={"references": []})

    def _each(self, ctx: ProjectContext, provider: ImageGenService, method: str, todo: list, make) -> list:  # noqa: ANN001
        """``make`` applied to every candidate to make: one after the other for a local engine (it already
        has a worker per shot), concurrently for a vendor — up to the stage's concurrency, while the
        vendor's client caps the calls in flight across all shots — so N candidates of the last shots do
        not wait for each other (issue 13: N=4 within 1.15× of the ideal under a concurrency limit).
        Each worker runs in a copy of the caller's context (the job's cancel, ``forced()``)."""
        workers = min(len(todo), self.limit(ctx)) if method == "generated" and not provider.offline else 1
        if workers <= 1:
            return [make(item) for item in todo]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sr-candidate") as pool:
            futures = [pool.submit(contextvars.copy_context().run, make, item) for item in todo]
            return [f.result() for f in futures]

    # ------------------------------------------------------------------------------ one candidate
    @staticmethod
    def _kept(ctx: ProjectContext, unit: str, index: int, key: str) -> dict | None:
        """The sidecar of candidate ``index`` when it was made from the same request and its file still has
        the recorded hash; None otherwise (a failed or stand-in candidate is always made again)."""
        try:
            entry = json.loads(ctx.paths.candidate_meta(unit, index).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        out = ctx.paths.candidate(unit, index)
        if entry.get("candidate_key", entry.get("request_key")) != key or entry.get("status") == "failed" or not out.exists():
            return None
        return entry if entry.get("sha256") == hash_file(out) else None

    def _candidate(self, ctx: ProjectContext, unit: str, index: int, provider: ImageGenService, method: str,
                   request: ImageRequest, key: str, record: dict) -> dict:
        """Make candidate ``index``: the image, its sidecar (this candidate's manifest entry, seed 001 §6,
        plus index, seed, request key and hash) and its ``media_assets`` row. Raises
        :class:`ProviderError` (nothing is written then but the failure sidecar, by the caller)."""
        out = ctx.paths.candidate(unit, index)
        if method == "generated" and provider.paid:
            result = image_purchase(ctx, f"image[{unit}]", provider, request, key, [out], fit=False)[0]
        else:
            result = provider.generate(request, out)
        entry = self._entry(ctx, unit, index, provider, method, request, key)
        entry.update(status="generated" if method == "generated" else "template", error=None, cost_usd=result.cost_usd)
        return self._finish(ctx, unit, index, out, entry, result, record)

    def _batch(self, ctx: ProjectContext, unit: str, chunk: list, provider: ImageGenService, method: str,
               record: dict) -> list[tuple[int, dict | None, ProviderError | None]]:
        """Several candidates in one paid call (the vendor's native batch ``n``): one reservation of the whole
        batch's estimate, one journal entry with every image, the cost shared among them. Each candidate
        still gets its own file, sidecar (``request_key``: the batch's; ``candidate_key``: its own, so it is
        kept on the next run) and ``media_assets`` row. Images the answer lacks are failed candidates."""
        first_index, first, _ = chunk[0]
        batch = first.model_copy(update={"count": len(chunk)})
        key = candidate_key(provider, batch, first_index)
        outs = [ctx.paths.candidate(unit, index) for index, _, _ in chunk]
        try:
            results = image_purchase(ctx, f"image[{unit}]", provider, batch, key, outs, fit=False)
        except ProviderError as exc:
            for index, request, ckey in chunk:
                self._record_failure(ctx, unit, index, provider, method, request, ckey, exc)
            return [(index, None, exc) for index, _, _ in chunk]
        done: list[tuple[int, dict | None, ProviderError | None]] = []
        rows: list[MediaAsset] = []  # the batch's media_assets rows, inserted in one transaction
        for position, (index, request, ckey) in enumerate(chunk):
            if position >= len(results):
                exc = MalformedResponse(f"{provider.provider_id}: the answer holds {len(results)} of the {len(chunk)} images asked for")
                self._record_failure(ctx, unit, index, provider, method, request, ckey, exc)
                done.append((index, None, exc))
                continue
            entry = self._entry(ctx, unit, index, provider, method, request, ckey)
            entry.update(status="generated", error=None, cost_usd=results[position].cost_usd, request_key=key, batch=len(chunk))
            done.append((index, self._finish(ctx, unit, index, outs[position], entry, results[position], record, rows), None))
        if rows and ctx.assets is not None:
            ctx.assets.add(*rows)
        return done

    def _stand_in(self, ctx: ProjectContext, unit: str, provider: ImageGenService, method: str, exc: ProviderRejected,
                  record: dict) -> dict:
        """Candidate 1 drawn by the template renderer because the provider rejected the shot's content."""
        request = self.request(ctx, unit)
        out = ctx.paths.candidate(unit, 1)
        result = ctx.template_provider.generate(request, out)
        entry = self._entry(ctx, unit, 1, provider, method, request, None)
        entry.update(status="failed", error=str(exc), cost_usd=0.0, stand_in=ctx.template_provider.provider_id)
        return self._finish(ctx, unit, 1, out, entry, result, record)

    def _finish(self, ctx: ProjectContext, unit: str, index: int, out, entry: dict, result: ImageResult, record: dict,  # noqa: ANN001
                rows: list[MediaAsset] | None = None) -> dict:
        """Complete candidate ``index``'s sidecar (size, hash, layout, what it shows), write it and its
        ``media_assets`` row — or append the row to ``rows`` for the caller to insert with others."""
        entry["size_bytes"] = out.stat().st_size
        entry["sha256"] = hash_file(out)
        details = dict(result.provider_details)
        if "size" in details:  # a vendor's image kept at the size it was drawn (select fits the chosen one)
            entry["size"] = details.pop("size")
        layout = details.pop("layout", None)  # the boxes of the text it drew (media/layout.py)
        if layout:
            entry["layout"] = layout
        if "subjects" in details:  # what the picture shows, and the artwork's licence
            entry.update(subjects=details["subjects"], art_license=details["art"])
        entry["metadata"] = details
        if record:
            entry.update(prompt_source=record.get("source"), prompt_version=record.get("prompt_version"))
        atomic_write_text(ctx.paths.candidate_meta(unit, index), json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        row = self._asset(ctx, unit, out, entry, record)
        if row is not None and rows is not None:
            rows.append(row)
        elif row is not None:
            ctx.assets.add(row)
        return entry

    @staticmethod
    def _entry(ctx: ProjectContext, unit: str, index: int, provider: ImageGenService, method: str, request: ImageRequest,
               key: str | None) -> dict:
        """The sidecar's fixed fields (seed 001 §6) and the candidate's identity."""
        chapter, shot = ctx.storyboard.shot(unit)
        return {
            "shot_id": unit, "chapter_id": chapter.chapter_id, "chapter_title": chapter.title,
            "visual_type": shot.visual.type, "file_path": ctx.paths.rel(ctx.paths.candidate(unit, index)),
            "prompt": request.prompt if method == "generated" else None,
            "generation_method": method, "provider": provider.provider_id,
            "size": f"{request.width}x{request.height}", "mime_type": "image/png",
            "candidate": index, "seed": request.seed, "request_key": key, "candidate_key": key,
            **({"references_sent": [r.label for r in request.references]} if request.references else {}),
            **({"references_not_sent": "the provider takes no input images: the description only"}
               if not provider.accepts_reference_images and shot.visual.entities else {}),
        }

    def _record_failure(self, ctx: ProjectContext, unit: str, index: int, provider: ImageGenService, method: str,
                        request: ImageRequest, key: str, exc: Exception) -> None:
        entry = {**self._entry(ctx, unit, index, provider, method, request, key), "file_path": None, "status": "failed",
                 "error": str(exc), "cost_usd": 0.0}
        ctx.paths.candidate(unit, index).unlink(missing_ok=True)
        atomic_write_text(ctx.paths.candidate_meta(unit, index), json.dumps(entry, indent=2, ensure_ascii=False) + "\n")

    @staticmethod
    def _drop_beyond(ctx: ProjectContext, unit: str, count: int) -> None:
        """Remove candidates numbered above ``count`` (N was lowered): the folder shows exactly N."""
        for path in ctx.paths.candidates(unit).glob("*.*"):
            stem = path.name.split(".", 1)[0].removeprefix("request-")
            if stem.isdigit() and int(stem) > count:
                path.unlink(missing_ok=True)

    @staticmethod
    def _asset(ctx: ProjectContext, unit: str, out, entry: dict, record: dict) -> MediaAsset | None:  # noqa: ANN001
        """The candidate's ``media_assets`` row (None without an asset store)."""
        if ctx.assets is None:
            return None
        chapter, _ = ctx.storyboard.shot(unit)
        return MediaAsset(
            project_id=ctx.storyboard.project_id, asset_type="IMAGE", chapter_id=chapter.chapter_id, shot_id=unit,
            file_path=ctx.paths.rel(out), mime_type="image/png", size_bytes=entry["size_bytes"], sha256=entry["sha256"],
            meta={k: entry.get(k) for k in ("status", "generation_method", "provider", "error", "cost_usd", "candidate", "seed")},
            prompt_version_id=record.get("prompt_version_id"),
        )
