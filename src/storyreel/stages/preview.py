"""The preview profile (issue 28 item 5): the render stages again at 540p with a fast encoder setting, writing under
``preview/``, so an edit can be watched in seconds while the 1080p delivery render stays the export.

The preview is the same pipeline: images, narration, vendor clips and the soundtrack are the project's own nodes
(shared with the delivery — the soundtrack does not depend on the picture size), and the picture stages — ``clip``,
``segment``, ``render`` — run as their own nodes ``clip@preview[…]``, ``segment@preview[…]``, ``render@preview[video]``
with the preview's context: keys, run records and files of their own, so the preview and the delivery never make each
other stale, and each is cached (an edit undone gives back the preview it had, from the build cache). QC is not run on
a preview: it is a picture to look at, never delivered.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.stages.clip import ClipStage, SegmentStage
from storyreel.stages.context import ProjectContext
from storyreel.stages.pipeline import MEDIA_STAGES
from storyreel.stages.render import RenderStage
from storyreel.store.files import PreviewPaths

PROFILE = "preview"
RESOLUTION = "540p"
"""The preview's size: 960×540 at 16:9 — a quarter of 1080p's pixels, sharp enough in the editor's player."""
PRESET, CRF = "ultrafast", 26
"""x264's fastest preset at a CRF that keeps text readable at 540p (the preview is watched once, then replaced)."""
PICTURE_STAGES = frozenset({ClipStage.name, SegmentStage.name, RenderStage.name})
"""The stages that run again at the preview profile (everything else is shared with the delivery)."""


def preview_context(ctx: ProjectContext) -> ProjectContext:
    """``ctx`` at the preview profile: 540p, the fast encoder setting, outputs under ``preview/``. The two contexts stay
    linked: narration made (or put back) through ``ctx`` makes the preview measure its timeline anew."""
    settings = ctx.settings.model_copy(update={"resolution": RESOLUTION})
    encoding = replace(ctx.encoding, preset=PRESET, crf=CRF) if ctx.encoding.codec == "libx264" else ctx.encoding
    preview = replace(ctx, paths=PreviewPaths(ctx.paths), settings=settings, encoding=encoding, _templates={}, _narration={}, followers=[])
    ctx.followers.append(preview)
    return preview


class Profiled(Stage[Any]):
    """``inner`` at a profile: its nodes are ``<stage>@<profile>[unit]``, it reads ``pctx`` whatever context it is
    given, and its inputs among ``renamed`` stages are their profiled nodes (a preview segment reads preview clips)."""

    def __init__(self, inner: Stage[Any], pctx: Any, profile: str = PROFILE, renamed: frozenset[str] = PICTURE_STAGES) -> None:
        self.inner, self.pctx, self.profile, self.renamed = inner, pctx, profile, renamed
        self.name = f"{inner.name}@{profile}"  # type: ignore[misc] - per instance
        self.code_version = inner.code_version  # type: ignore[misc]
        self.pool = inner.pool  # type: ignore[misc] - one encode pool with the shared soundtrack stages
        self.max_workers = inner.max_workers  # type: ignore[misc]
        self.editable_output = inner.editable_output  # type: ignore[misc]

    def _map(self, nodes: list[Node]) -> list[Node]:
        return [Node(f"{n.stage}@{self.profile}", n.unit) if n.stage in self.renamed else n for n in nodes]

    def units(self, ctx: Any) -> list[str]:
        return self.inner.units(self.pctx)

    def inputs(self, ctx: Any, unit: str) -> list[Node]:
        return self._map(self.inner.inputs(self.pctx, unit))

    def requires(self, ctx: Any, unit: str) -> list[Node]:
        return self._map(self.inner.requires(self.pctx, unit))

    def concurrency(self, ctx: Any) -> int:
        return self.inner.concurrency(self.pctx)

    def cost_hint(self, ctx: Any, unit: str) -> float:
        return self.inner.cost_hint(self.pctx, unit)

    def recipe(self, ctx: Any, unit: str) -> RecipeParts:
        return self.inner.recipe(self.pctx, unit)

    def run(self, ctx: Any, unit: str) -> NodeOutput:
        return self.inner.run(self.pctx, unit)

    def reused(self, ctx: Any, unit: str) -> None:
        self.inner.reused(self.pctx, unit)


def preview_stages(ctx: ProjectContext) -> list[Stage[Any]]:
    """The pipeline of a preview: every media stage, the picture stages at the preview profile, no QC."""
    pctx = preview_context(ctx)
    return [Profiled(s, pctx) if s.name in PICTURE_STAGES else s for s in MEDIA_STAGES if s.name != "qc"]
