"""The prompt-enhancement agents on a model (:mod:`storyreel.prompts.enhance`), through pydantic-ai:
the creative director answers with the rewritten prompt as text, the critic with a structured
:class:`~storyreel.prompts.enhance.Critique` (validated by pydantic-ai; an answer that does not validate
is a :class:`~storyreel.core.errors.ProviderError`). Both run on the project's LLM (``--llm``) and report
tokens and cost. Instructions follow seed 004 story 8.1's Prompt Scoring Guide."""

from __future__ import annotations

from typing import Any

from storyreel.prompts.enhance import WEIGHTS, Brief, Critique, Said

DIRECTOR = (
    "You are a cinematographer and creative director. Rewrite the {kind} prompt you are given into one "
    "scene description: who or what, the action, where and when, then the style. Add camera body and lens, "
    "shot size and composition (framing, depth, rule of thirds), lighting direction and quality, colour "
    "science or film stock, mood, and the aspect ratio. One scene only, natural language, no keyword lists, "
    "no text in the image. Keep every fact of the original. Answer with the prompt only."
)
CRITIC = (
    "You are a prompt engineer. Score the {kind} prompt 0-100 on completeness (all elements of a scene), "
    "specificity (clear, unambiguous visual detail), professionalism (ad-quality natural language), "
    "cinematography (camera, lens, framing, composition, lighting) and brand alignment (the brand and "
    "palette of the brief; 100 when the brief gives none). Give concrete feedback: what to add or change, "
    "one item per line. Overall is computed by the caller with weights " + ", ".join(f"{k} {v}" for k, v in WEIGHTS.items()) + "."
)

MOTION_DIRECTOR = (
    "You direct image-to-video generation. The first frame is the shot's image; rewrite the motion prompt you are "
    "given into one continuous shot: the camera move, what the subject does and what else moves, the pacing over "
    "the clip's length, and how the shot ends (its end state). Keep the shot coherent with the shots before and "
    "after it, so the video reads as one story. No cuts, no text, no new subjects that the image does not show. "
    "Keep every fact of the original. At most {limit} characters. Answer with the prompt only."
)
MOTION_CRITIC = (
    "You are a prompt engineer for image-to-video models. Score the motion prompt 0-100 on completeness (camera "
    "move, subject action, pacing, end state), specificity (clear, physically plausible motion), professionalism "
    "(natural language within the model's limit), cinematography (camera motion and pacing that a model can "
    "follow in one continuous shot) and brand alignment (continuity with the neighbouring shots and the brief). "
    "Give concrete feedback, one item per line. Overall is computed by the caller with weights "
    + ", ".join(f"{k} {v}" for k, v in WEIGHTS.items()) + "."
)


def _brief_text(brief: Brief) -> str:
    facts = {"visual type": brief.visual_type, "camera move": brief.camera_move, "style": brief.style,
             "palette": ", ".join(brief.palette) or None, "brand": brief.brand, "aspect ratio": brief.aspect_ratio,
             "clip length (seconds)": f"{brief.duration_s:.0f}" if brief.duration_s else None, "end state": brief.end_state,
             "the shot before": brief.before, "the shot after": brief.after,
             "prompt limit (characters)": brief.limit}
    given = [f"{k}: {v}" for k, v in facts.items() if v]
    return "Brief:\n" + "\n".join(given) if given else "Brief: (none)"


def _estimate(llm: Any, prompt: str, brief: Brief, max_tokens: int) -> float:
    return llm.token_estimate(len(DIRECTOR) + len(CRITIC) + len(_brief_text(brief)) + 2 * len(prompt) + 600, max_tokens)


class LlmDirector:
    """``rewrite`` on an LLM provider with ``run(instructions, user, output_type, …)`` (PydanticAILlm)."""

    def __init__(self, llm: Any, model: Any = None) -> None:
        self.llm, self.model = llm, model  # model: a pydantic-ai test model replacing the vendor's
        self.provider_id = f"{llm.provider_id} (director)"
        self.paid = llm.paid

    def estimate(self, prompt: str, brief: Brief) -> float:
        """Upper bound in USD of one rewrite."""
        return _estimate(self.llm, prompt, brief, 600)

    def rewrite(self, prompt: str, feedback: list[str], brief: Brief) -> Said:
        user = f"{_brief_text(brief)}\n\nPrompt:\n{prompt}"
        if feedback:
            user += "\n\nThe critic's feedback on it:\n" + "\n".join(f"- {f}" for f in feedback)
        instructions = MOTION_DIRECTOR.format(limit=brief.limit or 2500) if brief.kind == "video" else DIRECTOR.format(kind=brief.kind)
        text, usage, cost = self.llm.run(instructions, user, str, temperature=0.7, max_tokens=600, model=self.model)
        return Said(text=" ".join(str(text).split()), usage=usage, cost_usd=cost)


class LlmCritic:
    """``critique`` on an LLM provider: structured output into :class:`Critique`."""

    def __init__(self, llm: Any, model: Any = None) -> None:
        self.llm, self.model = llm, model
        self.provider_id = f"{llm.provider_id} (critic)"
        self.paid = llm.paid

    def estimate(self, prompt: str, brief: Brief) -> float:
        """Upper bound in USD of one critique."""
        return _estimate(self.llm, prompt, brief, 800)

    def critique(self, prompt: str, brief: Brief) -> Said:
        instructions = MOTION_CRITIC if brief.kind == "video" else CRITIC.format(kind=brief.kind)
        crit, usage, cost = self.llm.run(instructions, f"{_brief_text(brief)}\n\nPrompt:\n{prompt}", Critique,
                                         temperature=0.0, max_tokens=800, model=self.model)
        return Said(critique=crit, usage=usage, cost_usd=cost)
