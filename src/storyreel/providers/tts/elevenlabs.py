"""``elevenlabs:<model>`` — ElevenLabs text to speech with character timings
(``POST {base}/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000``, header ``xi-api-key``).

The body is ``text``, ``model_id``, ``voice_settings.speed`` (0.7–1.2, from the project's words per minute;
sent only when it is not 1) and ``language_code`` for the models that take one (Flash/Turbo v2.5 and v3; the
others answer 400 to it). The answer is JSON: ``audio_base64`` (here 16-bit mono PCM at 24 kHz, available on
every plan) and ``alignment`` — ``characters``, ``character_start_times_seconds``,
``character_end_times_seconds`` of the text as sent — from which each written word takes the start of its
first character and the end of its last (exact, no second pass). The vendor reads numbers itself.

Cost: the ``x-character-count`` header of the answer (the characters billed, ElevenLabs' documented way of
tracking cost) times the model's price per character (:data:`~storyreel.providers.prices.ELEVENLABS`); the
estimate reserved before the call is every character of the text. ElevenLabs documents no idempotency: a
create whose answer was lost is uncertain spend, never sent again in the same run.
Wire format: https://elevenlabs.io/docs/api-reference/text-to-speech/convert-with-timestamps (read 2026-12).
"""

from __future__ import annotations

import base64
import binascii
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, ClassVar

from storyreel.core.words import WordTiming
from storyreel.providers.base import JobLog, Received, SpeechRequest, SpeechResult
from storyreel.providers.connection import CONNECTIONS
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.prices import speech_price
from storyreel.providers.tts.cloud import HttpSpeechProvider
from storyreel.providers.tts.text import tokens

RATE = 24000
LANGUAGE_CODE_MODELS = ("eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3")
"""Models that accept ``language_code`` (ElevenLabs' API reference: the others reject it)."""
MAX_CHARACTERS = {"eleven_v3": 5000, "eleven_multilingual_v2": 10000}
"""Characters per request by model (ElevenLabs' models page; Flash/Turbo: 40,000)."""


class ElevenLabsSpeech(HttpSpeechProvider):
    """Settings: ``ELEVENLABS_API_KEY``, ``STORYREEL_ELEVENLABS_BASE_URL``, the voice (``--voice-name``, default
    :attr:`default_voice`), ``speech_rate_wpm``, ``image_timeout_s`` and ``http_attempts`` for the calls."""

    vendor: ClassVar[str] = "elevenlabs"
    code_version: ClassVar[str] = "elevenlabs-speech/1"
    connection = CONNECTIONS["elevenlabs"]
    default_model: ClassVar[str] = "eleven_multilingual_v2"
    default_voice: ClassVar[str] = "JBFqnCBv73JqnFnWJqrW"  # "George", a premade voice every account has
    max_concurrency: ClassVar[int | None] = 2  # the lowest paid plan's concurrent requests

    def classify(self, response: Any) -> ProviderRejected | None:
        """A refusal of the text's content (``detail.status`` naming a policy or moderation) is a rejection."""
        if response.status_code not in (400, 403, 422):
            return None
        try:
            detail = response.json().get("detail")
        except ValueError:
            return None
        status = str(detail.get("status", "")) if isinstance(detail, dict) else ""
        if "policy" in status or "moderat" in status or "safety" in status:
            return ProviderRejected(f"elevenlabs: {status}: {detail.get('message', '')}".strip())
        return None

    def identity(self) -> dict:
        return {"model": self.model, "output_format": f"pcm_{RATE}"}

    def payload(self, request: SpeechRequest) -> dict:
        body: dict[str, Any] = {"text": request.text, "model_id": self.model, "voice_id": self.voice(request)}
        speed = round(min(1.2, max(0.7, request.words_per_minute / 165)), 3)
        if speed != 1:
            body["voice_settings"] = {"speed": speed}
        if self.model in LANGUAGE_CODE_MODELS:
            body["language_code"] = request.language.split("-")[0].lower()
        return body

    def estimate(self, request: SpeechRequest) -> float:
        return round(len(request.text) * speech_price(self.prices, self.model).usd_per_character, 6)

    def fetch(self, request: SpeechRequest, *, jobs: JobLog | None = None, key: str | None = None) -> Received:
        """One with-timestamps call. Raises :class:`MalformedResponse` when the text is longer than the model
        takes (nothing sent), ``ProviderRejected``, ``UncertainCall`` or ``ProviderError``. An answer that came
        but holds no usable audio is returned empty, with its cost (the vendor billed it): :meth:`finish`
        refuses it."""
        limit = MAX_CHARACTERS.get(self.model, 40000)
        if len(request.text) > limit:
            raise MalformedResponse(f"elevenlabs: {len(request.text)} characters; {self.model} takes {limit} per request")
        body = self.payload(request)
        voice = body.pop("voice_id")
        headers: dict[str, str] = {}
        answer = self.create(f"/text-to-speech/{voice}/with-timestamps?output_format=pcm_{RATE}", body, jobs=jobs,
                             answer_headers=headers)
        try:
            pcm, unusable = _audio(answer), None
        except MalformedResponse as exc:  # answered and billed, but unusable: booked, then refused by finish()
            pcm, unusable = b"", str(exc)
        price = speech_price(self.prices, self.model)
        try:
            billed = int(headers["x-character-count"])
            source = "x-character-count"
        except (KeyError, ValueError):
            billed, source = len(request.text), "characters sent"
        return Received(data=pcm, media_type=f"audio/L16;rate={RATE}", cost_usd=round(billed * price.usd_per_character, 6), details={
            "model": self.model, "voice": voice, "alignment": answer.get("alignment"), "characters_billed": billed,
            "request_id": headers.get("request-id"), "cost_source": f"{source} × price table {price.as_of}",
            **({"unusable": unusable} if unusable else {})})

    def finish(self, request: SpeechRequest, received: Received, out_path: Path) -> SpeechResult:
        """The WAV and the words timed by the vendor's character alignment. Raises :class:`MalformedResponse`
        for an alignment off the documented shape."""
        from storyreel.media.audio import write_wav

        if not received.data:
            raise MalformedResponse(received.details.get("unusable") or "elevenlabs: the answer holds no audio")
        words = word_timings(request.text, request.language, received.details.get("alignment"))
        write_wav(out_path, received.data, RATE)
        duration = len(received.data) / 2 / RATE
        details = {"voice": received.details.get("voice"), "timing": "vendor", "model": self.model,
                   "characters_billed": received.details.get("characters_billed"), "request_id": received.details.get("request_id"),
                   **({"from_journal": True} if received.from_journal else {})}
        return SpeechResult(path=out_path, provider=f"{self.provider_id}/{details['voice']}", sample_rate=RATE,
                            duration_s=round(duration, 4), words=[_within(w, duration) for w in words],
                            cost_usd=received.cost_usd, provider_details=details)


