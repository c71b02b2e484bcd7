"""Two-agent prompt enhancement (seed 004 story 7.3 / 8.1, FR-037).

A *creative director* rewrites a prompt; a *critic* scores it 0–100 on completeness, specificity,
professionalism, cinematography and brand alignment with concrete feedback; the director rewrites again
with that feedback. The loop stops at the first of: the overall score reaches ``threshold`` (default 85),
``max_iterations`` rounds (default 3), or convergence — a round that gains less than ``min_gain`` (2)
points over the previous one. The result is the best-scored version.

Every version is kept as seed 004 §8.1 names the files, in order: ``00_original_prompt.txt``,
``01_agent1_iteration_1.txt`` (director), ``02_agent2_iteration_1.txt`` (critique and scores),
``03_agent1_iteration_2.txt``, …, then ``NN_final_enhanced_prompt.txt`` and ``prompt_trace_summary.json``
(scores per iteration, stop reason, timestamps, tokens and cost).

The agents are objects with ``rewrite(prompt, feedback, brief) -> Said`` and ``critique(prompt, brief) ->
Critique``-bearing ``Said``; offline they are rules (:mod:`storyreel.providers.llm.enhance_rules`), with a
model they are pydantic-ai agents (:mod:`storyreel.providers.llm.enhance_agents`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from storyreel.core.atomic import atomic_write_text

PromptKind = Literal["image", "video"]

WEIGHTS = {"completeness": 0.25, "specificity": 0.25, "professionalism": 0.15, "cinematography": 0.2, "brand_alignment": 0.15}
"""Weights of the overall score (sum 1). Seed 004 asks for a weighted average without giving weights: what
the image must show (completeness, specificity) weighs most, then how it is shot, then tone and brand."""


class Critique(BaseModel):
    """The critic's verdict on one prompt: five scores 0–100 and concrete feedback (what to add or change)."""

    completeness: int = Field(ge=0, le=100, description="Does it have subject, action, setting, lighting, framing, style?")
    specificity: int = Field(ge=0, le=100, description="Are the visual details clear and unambiguous?")
    professionalism: int = Field(ge=0, le=100, description="Is it ad-quality natural language (no keyword stuffing)?")
    cinematography: int = Field(ge=0, le=100, description="Camera, lens, framing, composition and lighting cues.")
    brand_alignment: int = Field(ge=0, le=100, description="Brand name, palette and tone as the brief gives them.")
    feedback: list[str] = Field(default_factory=list, max_length=12, description="Concrete changes, one per line.")

    @property
    def overall(self) -> float:
        """The weighted average of the five scores (:data:`WEIGHTS`), 0–100."""
        return round(sum(getattr(self, k) * w for k, w in WEIGHTS.items()), 2)


@dataclass
class Brief:
    """What the agents know besides the prompt: the kind of prompt, the shot's visual type and camera move,
    the project's style, palette (hex), brand and aspect ratio. Every field is optional.

    For a motion prompt (``kind="video"``, seed 004 stories 8.3, 8.4, 9.1): ``duration_s`` (the clip's length),
    ``end_state`` (how the shot ends: the end frame's description), ``before``/``after`` (the neighbouring shots'
    descriptions, so the shots read as one continuous story) and ``limit`` (the video model's prompt limit in
    characters)."""

    kind: PromptKind = "image"
    visual_type: str | None = None
    camera_move: str | None = None
    style: str | None = None
    palette: list[str] = field(default_factory=list)
    brand: str | None = None
    aspect_ratio: str | None = None
    duration_s: float | None = None
    end_state: str | None = None
    before: str | None = None
    after: str | None = None
    limit: int | None = None


@dataclass
class Said:
    """One agent turn: its text (a prompt) or critique, with token usage and cost in USD."""

    text: str = ""
    critique: Critique | None = None
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0


class Director(Protocol):
    """The agent that rewrites the prompt. ``paid``: its turns are priced (``estimate`` in USD before each)."""

    provider_id: str
    paid: bool

    def estimate(self, prompt: str, brief: Brief) -> float: ...

    def rewrite(self, prompt: str, feedback: list[str], brief: Brief) -> Said: ...


