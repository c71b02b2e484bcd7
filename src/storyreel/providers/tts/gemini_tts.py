"""``google:<model>`` — Gemini TTS (``gemini-3.8-flash-tts``, ``gemini-3.8-flash-lite-tts``) through
``generateContent``: ``POST {base}/models/{model}:generateContent`` with ``x-goog-api-key`` (the Gemini API
connection: ``GEMINI_API_KEY``, ``STORYREEL_GEMINI_BASE_URL``).

Body: the text as one ``contents`` part, ``generationConfig.responseModalities = ["AUDIO"]`` and
``generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName`` (default :attr:`default_voice`).
The model reads a bare text verbatim; a style or a speech rate goes in the documented prompt structure —
director's notes, then ``#### TRANSCRIPT`` before the words to say — so the notes are never read aloud.
The audio comes back as ``candidates[0].content.parts[].inlineData`` (base64 16-bit mono PCM; the rate in its
``mimeType``, ``audio/L16;codec=pcm;rate=24000``) with no timings: the local aligner
(:mod:`~storyreel.providers.tts.aligner`) times the words. A blocked prompt (``promptFeedback.blockReason``)
or a safety finish reason is a rejection.

Cost: ``usageMetadata`` (``promptTokenCount`` text in, ``candidatesTokenCount`` audio out) at the dated
prices of :data:`~storyreel.providers.prices.GEMINI`; the estimate reserves the text's tokens and
:data:`AUDIO_TOKENS_PER_S` for a reading at 70 % of the asked pace. No idempotency: a lost answer is uncertain.
Wire format: google-genai's ``models.generate_content`` (SpeechConfig, VoiceConfig, PrebuiltVoiceConfig).
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any, ClassVar

from storyreel.providers.base import JobLog, Received, SpeechRequest, SpeechResult
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.prices import CHARS_PER_TOKEN, speech_price
from storyreel.providers.tts.cloud import HttpSpeechProvider

AUDIO_TOKENS_PER_S = 32
"""Tokens per second of audio (the Gemini API's audio token rate), for the estimate only; the booked cost
uses the answer's own count."""
SAFETY_FINISH = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "OTHER"}


