"""Loopback stand-ins for the cloud voices, speaking each vendor's documented wire format and keeping its bill.

The speech itself is real: the bundled Piper voice reads each text (resampled to the 24 kHz the vendors send),
so the aligner has speech to align and every word has a true time — Piper's own — to check against.

- :class:`FakeElevenLabs`: ``POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000``
  with ``xi-api-key``; answers ``audio_base64`` and ``alignment`` (each word's characters spread over its true
  time, spaces and punctuation at its end) and the ``x-character-count`` header. A text containing
  ``lose_on`` is made and billed, then the connection answers 502 (the answer lost after the work).
- :class:`FakeGeminiTts`: ``POST /v1beta/models/{model}:generateContent`` with ``x-goog-api-key``; answers
  ``inlineData`` (``audio/L16;codec=pcm;rate=24000``) and ``usageMetadata`` (25 audio tokens a second).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path

import numpy as np
from werkzeug import Request, Response

from storyreel.core.words import WordTiming
from storyreel.providers.base import SpeechRequest
from storyreel.providers.tts.local_piper import LocalPiper

RATE = 24000


def speak(text: str, folder: Path) -> tuple[bytes, list[WordTiming]]:
    """Piper's reading of ``text`` as 16-bit PCM at 24 kHz, and its exact word timings."""
    from scipy.signal import resample_poly

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{abs(hash(text))}.wav"
    result = LocalPiper().synthesize(SpeechRequest(text=text, language="en"), out)
    from storyreel.media.audio import read_wav

    samples, rate = read_wav(out)
    up = resample_poly(samples, 160, 147) if rate == 22050 else samples
    return (np.clip(up, -1, 1) * 32767).astype("<i2").tobytes(), result.words


class _Vendor:
    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.calls: list[dict] = []
        self.billed: list[float] = []
        self.truth: dict[str, list[WordTiming]] = {}
        self.rate_limited = 0
        self._lock = threading.Lock()

    @property
    def bill(self) -> float:
        return round(sum(self.billed), 6)


class FakeElevenLabs(_Vendor):
    """ElevenLabs' with-timestamps endpoint at $0.10 per 1,000 characters (eleven_multilingual_v2)."""

    def __init__(self, folder: Path, key: str = "xi-e2e-key", rate_limited: int = 0, lose_on: str | None = None) -> None:
        super().__init__(folder, key)
        self.rate_limited = rate_limited
        self.lose_on = lose_on

    def __call__(self, request: Request) -> Response:
        if request.headers.get("xi-api-key") != self.key:
            return Response(json.dumps({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}), 401,
                            content_type="application/json")
        voice = re.search(r"/text-to-speech/([^/]+)/with-timestamps", request.path).group(1)
        assert request.args.get("output_format") == "pcm_24000"
        body = json.loads(request.data)
        assert set(body) <= {"text", "model_id", "voice_settings", "language_code"}, body
        with self._lock:
            self.calls.append({"voice": voice, **body})
            if self.rate_limited:
                self.rate_limited -= 1
                return Response(json.dumps({"detail": {"status": "too_many_concurrent_requests"}}), 429,
                                headers={"Retry-After": "0"}, content_type="application/json")
        text = body["text"]
        pcm, words = speak(text, self.folder)
        with self._lock:
            self.billed.append(len(text) * 0.10 / 1000)
            self.truth[text] = words
        if self.lose_on and self.lose_on in text:
            return Response("upstream timed out", 502)
        chars, starts, ends = list(text), [0.0] * len(text), [0.0] * len(text)
        at = 0.0
        for i, ch in enumerate(text):
            w = next((w for w in words if w.char_start <= i < w.char_end), None)
            if w is not None:
                share = (w.end_s - w.start_s) / max(1, w.char_end - w.char_start)
                s = w.start_s + share * (i - w.char_start)
                starts[i], ends[i] = round(s, 3), round(s + share, 3)
                at = ends[i]
            else:
                starts[i] = ends[i] = round(at, 3)
        answer = {"audio_base64": base64.b64encode(pcm).decode(),
                  "alignment": {"characters": chars, "character_start_times_seconds": starts, "character_end_times_seconds": ends},
                  "normalized_alignment": {"characters": chars, "character_start_times_seconds": starts,
                                           "character_end_times_seconds": ends}}
        return Response(json.dumps(answer), content_type="application/json",
                        headers={"x-character-count": str(len(text)), "request-id": f"req-{len(self.calls)}"})


class FakeGeminiTts(_Vendor):
    """Gemini TTS (gemini-3.8-flash-tts at the launch prices: $0.50 / 1M text tokens in, $9 / 1M audio out)."""

    def __init__(self, folder: Path, key: str = "g-e2e-key", lose_on: str | None = None) -> None:
        super().__init__(folder, key)
        self.lose_on = lose_on

    def __call__(self, request: Request) -> Response:
        if request.headers.get("x-goog-api-key") != self.key:
            return Response(json.dumps({"error": {"code": 403, "status": "PERMISSION_DENIED"}}), 403, content_type="application/json")
        body = json.loads(request.data)
        config = body["generationConfig"]
        assert config["responseModalities"] == ["AUDIO"]
        voice = config["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"]
        prompt = body["contents"][0]["parts"][0]["text"]
        text = prompt.split("#### TRANSCRIPT\n", 1)[-1]
        with self._lock:
            self.calls.append({"voice": voice, "prompt": prompt, "model": request.path.rsplit("/", 1)[-1]})
        pcm, words = speak(text, self.folder)
        usage = {"promptTokenCount": max(1, len(prompt) // 4), "candidatesTokenCount": int(len(pcm) / 2 / RATE * 25)}
        usage["totalTokenCount"] = usage["promptTokenCount"] + usage["candidatesTokenCount"]
        with self._lock:
            self.billed.append(usage["promptTokenCount"] * 0.5e-6 + usage["candidatesTokenCount"] * 9e-6)
            self.truth[text] = words
        if self.lose_on and self.lose_on in text:
            return Response("upstream timed out", 504)
        answer = {"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": base64.b64encode(pcm).decode()}}]},
            "finishReason": "STOP"}], "usageMetadata": usage, "modelVersion": "gemini-3.8-flash-tts"}
        return Response(json.dumps(answer), content_type="application/json")
