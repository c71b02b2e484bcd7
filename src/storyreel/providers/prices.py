"""Dated price table of paid providers, with sources. Used to estimate (and reserve) a call's cost
before it runs; the committed cost comes from the provider's reported usage when it has one.

Prices change: each entry says when it was read and where. Each vendor's prices are one :class:`PriceTable`,
declared by its connection (:mod:`storyreel.providers.connection`); unknown models estimate from the most
expensive listed entry so the cost cap errs on the safe side. Every built-in price and every usage → cost
formula of storyreel is in this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImagePrice:
    """Per-image price at a reference size; other sizes scale with pixel count (output tokens grow
    with area). Token rates are USD per token, for computing the actual cost from ``usage``."""

    model: str
    quality: str
    ref_size: tuple[int, int]
    usd_per_image: float
    usd_per_input_token: float = 0.0
    usd_per_output_token: float = 0.0
    as_of: str = ""
    source: str = ""


@dataclass(frozen=True)
class SpeechPrice:
    """A voice's price: per character of text (ElevenLabs) or per token (Gemini TTS: text in, audio out), for
    model names starting with ``model``, in force from ``valid_from`` to ``valid_until`` (ISO dates, inclusive;
    empty: open)."""

    model: str
    usd_per_character: float = 0.0
    usd_per_input_token: float = 0.0
    usd_per_output_token: float = 0.0
    valid_from: str = ""
    valid_until: str = ""
    as_of: str = ""
    source: str = ""


@dataclass(frozen=True)
class VideoPrice:
    """A video model's price per second of output, for model names starting with ``model``."""

    model: str
    usd_per_second: float
    as_of: str = ""
    source: str = ""


@dataclass(frozen=True)
class PriceTable:
    """One vendor's prices, declared by its :class:`~storyreel.providers.connection.Connection`: ``images``
    (per model and quality), ``speech`` (voices) and ``llm`` (USD per input and output token by model name;
    ``llm_source`` says where and when they were read). A vendor added by entry point declares its own table
    the same way."""

    images: tuple[ImagePrice, ...] = ()
    speech: tuple[SpeechPrice, ...] = ()
    video: tuple[VideoPrice, ...] = ()
    llm: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    llm_source: str = ""


_OPENAI = "https://openai.com/api/pricing/ (gpt-image-2 launch pricing, image generation guide cost examples)"
OPENAI = PriceTable(
    images=tuple(
        [ImagePrice("gpt-image-2", q, (1536, 1024), usd, 5e-6, 30e-6, "2026-04-21", _OPENAI)
         for q, usd in (("low", 0.005), ("medium", 0.041), ("high", 0.165), ("auto", 0.165))]
        + [ImagePrice("gpt-image-2", q, (1024, 1024), usd, 5e-6, 30e-6, "2026-04-21", _OPENAI)
           for q, usd in (("low", 0.006), ("medium", 0.053), ("high", 0.211), ("auto", 0.211))]
    ),
    llm={"gpt-5": (1.25e-6, 10e-6), "gpt-5-mini": (0.25e-6, 2e-6), "gpt-5-nano": (0.05e-6, 0.4e-6)},
    llm_source="https://openai.com/api/pricing/ (read 2025-08-07)",
)

_GEMINI = "https://ai.google.dev/gemini-api/docs/pricing (image output $30 / 1M tokens; 1290 tokens per 1K image)"
_GEMINI_OMNI = ("Gemini Omni Flash, $0.10 per second of output with its sound, as summarized by a model tracker (2026-07); "
                "re-check on https://ai.google.dev/gemini-api/docs/pricing before relying on it")
_GEMINI_TTS = ("https://ai.google.dev/gemini-api/docs/pricing (Gemini 3.8 TTS launch prices to 2026-12-31, doubling on "
               "2027-01-01; as relayed by LiteLLM discussion #42776 and Vercel AI Gateway's model pages, read 2026-12-07)")
