"""The VLM judge: a vision-capable LLM compares a shot's candidate images in one call (``judge`` modality,
``vendor:model`` on any LLM vendor pydantic-ai speaks — ``openai:``, ``openrouter:``, ``openai-compatible:``,
``google:``, ``anthropic:``).

The call carries the shot's description, the reference images of the entities it shows (when there are
any) and the candidates, each downscaled to :data:`SEND_WIDTH` px and sent as JPEG. The answer is structured
output (:class:`JudgeVerdict`): per candidate ``prompt_adherence``, ``composition``, ``aesthetics``,
``artifacts`` (100 = none: garbled text, watermarks, extra limbs, borders) and ``consistency`` (with the
references; None without), each 0–100, a reason, and the best index. The criteria are ranked as in the
prompt of ViMax's ``best_image_selector`` (HKUDS/ViMax ``agents/best_image_selector.py``: consistency with
the references first, then fidelity to the description, then clean framing), and the judge's total weighs
them in that order (:data:`JUDGE_WEIGHTS`). An answer that names an index that is not a candidate, misses
a candidate or repeats one is an error (:class:`~storyreel.core.errors.ProviderError`), never a silent 0.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from storyreel.core.errors import ProviderError
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.llm.pydantic_ai_llm import PydanticAILlm

SEND_WIDTH = 768
"""Width of every image sent (JPEG, quality 85): enough to judge composition and artifacts, a fraction of
the tokens of a 1080p frame."""
TOKENS_PER_IMAGE = 1100
"""Input tokens reserved per image sent (a 768×432 image is ≈ 800 tokens on OpenAI's vision models: 85 + 170
per 512 px tile at high detail; reserved with headroom)."""
MAX_OUTPUT_TOKENS = 1200
JUDGE_WEIGHTS = {"consistency": 0.3, "prompt_adherence": 0.3, "artifacts": 0.2, "composition": 0.1, "aesthetics": 0.1}
"""Weights of the judge's total per candidate (``consistency``'s weight shared out when there are no references)."""

INSTRUCTIONS = """You are a professional visual assessment expert choosing the best of several candidate images
for one shot of a video. Judge every candidate on:
1. consistency (only when reference images are given): do the characters, products and places look like
   the references (identity, colours, shape, outfit), and are their spatial relations kept?
2. prompt_adherence: does the image show what the target description says (subjects, actions, setting)?
   The description is the image wanted, not an editing instruction.
3. artifacts: 100 means none; take points off for garbled or misspelled text, watermarks, extra or fused
   limbs, distorted faces, and white borders, black edges or any added framing.
4. composition: framing, balance and readability when the frame is shown full screen.
5. aesthetics: lighting, colour and overall appeal.
Score each 0-100 (consistency null without references), give a one-sentence reason per candidate and
the best candidate's index. Candidates are numbered from 1; use only those numbers. Be objective: compare
the candidates with each other and with the description, not with your taste."""


class JudgedCandidate(BaseModel):
    index: int = Field(description="The candidate's number, from 1.")
    prompt_adherence: int = Field(ge=0, le=100)
    composition: int = Field(ge=0, le=100)
    aesthetics: int = Field(ge=0, le=100)
    artifacts: int = Field(ge=0, le=100, description="100 = no artifacts.")
    consistency: int | None = Field(default=None, ge=0, le=100, description="null when no reference images were given.")
    reason: str = Field(max_length=600)


class JudgeVerdict(BaseModel):
    candidates: list[JudgedCandidate]
    best_index: int = Field(description="The best candidate's number, from 1.")
    reason: str = Field(default="", max_length=800)


def judge_total(c: JudgedCandidate) -> float:
    """A candidate's judge total 0–100 with :data:`JUDGE_WEIGHTS`."""
    parts = {k: getattr(c, k) for k in JUDGE_WEIGHTS if getattr(c, k) is not None}
    norm = sum(JUDGE_WEIGHTS[k] for k in parts)
    return round(sum(JUDGE_WEIGHTS[k] * v for k, v in parts.items()) / norm, 2)


def _jpeg(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.width > SEND_WIDTH:
            im = im.resize((SEND_WIDTH, round(im.height * SEND_WIDTH / im.width)), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        return buf.getvalue()


class VlmJudge(PydanticAILlm):
    """``judge(candidates, description, references) -> (JudgeVerdict, usage, cost_usd)``; ``estimate(n)`` in
    USD before the call. Bound to a vendor and its connection by the registry."""

    modality: ClassVar[str] = "judge"
    kind: ClassVar[str] = "judge"
    code_version: ClassVar[str] = "vlm-judge/1"
    connection = CONNECTIONS["openai"]

    def identity(self) -> dict:
        return {"model": self.provider_id, "weights": JUDGE_WEIGHTS, "send_width": SEND_WIDTH, "instructions": INSTRUCTIONS}

    def estimate(self, images: int) -> float:  # type: ignore[override]
        """Upper bound in USD of judging ``images`` images (candidates and references) in one call."""
        return self.token_estimate(4 * (TOKENS_PER_IMAGE * images + 600), MAX_OUTPUT_TOKENS)

    def judge(self, candidates: list[Path], description: str, references: list[tuple[str, Path]] | None = None,
              *, model: Any = None) -> tuple[JudgeVerdict, dict[str, int], float]:
        """Judge ``candidates`` (paths, numbered from 1) for ``description``. Raises :class:`ProviderError`
        for vendor and transport failures and :class:`~storyreel.core.errors.UnusableAnswer` for an answer
        that never validated. The caller books the cost, then checks the indexes with :func:`check`."""
        from pydantic_ai import BinaryContent

        refs = references or []
        content: list[Any] = []
        for i, (label, path) in enumerate(refs, 1):
            content += [f"Reference image {i}: {label}", BinaryContent(data=_jpeg(path), media_type="image/jpeg")]
        for i, path in enumerate(candidates, 1):
            content += [f"Candidate {i}", BinaryContent(data=_jpeg(path), media_type="image/jpeg")]
        content.append(f"There are exactly {len(candidates)} candidates, numbered 1 to {len(candidates)}."
                       f"{'' if refs else ' No reference images: consistency is null.'}\n"
                       f"Target description:\n{description}")
        verdict, usage, _ = self.run(INSTRUCTIONS, content, JudgeVerdict, temperature=0.0, max_tokens=MAX_OUTPUT_TOKENS, model=model)
        return verdict, usage, self.token_cost(usage["input_tokens"], usage["output_tokens"])


def check(verdict: JudgeVerdict, count: int) -> None:
    """Every candidate judged exactly once, and the best index among them. Raises :class:`ProviderError`."""
    seen = sorted(c.index for c in verdict.candidates)
    if seen != list(range(1, count + 1)):
        raise ProviderError(f"the judge answered for candidates {seen}, not 1–{count}")
    if not 1 <= verdict.best_index <= count:
        raise ProviderError(f"the judge named candidate {verdict.best_index} as the best of {count}: an invalid index")