class GeminiSpeech(HttpSpeechProvider):
    """Settings: ``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``), ``STORYREEL_GEMINI_BASE_URL``, the voice
    (``--voice-name``, one of Gemini's prebuilt voices), the style (``--voice-style``) and ``speech_rate_wpm``."""

    vendor: ClassVar[str] = "google"
    code_version: ClassVar[str] = "gemini-speech/1"
    connection = CONNECTIONS["gemini"]
    default_model: ClassVar[str] = "gemini-3.8-flash-tts"
    default_voice: ClassVar[str] = "Kore"
    max_concurrency: ClassVar[int | None] = 4

    def prompt(self, request: SpeechRequest) -> str:
        """What the model is given: the text alone, or director's notes (style, pace) then the transcript."""
        notes = []
        if request.style:
            notes.append(f"Style: {request.style}")
        if request.words_per_minute != 165:
            notes.append(f"Pace: about {request.words_per_minute} words per minute")
        if not notes:
            return request.text
        return ("Synthesize speech for the transcript below, performed as the director's notes say; read only the "
                "transcript aloud.\n### DIRECTOR'S NOTES\n" + "\n".join(notes) + "\n#### TRANSCRIPT\n" + request.text)

    def payload(self, request: SpeechRequest) -> dict:
        return {
            "contents": [{"role": "user", "parts": [{"text": self.prompt(request)}]}],
            "generationConfig": {"responseModalities": ["AUDIO"],
                                 "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": self.voice(request)}}}},
        }

    def estimate(self, request: SpeechRequest) -> float:
        price = speech_price(self.prices, self.model)
        seconds = len(request.text.split()) / (0.7 * request.words_per_minute) * 60 + 2
        tokens_in = len(self.prompt(request)) / CHARS_PER_TOKEN
        return round(tokens_in * price.usd_per_input_token + seconds * AUDIO_TOKENS_PER_S * price.usd_per_output_token, 6)

    def fetch(self, request: SpeechRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """One ``generateContent`` call. A blocked prompt or a safety finish raises ``ProviderRejected``; an
        answer that came but holds no usable audio is returned empty with its cost (billed by its usage):
        :meth:`finish` refuses it. Raises ``UncertainCall`` or ``ProviderError`` as the HTTP client does."""
        payload = self.payload(request)
        answer = self.create(f"/models/{self.model}:generateContent", payload, jobs=jobs)
        try:
            (pcm, rate), unusable = _audio(answer), None
        except MalformedResponse as exc:  # answered and billed, but unusable: booked, then refused by finish()
            (pcm, rate), unusable = (b"", 24000), str(exc)
        usage = answer.get("usageMetadata") or {}
        price = speech_price(self.prices, self.model)
        try:
            cost = int(usage.get("promptTokenCount", 0)) * price.usd_per_input_token + int(usage["candidatesTokenCount"]) * price.usd_per_output_token
            source = "usage"
        except (KeyError, TypeError, ValueError):
            cost, source = self.estimate(request), "estimate (no usage in the answer)"
        return Received(data=pcm, media_type=f"audio/L16;rate={rate}", cost_usd=round(cost, 9), details={  # exact: the bill sums tokens
            "model": self.model, "voice": self.voice(request), "rate": rate, "usage": usage, "model_version": answer.get("modelVersion"),
            "cost_source": f"{source} × price table {price.as_of}", **({"unusable": unusable} if unusable else {})})

    def finish(self, request: SpeechRequest, received: Received, out_path: Path) -> SpeechResult:
        """The WAV, and word timings from the local aligner (pocketsphinx for English, else DTW against espeak-ng)."""
        import numpy as np

        from storyreel.media.audio import write_wav
        from storyreel.providers.tts.aligner import align

        if not received.data:
            raise MalformedResponse(received.details.get("unusable") or "google: the answer holds no audio")
        rate = int(received.details.get("rate") or 24000)
        samples = np.frombuffer(received.data, dtype="<i2")
        aligned = align(samples, rate, request.text, request.language)
        write_wav(out_path, received.data, rate)
        voice = received.details.get("voice")
        return SpeechResult(path=out_path, provider=f"{self.provider_id}/{voice}", sample_rate=rate,
                            duration_s=round(len(samples) / rate, 4), words=aligned.words, cost_usd=received.cost_usd,
                            provider_details={"voice": voice, "timing": "aligner", "aligner": aligned.method, "model": self.model,
                                              "style_used": bool(request.style),
                                              **({"from_journal": True} if received.from_journal else {})})


def _audio(answer: dict) -> tuple[bytes, int]:
    """(PCM, sample rate) of the answer's inline audio. A blocked prompt or a safety finish raises
    :class:`ProviderRejected`; anything else off the documented shape :class:`MalformedResponse`."""
    feedback = answer.get("promptFeedback") or {}
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        raise ProviderRejected(f"google: prompt blocked: {feedback['blockReason']}")
    candidates = answer.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        raise MalformedResponse("google: the answer has no candidates")
    parts = ((candidates[0].get("content") or {}).get("parts")) or []
    inline: Any = next((p["inlineData"] for p in parts if isinstance(p, dict) and isinstance(p.get("inlineData"), dict)), None)
    if inline is None:
        reason = candidates[0].get("finishReason")
        if reason in SAFETY_FINISH:
            raise ProviderRejected(f"google: finishReason {reason}: no audio returned")
        raise MalformedResponse(f"google: no inlineData audio in the answer (finishReason {reason})")
    mime = str(inline.get("mimeType", ""))
    if not mime.startswith("audio/L16") and not mime.startswith("audio/pcm"):
        raise MalformedResponse(f"google: audio as {mime!r}, expected 16-bit PCM (audio/L16)")
    match = re.search(r"rate=(\d+)", mime)
    try:
        pcm = base64.b64decode(inline.get("data") or "", validate=True)
    except (TypeError, binascii.Error):
        raise MalformedResponse("google: inlineData.data is not base64") from None
    if not pcm or len(pcm) % 2:
        raise MalformedResponse(f"google: {len(pcm)} bytes of audio is not 16-bit PCM")
    return pcm, int(match.group(1)) if match else 24000