def _within(word: WordTiming, duration: float) -> WordTiming:
    """``word`` with its times inside the audio (a vendor's last end may pass the samples it sent)."""
    start = min(word.start_s, duration)
    return word.model_copy(update={"start_s": round(start, 3), "end_s": round(min(max(word.end_s, start), duration), 3)})


def _audio(answer: dict) -> bytes:
    """The PCM of an answer. Raises :class:`MalformedResponse` when it is missing, not base64 or not 16-bit."""
    try:
        pcm = base64.b64decode(answer["audio_base64"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise MalformedResponse("elevenlabs: no audio_base64 in the answer") from None
    if not pcm or len(pcm) % 2:
        raise MalformedResponse(f"elevenlabs: {len(pcm)} bytes of audio is not 16-bit PCM")
    return pcm


def word_timings(text: str, language: str, alignment: Any) -> list[WordTiming]:
    """The written words of ``text`` timed by an ElevenLabs character ``alignment``: a word starts at its first
    character's start and ends at its last one's end. The characters are matched to the text (difflib) in
    case the vendor's differ (a normalized quote); a word none of whose characters matched starts where the
    previous one ended. Raises :class:`MalformedResponse` for arrays of different lengths or not numbers."""
    try:
        chars = list(alignment["characters"])
        starts = [float(s) for s in alignment["character_start_times_seconds"]]
        ends = [float(e) for e in alignment["character_end_times_seconds"]]
    except (KeyError, TypeError, ValueError):
        raise MalformedResponse("elevenlabs: the answer has no usable alignment") from None
    if not (len(chars) == len(starts) == len(ends)) or not chars:
        raise MalformedResponse("elevenlabs: alignment arrays of different lengths")
    spoken = "".join(chars)
    at: dict[int, int] = {}
    if spoken == text:
        at = {i: i for i in range(len(text))}
    else:
        for block in SequenceMatcher(None, text, spoken, autojunk=False).get_matching_blocks():
            at.update({block.a + k: block.b + k for k in range(block.size)})
    out: list[WordTiming] = []
    for w in tokens(text, language):
        hit = [at[i] for i in range(w.start, w.end) if i in at]
        previous = out[-1].end_s if out else 0.0
        start, end = (starts[hit[0]], ends[hit[-1]]) if hit else (previous, previous)
        start = max(start, out[-1].start_s if out else 0.0)
        out.append(WordTiming(word=w.word, start_s=round(start, 3), end_s=round(max(start, end), 3), char_start=w.start, char_end=w.end))
    return out