class Critic(Protocol):
    """The agent that scores the prompt and says what to change. ``paid`` as for :class:`Director`."""

    provider_id: str
    paid: bool

    def estimate(self, prompt: str, brief: Brief) -> float: ...

    def critique(self, prompt: str, brief: Brief) -> Said: ...


class Enhancement(BaseModel):
    """The loop's outcome: ``final`` is the best-scored version; ``stop_reason`` is ``threshold``,
    ``max_iterations`` or ``converged``."""

    original: str
    final: str
    final_score: float
    stop_reason: Literal["threshold", "max_iterations", "converged"]
    iterations: list[dict[str, Any]]
    trace_dir: str | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float = 0.0


def enhance(prompt: str, director: Director, critic: Critic, brief: Brief | None = None, *, threshold: float = 85.0,
            max_iterations: int = 3, min_gain: float = 2.0, trace_dir: Path | None = None) -> Enhancement:
    """Run the director/critic loop on ``prompt`` (see the module text); write the trace files into
    ``trace_dir`` when given. Raises ``ValueError`` for an empty prompt or ``max_iterations`` < 1; an
    agent's :class:`~storyreel.core.errors.ProviderError` propagates (the files written so far stay)."""
    if not prompt.strip():
        raise ValueError("the prompt is empty")
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    brief = brief or Brief()
    trace = _Trace(trace_dir)
    trace.text("original_prompt", prompt.strip())
    started = _now()
    current, feedback = prompt.strip(), []
    rounds: list[dict[str, Any]] = []
    usage: dict[str, int] = {}
    cost = 0.0
    reason = "max_iterations"
    for i in range(1, max_iterations + 1):
        said = director.rewrite(current, feedback, brief)
        current = " ".join(said.text.split()) or current
        trace.text(f"agent1_iteration_{i}", current)
        verdict = critic.critique(current, brief)
        if verdict.critique is None:
            raise ValueError(f"{critic.provider_id} returned no critique")
        crit = verdict.critique
        trace.text(f"agent2_iteration_{i}", _critique_text(crit))
        for turn in (said, verdict):
            cost += turn.cost_usd
            for k, v in turn.usage.items():
                usage[k] = usage.get(k, 0) + v
        rounds.append({"iteration": i, "prompt": current, "scores": crit.model_dump(exclude={"feedback"}), "overall": crit.overall,
                       "feedback": crit.feedback, "at": _now()})
        feedback = crit.feedback
        if crit.overall >= threshold:
            reason = "threshold"
            break
        if i > 1 and crit.overall - rounds[-2]["overall"] < min_gain:
            reason = "converged"
            break
    best = max(rounds, key=lambda r: (r["overall"], -r["iteration"]))
    trace.text("final_enhanced_prompt", best["prompt"])
    result = Enhancement(original=prompt.strip(), final=best["prompt"], final_score=best["overall"], stop_reason=reason,
                         iterations=rounds, trace_dir=str(trace_dir) if trace_dir else None, usage=usage, cost_usd=round(cost, 6))
    trace.summary({
        "kind": brief.kind, "director": director.provider_id, "critic": critic.provider_id, "threshold": threshold,
        "max_iterations": max_iterations, "min_gain": min_gain, "weights": WEIGHTS, "stop_reason": reason,
        "iterations": rounds, "final_iteration": best["iteration"], "final_score": best["overall"],
        "started_at": started, "finished_at": _now(), "usage": usage, "cost_usd": result.cost_usd, "files": trace.files,
    })
    return result


def _critique_text(crit: Critique) -> str:
    lines = [f"overall: {crit.overall:.1f}"] + [f"{k}: {getattr(crit, k)}" for k in WEIGHTS]
    lines += ["", "feedback:"] + [f"- {f}" for f in crit.feedback or ["(none)"]]
    return "\n".join(lines)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class _Trace:
    """Numbered trace files (``NN_<name>.txt``) and the summary, written atomically; nothing without a folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder, self.files, self.n = folder, [], 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def text(self, name: str, body: str) -> None:
        if self.folder is None:
            return
        file = f"{self.n:02d}_{name}.txt"
        atomic_write_text(self.folder / file, body.rstrip() + "\n")
        self.files.append(file)
        self.n += 1

    def summary(self, data: dict) -> None:
        if self.folder is not None:
            atomic_write_text(self.folder / "prompt_trace_summary.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