GEMINI = PriceTable(images=(
    ImagePrice("gemini-2.5-flash-image", "auto", (1024, 1024), 0.039, 0.30e-6, 30e-6, "2025-10-02", _GEMINI),
    ImagePrice("gemini-3-pro-image", "auto", (1024, 1024), 0.134, 2e-6, 120e-6, "2025-11-20", _GEMINI),
), speech=(
    SpeechPrice("gemini-3.8-flash-lite-tts", usd_per_input_token=0.5e-6, usd_per_output_token=6e-6, valid_until="2026-12-31",
                as_of="2026-12-07", source=_GEMINI_TTS),
    SpeechPrice("gemini-3.8-flash-lite-tts", usd_per_input_token=1e-6, usd_per_output_token=12e-6, valid_from="2027-01-01",
                as_of="2026-12-07", source=_GEMINI_TTS),
    SpeechPrice("gemini-3.8-flash-tts", usd_per_input_token=0.5e-6, usd_per_output_token=9e-6, valid_until="2026-12-31",
                as_of="2026-12-07", source=_GEMINI_TTS),
    SpeechPrice("gemini-3.8-flash-tts", usd_per_input_token=1e-6, usd_per_output_token=18e-6, valid_from="2027-01-01",
                as_of="2026-12-07", source=_GEMINI_TTS),
), video=(
    VideoPrice("gemini-omni", 0.10, as_of="2026-12-07", source=_GEMINI_OMNI),
))

_OPENROUTER = "https://openrouter.ai/google/gemini-2.5-flash-image (Google's rates passed through: $30 / 1M image output tokens)"
OPENROUTER = PriceTable(images=(
    ImagePrice("google/gemini-2.5-flash-image", "auto", (1024, 1024), 0.039, 0.30e-6, 30e-6, "2025-10-02", _OPENROUTER),
))
"""OpenRouter's — and, for an OpenAI-compatible image server, the estimate until it reports the real cost."""

_REPLICATE = "https://replicate.com/pricing (per output image)"
_REPLICATE_VIDEO = "https://replicate.com/kwaivgi/kling-v3-video (≈ $0.30 per second of output; read 2026-12 for issue 26)"
REPLICATE = PriceTable(images=(
    ImagePrice("black-forest-labs/flux-schnell", "auto", (1024, 1024), 0.003, as_of="2025-11-01", source=_REPLICATE),
    ImagePrice("black-forest-labs/flux-dev", "auto", (1024, 1024), 0.025, as_of="2025-11-01", source=_REPLICATE),
    ImagePrice("black-forest-labs/flux-1.1-pro", "auto", (1024, 1024), 0.04, as_of="2025-11-01", source=_REPLICATE),
), video=(
    VideoPrice("kwaivgi/kling-v3-video", 0.30, as_of="2026-12-06", source=_REPLICATE_VIDEO),
))
"""A video model the table does not list is estimated at the dearest listed rate (:func:`video_price`)."""

_ELEVENLABS = ("https://elevenlabs.io/pricing/api (text to speech per 1,000 characters: Multilingual v2/v3 $0.10, Flash/Turbo "
               "$0.05, the same rate on every plan; as summarized by developer.puter.com, June 2026, read 2026-12-07)")
ELEVENLABS = PriceTable(speech=(
    SpeechPrice("eleven_multilingual_v2", usd_per_character=0.10 / 1000, as_of="2026-12-07", source=_ELEVENLABS),
    SpeechPrice("eleven_v3", usd_per_character=0.10 / 1000, as_of="2026-12-07", source=_ELEVENLABS),
    SpeechPrice("eleven_flash_", usd_per_character=0.05 / 1000, as_of="2026-12-07", source=_ELEVENLABS),
    SpeechPrice("eleven_turbo_", usd_per_character=0.05 / 1000, as_of="2026-12-07", source=_ELEVENLABS),
))

_RUNWAY = ("https://docs.dev.runwayml.com/guides/pricing/ (API credits at $0.01; credits per second of output: gen4_turbo 5, "
           "gen4.5 12, veo3.1 20–40, veo3.1_fast 10–15 — the upper bound kept; as summarized by a Runway API reference, read 2026-12-07)")
RUNWAY = PriceTable(video=(
    VideoPrice("gen4_turbo", 0.05, as_of="2026-12-07", source=_RUNWAY),
    VideoPrice("gen4.5", 0.12, as_of="2026-12-07", source=_RUNWAY),
    VideoPrice("veo3.1_fast", 0.15, as_of="2026-12-07", source=_RUNWAY),
    VideoPrice("veo3.1", 0.40, as_of="2026-12-07", source=_RUNWAY),
))

