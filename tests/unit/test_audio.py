"""The audio pass: loudness normalization to −16 LUFS / ≤ −1 dBTP, and the music bed ducked under the voice."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from storyreel.media.audio import build_mix, loudnorm_filter, read_wav
from storyreel.media.ffmpeg import run_ffmpeg
from storyreel.media.qc import measure_signal

RATE = 24000


def _wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _speechlike(seconds: float, level: float, seed: int) -> np.ndarray:
    """Noise bursts shaped like syllables (4 Hz envelope), at peak ``level``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    return (rng.standard_normal(len(t)) * 0.3 * env * level).astype(np.float32)


@pytest.mark.parametrize("level", [0.02, 0.9])  # about −45 and −12 LUFS before the pass
def test_loudness_is_normalized_to_target(tmp_path, level):
    clips = [(_wav(tmp_path / f"s{i}.wav", _speechlike(3.0, level, i)), 0.5 + 3.5 * i) for i in range(3)]
    mix, measured = build_mix(clips, 11.0, tmp_path)
    out = tmp_path / "out.m4a"
    run_ffmpeg(["-i", str(mix), "-af", loudnorm_filter(measured), "-c:a", "aac", "-ar", "48000", "-ac", "2", str(out)], what="audio pass")
    stats = measure_signal(out, has_video=False, has_audio=True)
    assert stats.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert stats.true_peak_dbtp <= -1.0


def _band_level_db(samples: np.ndarray, rate: int, freq: float, t0: float, t1: float) -> float:
    seg = samples[int(t0 * rate): int(t1 * rate)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    band = spectrum[(freqs > freq - 15) & (freqs < freq + 15)]
    return 20 * np.log10(band.max() + 1e-12)


def test_music_bed_is_ducked_under_the_voice(tmp_path):
    """Voice: a 1 kHz tone 1.0–2.5 s; music: a 200 Hz tone throughout. The 200 Hz level while the voice
    speaks is at least 6 dB under its level in the pauses, and the voice itself is untouched."""
    t = np.arange(int(1.5 * RATE)) / RATE
    voice = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    music = tmp_path / "music.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=200:duration=6:sample_rate=44100", "-ac", "2", str(music)], what="music")
    mix, _ = build_mix([(_wav(tmp_path / "v.wav", voice), 1.0)], 6.0, tmp_path, music=music)
    samples, rate = read_wav(mix)
    assert rate == 48000 and len(samples) == pytest.approx(6.0 * 48000, abs=2)
    during = _band_level_db(samples, rate, 200, 1.5, 2.4)
    pause = _band_level_db(samples, rate, 200, 3.4, 4.3)  # after the 400 ms release, before the fade-out
    assert pause - during >= 6.0, (pause, during)
    voice_db = _band_level_db(samples, rate, 1000, 1.5, 2.4)
    assert voice_db > during + 10  # the voice stays on top
    assert _band_level_db(samples, rate, 1000, 3.4, 4.3) < voice_db - 30
