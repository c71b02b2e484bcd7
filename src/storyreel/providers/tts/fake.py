"""``fake:speech`` — an in-process narration provider for tests: a quiet 220 Hz tone as long as the text
would take at the requested words per minute, with evenly spaced word timings; calls kept in
:attr:`FakeSpeech.history`. Inject it with ``storyreel.providers.override(tts=FakeSpeech())``."""

from __future__ import annotations

import math
import re
import struct
import wave
from pathlib import Path
from typing import ClassVar

from storyreel.core.atomic import atomic_path
from storyreel.core.words import WordTiming
from storyreel.providers.base import LocalProvider, SpeechRequest, SpeechResult

RATE = 24000


class FakeSpeech(LocalProvider):
    modality: ClassVar[str] = "tts"
    vendor: ClassVar[str] = "fake"
    code_version: ClassVar[str] = "fake-speech/1"
    default_model: ClassVar[str] = "speech"

    def __init__(self, model: str | None = None, settings: object = None) -> None:
        super().__init__(model, settings)
        self.history: list[SpeechRequest] = []

    def synthesize(self, request: SpeechRequest, out_path: Path) -> SpeechResult:
        self.history.append(request)
        tokens = list(re.finditer(r"\S+", request.text))
        per_word = 60.0 / request.words_per_minute
        duration = max(0.5, len(tokens) * per_word)
        n = int(duration * RATE)
        samples = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * i / RATE))) for i in range(n))
        with atomic_path(out_path) as tmp, wave.open(str(tmp), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(RATE)
            wf.writeframes(samples)
        words = [WordTiming(word=m.group(0), start_s=round(i * per_word, 3), end_s=round((i + 0.8) * per_word, 3),
                            char_start=m.start(), char_end=m.end()) for i, m in enumerate(tokens)]
        return SpeechResult(path=out_path, provider=self.provider_id, sample_rate=RATE, duration_s=round(n / RATE, 4), words=words)
