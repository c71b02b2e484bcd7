"""Dated price table of paid providers, with sources. Used to estimate (and reserve) a call's cost
before it runs; the committed cost comes from the provider's reported usage when it has one.

Prices change: each entry says when it was read and where. Unknown models estimate from the vendor's
most expensive listed entry so the cost cap errs on the safe side. Every price and every usage → cost
formula of storyreel is in this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImagePrice:
    """Per-image price at a reference size; other sizes scale with pixel count (output tokens grow
    with area). Token rates are USD per token, for computing the actual cost from ``usage``."""

    vendor: str
    model: str
    quality: str
    ref_size: tuple[int, int]
    usd_per_image: float
    usd_per_input_token: float = 0.0
    usd_per_output_token: float = 0.0
    as_of: str = ""
    source: str = ""


_OPENAI = "https://openai.com/api/pricing/ (gpt-image-2 launch pricing, image generation guide cost examples)"
IMAGE_PRICES: list[ImagePrice] = [
    ImagePrice("openai", "gpt-image-2", q, (1536, 1024), usd, 5e-6, 30e-6, "2026-04-21", _OPENAI)
    for q, usd in (("low", 0.005), ("medium", 0.041), ("high", 0.165), ("auto", 0.165))
] + [
    ImagePrice("openai", "gpt-image-2", q, (1024, 1024), usd, 5e-6, 30e-6, "2026-04-21", _OPENAI)
    for q, usd in (("low", 0.006), ("medium", 0.053), ("high", 0.211), ("auto", 0.211))
]

_GEMINI = "https://ai.google.dev/gemini-api/docs/pricing (image output $30 / 1M tokens; 1290 tokens per 1K image)"
IMAGE_PRICES += [
    ImagePrice("gemini", "gemini-2.5-flash-image", "auto", (1024, 1024), 0.039, 0.30e-6, 30e-6, "2025-10-02", _GEMINI),
    ImagePrice("gemini", "gemini-3-pro-image", "auto", (1024, 1024), 0.134, 2e-6, 120e-6, "2025-11-20", _GEMINI),
]
_OPENROUTER = "https://openrouter.ai/google/gemini-2.5-flash-image (Google's rates passed through: $30 / 1M image output tokens)"
IMAGE_PRICES += [
    ImagePrice(vendor, "google/gemini-2.5-flash-image", "auto", (1024, 1024), 0.039, 0.30e-6, 30e-6, "2025-10-02", _OPENROUTER)
    for vendor in ("openrouter", "openai-compatible")
]
_REPLICATE = "https://replicate.com/pricing (per output image)"
IMAGE_PRICES += [
    ImagePrice("replicate", "black-forest-labs/flux-schnell", "auto", (1024, 1024), 0.003, as_of="2025-11-01", source=_REPLICATE),
    ImagePrice("replicate", "black-forest-labs/flux-dev", "auto", (1024, 1024), 0.025, as_of="2025-11-01", source=_REPLICATE),
    ImagePrice("replicate", "black-forest-labs/flux-1.1-pro", "auto", (1024, 1024), 0.04, as_of="2025-11-01", source=_REPLICATE),
]


def image_price(vendor: str, model: str, quality: str, width: int, height: int) -> tuple[float, ImagePrice]:
    """Estimated USD for one image of ``width × height`` and the entry it came from."""
    entries = [p for p in IMAGE_PRICES if p.vendor == vendor and model.startswith(p.model) and p.quality in (quality, "auto")]
    if any(p.quality == quality for p in entries):
        entries = [p for p in entries if p.quality == quality]
    if not entries:
        listed = [p for p in IMAGE_PRICES if p.vendor == vendor] or IMAGE_PRICES  # an unknown vendor: the dearest of all
        entries = [max(listed, key=lambda p: p.usd_per_image / (p.ref_size[0] * p.ref_size[1]))]
    square = width == height
    best = min(entries, key=lambda p: (p.ref_size[0] == p.ref_size[1]) != square)
    scale = (width * height) / (best.ref_size[0] * best.ref_size[1])
    return round(best.usd_per_image * max(scale, 0.25), 6), best


def usage_cost(price: ImagePrice, usage: dict) -> float | None:
    """Actual cost from an OpenAI-style ``usage`` object (``input_tokens``/``output_tokens``), or None."""
    if not price.usd_per_output_token or not isinstance(usage, dict):
        return None
    try:
        return round(int(usage.get("input_tokens", 0)) * price.usd_per_input_token + int(usage["output_tokens"]) * price.usd_per_output_token, 6)
    except (KeyError, TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------- LLMs
LLM_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25e-6, 10e-6),
    "gpt-5-mini": (0.25e-6, 2e-6),
    "gpt-5-nano": (0.05e-6, 0.4e-6),
}
"""USD per token (input, output) by model name; read 2025-08-07 from https://openai.com/api/pricing/.
A model not listed is *estimated* at the most expensive listed rates (the cap errs on the safe side) and
*billed* at 0 in the ledger, its reported token usage recorded beside it."""

CHARS_PER_TOKEN = 4
"""Rough characters per token for English text (OpenAI's tokenizer guide) — for estimates only."""


def llm_estimate(model: str, input_chars: int, max_output_tokens: int) -> float:
    """Upper bound in USD of one LLM call: ``input_chars`` / :data:`CHARS_PER_TOKEN` tokens in,
    ``max_output_tokens`` out, at the model's rates (or the highest listed rates when unknown)."""
    rate_in, rate_out = LLM_PRICES.get(model, max(LLM_PRICES.values()))
    return round(input_chars / CHARS_PER_TOKEN * rate_in + max_output_tokens * rate_out, 8)


def llm_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """Actual USD of a call from its reported token usage (0 for a model without a listed price)."""
    rates = LLM_PRICES.get(model)
    if rates is None:
        return 0.0
    return round(input_tokens * rates[0] + output_tokens * rates[1], 8)
