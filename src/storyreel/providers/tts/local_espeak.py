"""``local:espeak`` — offline narration with espeak-ng, through the ``espeakng-loader`` wheel.

The library and its voice data come from the wheel (no system install). Synthesis runs in synchronous
mode with a callback that receives the audio and ``espeakEVENT_WORD`` events; each event carries the
word's audio position (ms) and its character offset in the text, which become the word timings used
for subtitles. API reference: espeak-ng ``speak_lib.h`` (espeak_Initialize, espeak_SetSynthCallback,
espeak_Synth, espeak_EVENT).
"""

from __future__ import annotations

import ctypes
import threading
import wave
from pathlib import Path
from typing import ClassVar

from storyreel.core.atomic import atomic_path
from storyreel.core.errors import ProviderError
from storyreel.core.words import WordTiming
from storyreel.providers.base import LocalProvider, SpeechRequest, SpeechResult

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_CHARS_UTF8 = 1
POS_CHARACTER = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_MSG_TERMINATED = 6
ESPEAK_RATE = 1
EE_OK = 0

VOICES = {"en": "en-us", "tr": "tr", "de": "de", "fr": "fr-fr", "es": "es", "it": "it", "pt": "pt", "nl": "nl"}
"""Default espeak-ng voice per language (ISO 639-1); other languages use their code as the voice name."""


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class _Engine:
    """Process-wide espeak-ng instance (the library keeps global state: one synthesis at a time)."""

    _lock = threading.Lock()
    _instance: _Engine | None = None

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.sample_rate <= 0:
            raise ProviderError(f"espeak-ng failed to initialize (data path {data.decode()})")
        self._samples: list[bytes] = []
        self._events: list[tuple[int, int, int]] = []
        self._callback = _CALLBACK(self._on_audio)
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Engine:
        if cls._instance is None:
            cls._instance = _Engine()
        return cls._instance

    def _on_audio(self, wav, numsamples, events) -> int:  # noqa: ANN001 - ctypes callback
        if numsamples > 0:
            self._samples.append(ctypes.string_at(wav, numsamples * 2))
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == EVENT_WORD:
                self._events.append((ev.audio_position, ev.text_position, ev.length))
            i += 1
        return 0

    def synth(self, text: str, voice: str, rate_wpm: int) -> tuple[bytes, list[tuple[int, int, int]]]:
        """Synthesize ``text``; returns (16-bit mono PCM, [(audio ms, char position 1-based, length)])."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            raise ProviderError(f"espeak-ng has no voice {voice!r}")
        self.lib.espeak_SetParameter(ESPEAK_RATE, rate_wpm, 0)
        self._samples, self._events = [], []
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        status = self.lib.espeak_Synth(buf, len(buf), 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None)
        if status != EE_OK:
            raise ProviderError(f"espeak-ng synthesis failed with status {status}")
        return b"".join(self._samples), list(self._events)


def render(text: str, voice: str, rate_wpm: int = 165) -> tuple[bytes, int, list[tuple[int, int, int]]]:
    """espeak-ng's reading of ``text`` with ``voice``: (16-bit mono PCM, sample rate, word events as (audio ms,
    character position from 1, length)) — the reference the local aligner warps a voice onto. Raises
    :class:`ProviderError`."""
    with _Engine._lock:
        engine = _Engine.get()
        pcm, events = engine.synth(text, voice, rate_wpm)
        return pcm, engine.sample_rate, events


class LocalEspeak(LocalProvider):
    """espeak-ng TTS. ``synthesize(request, out_path)`` writes a 16-bit mono WAV and returns word timings."""

    modality: ClassVar[str] = "tts"
    code_version: ClassVar[str] = "local-espeak/1"
    default_model: ClassVar[str] = "espeak"
    max_concurrency: ClassVar[int | None] = 1  # espeak-ng is one process-wide engine

    @staticmethod
    def voice_for(language: str, voice: str | None = None) -> str:
        """espeak-ng voice for a BCP 47 tag: the explicit ``voice``, else VOICES[primary language]."""
        return voice or VOICES.get(language.split("-")[0].lower(), language.lower())

    def synthesize(self, request: SpeechRequest, out_path: Path) -> SpeechResult:
        voice = self.voice_for(request.language, request.voice)
        pcm, rate, events = render(request.text, voice, request.words_per_minute)
        if not pcm:
            raise ProviderError(f"espeak-ng produced no audio for {request.text[:40]!r}")
        pcm = _trim_trailing_silence(pcm, rate)
        duration = len(pcm) / 2 / rate
        words = _word_timings(request.text, events, duration)
        with atomic_path(out_path) as tmp, wave.open(str(tmp), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(rate)
            wf.writeframes(pcm)
        return SpeechResult(
            path=out_path,
            provider=self.provider_id,
            sample_rate=rate,
            duration_s=round(duration, 4),
            words=words,
            provider_details={"voice": voice, "rate_wpm": request.words_per_minute, "timing": "engine-events"},
        )


def _trim_trailing_silence(pcm: bytes, rate: int, threshold: int = 64) -> bytes:
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2")
    loud = np.nonzero(np.abs(samples) > threshold)[0]
    if loud.size == 0:
        return pcm
    end = min(samples.size, int(loud[-1]) + int(0.08 * rate))
    return samples[:end].tobytes()


def _word_timings(text: str, events: list[tuple[int, int, int]], duration: float) -> list[WordTiming]:
    """Turn espeak word events into timings; a word ends where the next starts (or at the audio end)."""
    words: list[WordTiming] = []
    for i, (ms, pos, length) in enumerate(events):
        start = ms / 1000.0
        end = events[i + 1][0] / 1000.0 if i + 1 < len(events) else duration
        char_start = max(pos - 1, 0)
        char_end = min(len(text), char_start + max(length, 1))
        word = text[char_start:char_end].strip()
        if not word:
            continue
        start = min(start, duration)
        words.append(
            WordTiming(
                word=word,
                start_s=round(start, 3),
                end_s=round(max(start, min(end, duration)), 3),
                char_start=char_start,
                char_end=char_end,
            )
        )
    return words
