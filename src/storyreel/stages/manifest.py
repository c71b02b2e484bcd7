"""Stage ``manifest``: ``images/manifest.json`` (seed 001 §6) from every shot's selected-image sidecar, and
``provenance/imagegen_provenance.json`` (seed 001 §8.1: template name/version/hash, models, input hash,
outputs, tokens, counts, cost).

Per image: chapter and shot IDs, chapter title, visual type, file path, prompt (null for templates),
generation method, provider, size, MIME type, byte size, cost, and ``status`` — ``generated``,
``template``, ``failed`` (provider rejected or kept failing; a template stand-in is in place) or
``skipped`` (not made, e.g. the cost cap was reached) — with the provider's ``error``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.core.hashing import hash_file
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.stages.context import ProjectContext

SCHEMA_VERSION = "1.0"


def _candidates(ctx: ProjectContext, shot_id: str) -> list[dict]:
    out = []
    for path in sorted(ctx.paths.candidates(shot_id).glob("*.meta.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    return out


def manifest_entries(ctx: ProjectContext) -> list[dict]:
    """The per-image entries in storyboard order: the selected image's sidecar (before selection ran, the
    first candidate made); a shot whose candidates all failed is ``failed`` with the first error; a shot
    with neither is ``skipped``."""
    entries = []
    for chapter, shot in ctx.storyboard.shots():
        sidecar = ctx.paths.image_meta(shot.shot_id)
        candidates = _candidates(ctx, shot.shot_id)
        if candidates and all(c.get("file_path") is None for c in candidates):
            first = min(candidates, key=lambda c: c.get("candidate") or 0)
            entries.append({**first, "cost_usd": round(sum(c.get("cost_usd") or 0.0 for c in candidates), 6)})
        elif sidecar.exists():
            entries.append(json.loads(sidecar.read_text(encoding="utf-8")))
        elif made := [c for c in candidates if c.get("file_path")]:  # made, not selected yet (the run stopped at the cap)
            entries.append(min(made, key=lambda c: c.get("candidate") or 0))
        else:
            entries.append({"shot_id": shot.shot_id, "chapter_id": chapter.chapter_id, "chapter_title": chapter.title,
                            "visual_type": shot.visual.type, "file_path": None, "status": "skipped", "error": None})
    return entries


def write_manifest(ctx: ProjectContext) -> dict:
    entries = manifest_entries(ctx)
    counts = {k: sum(e["status"] == k for e in entries) for k in ("generated", "template", "failed", "skipped")}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "project_id": ctx.storyboard.project_id,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": counts,
        "cost_usd": round(sum(e.get("cost_usd") or 0.0 for e in entries), 6),
        "images": entries,
    }
    atomic_write_text(ctx.paths.manifest, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    write_provenance(ctx, manifest)
    return manifest


def write_provenance(ctx: ProjectContext, manifest: dict) -> None:
    prompts = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(ctx.paths.prompts.glob("*.json"))]
    templated = [p for p in prompts if p.get("template")]
    provenance = {
        "stage": "imagegen",
        "project_id": ctx.storyboard.project_id,
        "timestamp": manifest["generated_at"],
        "prompt_name": "imagegen" if templated else None,
        "prompt_version": max((p.get("prompt_version") or 0 for p in templated), default=None),
        "prompt_hash": templated[-1]["template_hash"] if templated else None,
        "model": ctx.llm.provider_id if ctx.llm else None,
        "image_gen_model": ctx.image_provider.provider_id,
        "input_files": [ctx.paths.rel(ctx.paths.storyboard)],
        "input_content_hash": hash_file(ctx.paths.storyboard),
        "output_files": [ctx.paths.rel(ctx.paths.manifest)] + [e["file_path"] for e in manifest["images"] if e.get("file_path")],
        "input_tokens": sum((p.get("usage") or {}).get("input_tokens", 0) for p in prompts),
        "output_tokens": sum((p.get("usage") or {}).get("output_tokens", 0) for p in prompts),
        "image_count": len(manifest["images"]),
        "generated_count": manifest["counts"]["generated"],
        "template_count": manifest["counts"]["template"],
        "failed_count": manifest["counts"]["failed"],
        "skipped_count": manifest["counts"]["skipped"],
        "cost_usd": round(manifest["cost_usd"] + sum(p.get("cost_usd") or 0.0 for p in prompts), 6),
    }
    credits = {json.dumps(e["art_license"], sort_keys=True): e["art_license"] for e in manifest["images"] if e.get("art_license")}
    if credits:  # the artwork's licence travels with the video (OpenMoji: CC BY-SA 4.0, attribution required)
        provenance["artwork"] = list(credits.values())
    atomic_write_text(ctx.paths.provenance / "imagegen_provenance.json", json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")


class ManifestStage(Stage[ProjectContext]):
    name: ClassVar[str] = "manifest"
    code_version: ClassVar[str] = "manifest/3"  # /3: one entry per selected image (select[shot])

    def units(self, ctx: ProjectContext) -> list[str]:
        return ["images"]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("select", shot.shot_id) for _, shot in ctx.storyboard.shots()]

    def requires(self, ctx: ProjectContext, unit: str) -> list[Node]:
        """None: the manifest lists what exists, with ``failed`` / ``skipped`` entries for the rest."""
        return []

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        return RecipeParts(provider="local:manifest", params={"schema_version": SCHEMA_VERSION})

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        manifest = write_manifest(ctx)
        files = [ctx.paths.manifest, ctx.paths.provenance / "imagegen_provenance.json"]
        return NodeOutput(files=files, details={"counts": manifest["counts"]})
