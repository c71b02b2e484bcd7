"""The local aligner: word timings for a voice that returns none (Gemini TTS), by forced alignment of the known
text to the audio — offline, nothing downloaded.

- **English**: ``pocketsphinx`` (5.x; its en-us acoustic model and CMU dictionary ship inside the wheel) aligns
  the words as spoken — what :mod:`~storyreel.providers.tts.text` says for them, so ``1863`` is aligned as
  "eighteen sixty-three" — to the audio resampled to 16 kHz (``Decoder(lm=None)``, ``set_align_text``,
  ``process_raw(full_utt=True)``, ``seg()``: 10 ms frames). A word the dictionary lacks gets a pronunciation
  from espeak-ng's IPA (Piper's phonemizer) mapped to ARPAbet (:data:`IPA_ARPABET`). pocketsphinx's word
  boundaries sit early by a constant (the frame's window and the HMM's entry state take the onset):
  :data:`SPHINX_LEAD_S`, measured on the Gettysburg Address (not on the fable, which the benchmark scores).
- **Other languages** (and English when pocketsphinx finds no path): dynamic time warping of the voice against
  espeak-ng's rendering of the same text, whose word events are exact: MFCCs of both (from a log-mel
  spectrogram, 25 ms windows every 10 ms, each coefficient standardized per recording so two speakers
  compare), warped with ``dtw-python`` (``symmetric2`` steps); each word starts where the path takes
  espeak-ng's word start.

Measured against Piper's own (exact) timings in ``benchmarks/aligner_bench.py`` (docs/performance.md).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from storyreel.core.words import WordTiming
from storyreel.providers.tts.text import Token, tokens

RATE = 16000
HOP = 160  # 10 ms at 16 kHz: pocketsphinx's frame rate, and the DTW's
SPHINX_LEAD_S = 0.058
"""pocketsphinx's word starts are this much earlier than the voice's own phoneme timings (the median over the 274
words of the Gettysburg Address read by Piper en_US-joe-medium, ``benchmarks/aligner_bench.py --calibrate``,
2026-12-07); added to every start."""
DTW_LEAD_S = 0.051
"""The same for the DTW against espeak-ng (espeak-ng's word events come before its onsets; same measurement)."""

IPA_ARPABET = {
    "tʃ": "CH", "dʒ": "JH", "eɪ": "EY", "aɪ": "AY", "ɔɪ": "OY", "aʊ": "AW", "oʊ": "OW", "əʊ": "OW", "ɪə": "IH R",
    "ɛə": "EH R", "ʊə": "UH R", "ɑː": "AA", "ɔː": "AO", "iː": "IY", "uː": "UW", "ɜː": "ER", "ɚ": "ER", "ɝ": "ER",
    "ɜ": "ER", "ə": "AH", "ʌ": "AH", "ɐ": "AH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "ɛ": "EH", "e": "EH", "æ": "AE",
    "a": "AA", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "p": "P", "b": "B", "t": "T",
    "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH",
    "ʒ": "ZH", "h": "HH", "m": "M", "n": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "w": "W", "j": "Y", "ɹ": "R", "r": "R",
    "ɾ": "D", "ʔ": "T", "x": "HH", "ç": "HH", "y": "UW", "ø": "ER", "œ": "ER",
}
"""espeak-ng's English IPA → the CMU dictionary's ARPAbet (CMUdict's phone set; the longest match first)."""


@dataclass(frozen=True)
class Alignment:
    """Word timings of a text in an audio and how they were found (``pocketsphinx`` or ``dtw-espeak``)."""

    words: list[WordTiming]
    method: str


def align(samples: np.ndarray, rate: int, text: str, language: str) -> Alignment:
    """Word timings of ``text`` (its written words, with character offsets) in mono ``samples`` (int16 or float
    in [-1, 1]) at ``rate`` Hz. English with pocketsphinx, else (or when pocketsphinx finds no path) by DTW
    against espeak-ng. Raises :class:`~storyreel.core.errors.ProviderError` when the text has no words."""
    from storyreel.core.errors import ProviderError

    words = tokens(text, language)
    if not words:
        raise ProviderError(f"nothing to align in {text[:40]!r}")
    audio = _to_16k(samples, rate)
    duration = len(samples) / rate
    if language.split("-")[0].lower() == "en":
        starts = _sphinx(audio, words)
        if starts is not None:
            return Alignment(_timings(words, starts, duration), "pocketsphinx")
    return Alignment(_timings(words, _dtw(audio, text, language, words), duration), "dtw-espeak")


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 in [-1, 1] at 16 kHz (polyphase resampling)."""
    from math import gcd

    from scipy.signal import resample_poly

    x = samples.astype(np.float32)
    if samples.dtype == np.int16:
        x /= 32768.0
    if rate != RATE:
        g = gcd(RATE, rate)
        x = resample_poly(x, RATE // g, rate // g).astype(np.float32)
    return x


def _timings(words: list[Token], starts: list[float | None], duration: float) -> list[WordTiming]:
    """Timings from each word's start (None: not found — placed between its neighbours); a word ends where the
    next begins, the last one at the end of the audio. Starts never go backwards."""
    known = [(i, s) for i, s in enumerate(starts) if s is not None]
    filled: list[float] = []
    for i, s in enumerate(starts):
        if s is None:
            before = max(((j, t) for j, t in known if j < i), default=(-1, 0.0))
            after = min(((j, t) for j, t in known if j > i), default=(len(starts), duration))
            s = before[1] + (after[1] - before[1]) * (i - before[0]) / (after[0] - before[0])
        filled.append(min(max(s, filled[-1] if filled else 0.0), duration))
    last = int(duration * 1000) / 1000  # milliseconds, never past the audio
    out = []
    for i, w in enumerate(words):
        end = filled[i + 1] if i + 1 < len(filled) else duration
        start = min(round(filled[i], 3), last)
        out.append(WordTiming(word=w.word, start_s=start, end_s=max(start, min(round(end, 3), last)), char_start=w.start, char_end=w.end))
    return out


# --------------------------------------------------------------------------------------- pocketsphinx
class _Sphinx:
    """One decoder per thread (a decoder holds one utterance; loading the model takes ≈ 0.4 s)."""

    local = threading.local()

    @classmethod
    def decoder(cls):  # noqa: ANN206
        if getattr(cls.local, "decoder", None) is None:
            from pocketsphinx import Decoder

            cls.local.decoder = Decoder(lm=None, loglevel="FATAL")
        return cls.local.decoder


def _spoken_words(word: Token) -> list[str]:
    """The dictionary words said for one written word ("1863" → eighteen, sixty, three)."""
    return [w.lower() for w in re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)?", word.say)]


def _arpabet(word: str) -> str | None:
    """A CMUdict pronunciation of ``word`` from espeak-ng's IPA (None when it maps to nothing)."""
    from piper.phonemize_espeak import EspeakPhonemizer

    ipa = "".join(p for sentence in EspeakPhonemizer().phonemize("en-us", word) for p in sentence if p not in "ˈˌ ")
    phones, at = [], 0
    while at < len(ipa):
        for size in (2, 1):
            unit = ipa[at:at + size]
            if unit in IPA_ARPABET:
                phones.append(IPA_ARPABET[unit])
                at += size
                break
        else:
            at += 1  # length marks and other diacritics
    return " ".join(phones) or None


def _sphinx(audio: np.ndarray, words: list[Token]) -> list[float | None] | None:
    """Each written word's start by pocketsphinx forced alignment, or None when it finds no alignment."""
    decoder = _Sphinx.decoder()
    said: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(words):
        for s in _spoken_words(w):
            if decoder.lookup_word(s) is None:
                phones = _arpabet(s)
                if phones is None:
                    continue
                decoder.add_word(s, phones, True)
            said.append(s)
            owner.append(i)
    if not said:
        return None
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    try:
        decoder.set_align_text(" ".join(said))
        decoder.start_utt()
        decoder.process_raw(pcm, no_search=False, full_utt=True)
        decoder.end_utt()
        found = [s for s in decoder.seg() or [] if not (s.word.startswith(("<", "[")) or s.word == "(NULL)")]  # None: no path
    except RuntimeError:
        return None
    if len(found) != len(said):
        return None
    starts: list[float | None] = [None] * len(words)
    for seg, i in zip(found, owner, strict=True):
        if starts[i] is None:
            starts[i] = seg.start_frame * HOP / RATE + SPHINX_LEAD_S
    return starts


# ---------------------------------------------------------------------------------------- DTW vs espeak
N_MELS = 40
N_MFCC = 13
WINDOW = 400  # 25 ms at 16 kHz
MAX_CELLS = 16_000_000
"""The largest DTW cost matrix (voice frames × reference frames; 8 bytes a cell, ≈ 128 MB): longer narrations
are aligned on frames pooled 2, 3, … at a time (a 5,000-character shot, ≈ 5 minutes, on 70 ms frames)."""


def mfcc(audio: np.ndarray) -> np.ndarray:
    """MFCCs 1–12 and log energy of 16 kHz ``audio`` (frames × 13, one frame every 10 ms), each column
    standardized (zero mean, unit variance) over the recording: log-mel energies (40 HTK-mel bands, 0–8 kHz,
    Hann windows of 25 ms) through a DCT-II."""
    from scipy.fft import dct, rfft

    if len(audio) < WINDOW:
        audio = np.pad(audio, (0, WINDOW - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, WINDOW)[::HOP] * np.hanning(WINDOW)
    power = np.abs(rfft(frames, n=512)) ** 2
    mel = _mel_bank()
    logmel = np.log(power @ mel.T + 1e-10)
    coeffs = dct(logmel, type=2, norm="ortho", axis=1)[:, :N_MFCC]
    coeffs[:, 0] = np.log(power.sum(axis=1) + 1e-10)
    return (coeffs - coeffs.mean(axis=0)) / (coeffs.std(axis=0) + 1e-8)


def _pooled(features: np.ndarray, size: int) -> np.ndarray:
    """``features`` averaged over runs of ``size`` frames (the last run may be shorter)."""
    if size == 1:
        return features
    padded = np.pad(features, ((0, -len(features) % size), (0, 0)), mode="edge")
    return padded.reshape(-1, size, features.shape[1]).mean(axis=1)


def _mel_bank() -> np.ndarray:
    """Triangular HTK-mel filters (40 × 257) over 0–8 kHz for a 512-point FFT at 16 kHz."""
    def to_mel(hz):  # noqa: ANN001, ANN202
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    edges = 700.0 * (10 ** (np.linspace(to_mel(0.0), to_mel(RATE / 2), N_MELS + 2) / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(512, 1.0 / RATE)
    bank = np.zeros((N_MELS, len(bins)))
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        bank[m] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0.0, None)
    return bank


def _dtw(audio: np.ndarray, text: str, language: str, words: list[Token]) -> list[float | None]:
    """Each written word's start: espeak-ng renders the text (its word events are exact), DTW warps that
    rendering onto the voice, and each espeak-ng word start is carried along the warping path."""
    from dtw import dtw

    from storyreel.providers.tts.local_espeak import LocalEspeak, render

    pcm, rate, events = render(text, LocalEspeak.voice_for(language))
    reference = _to_16k(np.frombuffer(pcm, dtype="<i2"), rate)
    a, b = mfcc(audio), mfcc(reference)
    pool = max(1, int(np.ceil(np.sqrt(len(a) * len(b) / MAX_CELLS))))  # the cost matrix stays under MAX_CELLS
    path = dtw(_pooled(a, pool), _pooled(b, pool), dist_method="euclidean", step_pattern="symmetric2")
    first = np.full(len(b), -1)
    for i, j in zip(path.index1[::-1] * pool, path.index2[::-1] * pool, strict=True):
        first[j:j + pool] = i  # walking back, the last write is the earliest voice frame on espeak-ng frame j
    by_char = {position - 1: ms for ms, position, _ in events}  # espeak-ng counts characters from 1
    starts: list[float | None] = []
    for w in words:
        ms = by_char.get(w.raw_start, by_char.get(w.start))
        if ms is None:
            starts.append(None)
            continue
        j = min(len(b) - 1, int(ms / 10))
        starts.append(float(first[j]) * HOP / RATE + DTW_LEAD_S if first[j] >= 0 else None)
    return starts
