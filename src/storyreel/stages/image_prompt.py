"""Stage ``image_prompt``: the prompt each provider-generated shot is drawn from (seed 001 §4).

Only shots routed to the image provider have this node (template-rendered shots need no prompt). The
prompt is, in order of precedence: the shot's own ``image_prompt`` (seed 001 assumption 8); else the
``imagegen`` template — sent to the LLM (``--llm``) as its ``# System`` and ``# Input`` sections, or with
the default ``local:direct`` rendered from its ``# Direct`` section without a model call. The template's
content hash is in the node key, so editing ``imagegen.md`` makes exactly these nodes (and the images
drawn from them) stale. Output: ``prompts/<shot>.json`` with the prompt, its source and the template version.
"""

from __future__ import annotations

import json
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.engine.graph import NodeOutput, RecipeParts, Stage
from storyreel.stages.context import ProjectContext
from storyreel.store.ledger import hold

TEMPLATE = "imagegen"
TYPE_PHRASES = {
    "diagram": "A clean explanatory diagram, flat vector illustration",
    "b_roll": "A cinematic scene-setting illustration",
    "screen_share": "A tidy software interface mock-up, flat UI illustration",
    "title_card": "A bold title-card background illustration",
    "talking_head": "A friendly presenter portrait illustration",
}


def styled(prompt: str, style_prefix: str) -> tuple[str, str | None]:
    """``prompt`` with the project's style prefix in front — unless the prefix is empty or the prompt already
    carries it (compared without case, punctuation or spacing) — and the prefix applied (None when none was)."""
    prefix = style_prefix.strip().rstrip(".").strip()
    if not prefix or _plain(prefix) in _plain(prompt):
        return prompt, None
    return f"{prefix}. {prompt}", prefix


def _plain(text: str) -> str:
    return " ".join("".join(ch.lower() if ch.isalnum() else " " for ch in text).split())


def template_values(ctx: ProjectContext, unit: str) -> dict:
    chapter, shot = ctx.storyboard.shot(unit)
    settings = ctx.storyboard.settings
    return {
        "project_title": settings.title, "chapter_title": chapter.title, "visual_type": shot.visual.type,
        "type_phrase": TYPE_PHRASES[shot.visual.type], "description": shot.visual.description,
        "narration": shot.narration, "style_prefix": settings.style.style_prefix.strip().rstrip("."),
        "palette": settings.style.palette, "aspect_ratio": settings.aspect_ratio,
    }


class ImagePromptStage(Stage[ProjectContext]):
    name: ClassVar[str] = "image_prompt"
    code_version: ClassVar[str] = "image_prompt/2"  # /2: a shot's own prompt gets the style prefix
    max_workers: ClassVar[int] = 4

    def units(self, ctx: ProjectContext) -> list[str]:
        return [shot.shot_id for _, shot in ctx.storyboard.shots() if ctx.route(shot.shot_id) == "generated"]

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        _, shot = ctx.storyboard.shot(unit)
        if shot.visual.image_prompt:
            prompt, _ = styled(shot.visual.image_prompt, ctx.storyboard.settings.style.style_prefix)
            return RecipeParts(provider="storyboard:image_prompt", params={"prompt": prompt})
        template = ctx.template(TEMPLATE)
        llm = ctx.llm
        return RecipeParts(
            provider=llm.provider_id,
            params={"values": template_values(ctx, unit), "llm": llm.identity()},
            template_hash=template.content_hash,
        )

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        _, shot = ctx.storyboard.shot(unit)
        out = ctx.paths.prompt_record(unit)
        record: dict = {"shot_id": unit}
        cost = 0.0
        if shot.visual.image_prompt:
            prompt, prefix = styled(shot.visual.image_prompt, ctx.storyboard.settings.style.style_prefix)
            record.update(prompt=prompt, source="storyboard", template=None, own_prompt=shot.visual.image_prompt, style_prefix=prefix)
        else:
            template = ctx.template(TEMPLATE)
            values = template_values(ctx, unit)
            estimate = lambda: ctx.llm.estimate(template, values)  # noqa: E731
            with hold(ctx.ledger, f"image_prompt[{unit}]", ctx.llm.provider_id, estimate, paid=ctx.llm.paid) as held:
                result = ctx.llm.image_prompt(template, values)
                held.commit(result.cost_usd)
            version = ctx.assets.prompt_version(TEMPLATE, template.content_hash, template.content) if ctx.assets else None
            cost = result.cost_usd
            record.update(
                prompt=result.text, source=ctx.llm.provider_id, template=TEMPLATE, template_hash=template.content_hash,
                prompt_version=version.version if version else None, prompt_version_id=version.id if version else None,
                usage=result.usage, cost_usd=result.cost_usd,
            )
        atomic_write_text(out, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return NodeOutput(files=[out], details={k: record.get(k) for k in ("source", "prompt_version", "usage")}, cost_usd=cost)