_FAL = ("the model pages on fal.ai (https://fal.ai/models/<model>/api, price per second of output at the default resolution, "
        "without audio where it can be turned off; read 2026-12-07 as summarized there — re-check before relying on them)")
FAL = PriceTable(video=(
    VideoPrice("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", 0.07, as_of="2026-12-07", source=_FAL),
    VideoPrice("fal-ai/minimax/hailuo-02/standard/image-to-video", 0.045, as_of="2026-12-07", source=_FAL),
    VideoPrice("fal-ai/veo3.1/", 0.20, as_of="2026-12-07", source=_FAL),
    VideoPrice("fal-ai/bytedance/seedance/v1/pro/image-to-video", 0.124, as_of="2026-12-07", source=_FAL),
))
"""fal bills a model request by its output; a model not listed is estimated at the dearest listed rate."""

BUILT_IN = (OPENAI, GEMINI, OPENROUTER, REPLICATE, ELEVENLABS, RUNWAY, FAL)
"""Every built-in table: a model no table lists is estimated at the dearest entry of all (the cap errs on the
safe side)."""


def image_price(table: PriceTable, model: str, quality: str, width: int, height: int) -> tuple[float, ImagePrice]:
    """Estimated USD for one image of ``width × height`` from ``table`` and the entry it came from; a model
    the table does not list is priced at the table's dearest entry (or the dearest of every built-in table)."""
    entries = [p for p in table.images if model.startswith(p.model) and p.quality in (quality, "auto")]
    if any(p.quality == quality for p in entries):
        entries = [p for p in entries if p.quality == quality]
    if not entries:
        listed = list(table.images) or [p for t in BUILT_IN for p in t.images]
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


def video_price(table: PriceTable, model: str) -> VideoPrice:
    """The per-second price of video ``model`` from ``table`` (the longest matching prefix); a model not listed
    is priced at the dearest listed entry of every built-in table, so the cap errs on the safe side. Raises
    ``LookupError`` when no table lists a video price."""
    matching = [p for p in table.video if model.startswith(p.model)]
    if matching:
        return max(matching, key=lambda p: len(p.model))
    listed = list(table.video) or [p for t in BUILT_IN for p in t.video]
    if not listed:
        raise LookupError("no video prices")
    return max(listed, key=lambda p: p.usd_per_second)


def speech_price(table: PriceTable, model: str, day: str | None = None) -> SpeechPrice:
    """The price of voice ``model`` on ``day`` (ISO date, default today, UTC) from ``table``: the entry whose
    model prefix is longest among those in force; a model the table does not list is priced at the table's
    dearest entry in force (the cap errs on the safe side). Raises ``LookupError`` for a table with no voices."""
    from datetime import datetime, timezone

    day = day or datetime.now(timezone.utc).date().isoformat()
    current = [p for p in table.speech if (not p.valid_from or p.valid_from <= day) and (not p.valid_until or day <= p.valid_until)]
    if not current:
        raise LookupError("no voice prices in force")
    matching = [p for p in current if model.startswith(p.model)]
    if matching:
        return max(matching, key=lambda p: len(p.model))
    return max(current, key=lambda p: (p.usd_per_character, p.usd_per_output_token))


# --------------------------------------------------------------------------------------------- LLMs
CHARS_PER_TOKEN = 4
"""Rough characters per token for English text (OpenAI's tokenizer guide) — for estimates only."""


def llm_estimate(table: PriceTable, model: str, input_chars: int, max_output_tokens: int) -> float:
    """Upper bound in USD of one LLM call: ``input_chars`` / :data:`CHARS_PER_TOKEN` tokens in,
    ``max_output_tokens`` out, at the model's rates in ``table`` — a model not listed at the most expensive
    rates any built-in table lists (the cap errs on the safe side)."""
    rate_in, rate_out = table.llm.get(model) or max((r for t in BUILT_IN for r in t.llm.values()), key=lambda r: r[1])
    return round(input_chars / CHARS_PER_TOKEN * rate_in + max_output_tokens * rate_out, 8)


def llm_cost(table: PriceTable, model: str, input_tokens: int, output_tokens: int) -> float:
    """Actual USD of a call from its reported token usage: 0 for a model ``table`` does not list (its token
    usage is recorded beside it)."""
    rates = table.llm.get(model)
    if rates is None:
        return 0.0
    return round(input_tokens * rates[0] + output_tokens * rates[1], 8)
