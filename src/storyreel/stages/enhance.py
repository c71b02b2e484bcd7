"""Stage ``enhance``: the two-agent prompt enhancement (:mod:`storyreel.prompts.enhance`) in front of the
image provider — ``make`` / ``imagegen --enhance`` (seed 004 story 7.3 / 8.1, FR-037).

One node per provider-routed shot, after its ``image_prompt``: the creative director rewrites the shot's
prompt with the shot's brief (visual type, camera move, the project's style prefix, palette and title),
the critic scores it, until the threshold, the iteration cap or convergence. The node writes the seed's
trace files into ``prompts/<shot>/`` and the record ``prompts/<shot>.enhanced.json`` whose ``prompt`` the
image stage then sends. Offline (``--llm local:…``) the agents are rules and the node is free; with a model
every agent turn is reserved against the cost cap before it runs and booked from its reported tokens.
The key holds the prompt record's version, the agents' identity and the loop's limits, so the loop runs
again only when one of them changes.
"""

from __future__ import annotations

import json
import shutil
from typing import ClassVar

from storyreel.core.atomic import atomic_write_text
from storyreel.engine.graph import Node, NodeOutput, RecipeParts, Stage
from storyreel.prompts.enhance import Brief, Critic, Director, Said, enhance
from storyreel.providers.base import LlmStep
from storyreel.stages.context import ProjectContext
from storyreel.store.ledger import hold


def enhancing(ctx: ProjectContext) -> bool:
    """Whether the project's image prompts go through the enhancement loop (``--enhance``)."""
    return bool(ctx.settings.enhance_prompts)


def agents(llm: LlmStep | None) -> tuple[Director, Critic]:
    """(director, critic): the offline rules when ``llm`` runs no agents (a local LLM, or none), else ``llm``
    as both agents (pydantic-ai, imported only then)."""
    from storyreel.providers.llm.enhance_rules import ChecklistCritic, RuleDirector

    if llm is None or not llm.runs_agents:
        return RuleDirector(), ChecklistCritic()
    from storyreel.providers.llm.enhance_agents import LlmCritic, LlmDirector

    return LlmDirector(llm), LlmCritic(llm)


class Metered:
    """An agent whose every turn is reserved (its ``estimate``) and booked in the ledger as ``node``."""

    def __init__(self, agent: Director | Critic, ctx: ProjectContext, node: str) -> None:
        self.agent, self.ctx, self.node = agent, ctx, node
        self.provider_id = agent.provider_id
        self.paid = agent.paid

    def _turn(self, call, estimate) -> Said:  # noqa: ANN001
        with hold(self.ctx.ledger, self.node, self.provider_id, estimate, paid=self.paid) as held:
            said = call()
            held.commit(said.cost_usd)
        return said

    def rewrite(self, prompt: str, feedback: list[str], brief: Brief) -> Said:
        return self._turn(lambda: self.agent.rewrite(prompt, feedback, brief), lambda: self.agent.estimate(prompt, brief))

    def critique(self, prompt: str, brief: Brief) -> Said:
        return self._turn(lambda: self.agent.critique(prompt, brief), lambda: self.agent.estimate(prompt, brief))


class EnhanceStage(Stage[ProjectContext]):
    name: ClassVar[str] = "enhance"
    code_version: ClassVar[str] = "enhance/1"
    max_workers: ClassVar[int] = 4

    def units(self, ctx: ProjectContext) -> list[str]:
        if not enhancing(ctx):
            return []
        return [shot.shot_id for _, shot in ctx.storyboard.shots() if ctx.route(shot.shot_id) == "generated"]

    def inputs(self, ctx: ProjectContext, unit: str) -> list[Node]:
        return [Node("image_prompt", unit)]

    @staticmethod
    def brief(ctx: ProjectContext, unit: str) -> Brief:
        _, shot = ctx.storyboard.shot(unit)
        settings = ctx.storyboard.settings
        return Brief(kind="image", visual_type=shot.visual.type, camera_move=shot.camera_move,
                     style=settings.style.style_prefix.strip().rstrip(".") or None, palette=list(settings.style.palette),
                     aspect_ratio=settings.aspect_ratio)

    def recipe(self, ctx: ProjectContext, unit: str) -> RecipeParts:
        director, critic = agents(ctx.llm)
        s = ctx.settings
        return RecipeParts(provider=f"{director.provider_id}+{critic.provider_id}", params={
            "llm": ctx.llm.identity() if ctx.llm is not None and ctx.llm.runs_agents else None,
            "threshold": s.enhance_threshold, "max_iterations": s.enhance_max_iterations, "brief": self.brief(ctx, unit).__dict__,
        })

    def run(self, ctx: ProjectContext, unit: str) -> NodeOutput:
        record = json.loads(ctx.paths.prompt_record(unit).read_text(encoding="utf-8"))
        director, critic = agents(ctx.llm)
        node = f"enhance[{unit}]"
        trace = ctx.paths.prompts / unit
        if trace.is_dir():  # the previous run's versions: a new run's numbering starts at 00 again
            shutil.rmtree(trace)
        result = enhance(record["prompt"], Metered(director, ctx, node), Metered(critic, ctx, node), self.brief(ctx, unit),
                         threshold=ctx.settings.enhance_threshold, max_iterations=ctx.settings.enhance_max_iterations, trace_dir=trace)
        out = ctx.paths.enhanced_prompt(unit)
        enhanced = {"shot_id": unit, "prompt": result.final, "original": result.original, "score": result.final_score,
                    "stop_reason": result.stop_reason, "iterations": len(result.iterations), "trace": ctx.paths.rel(trace),
                    "usage": result.usage, "cost_usd": result.cost_usd}
        atomic_write_text(out, json.dumps(enhanced, indent=2, ensure_ascii=False) + "\n")
        files = [out, *sorted(p for p in trace.iterdir() if p.is_file())]
        details = {"score": result.final_score, "stop_reason": result.stop_reason, "iterations": len(result.iterations)}
        return NodeOutput(files=files, details=details, cost_usd=result.cost_usd, versioned=[out])
