"""The audio pass: narration placed on the timeline, then loudness-normalized once.

Loudness target: −16 LUFS integrated, true peak ≤ −1.5 dBTP, LRA 11 (EBU R128 measurement as used for
online platforms), applied by ffmpeg ``loudnorm`` in two passes (measure, then linear correction).
"""

from __future__ import annotations

import json
import re
import subprocess
import wave
from pathlib import Path

import numpy as np

from storyreel.media.ffmpeg import MediaError, ffmpeg_exe

TARGET_LUFS = -16.0
TARGET_TP = -1.5
TARGET_LRA = 11.0


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the sample rate of a 16-bit PCM WAV (channels averaged)."""
    with wave.open(str(path), "rb") as wf:
        rate, channels, width = wf.getframerate(), wf.getnchannels(), wf.getsampwidth()
        raw = wf.readframes(wf.getnframes())
    if width != 2:
        raise MediaError(f"{path.name}: expected 16-bit PCM, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def mix_narration(placements: list[tuple[Path, float]], duration_s: float, out_path: Path) -> int:
    """Place each (wav, start seconds) on a silent track ``duration_s`` long and write a mono 16-bit WAV.

    Clips are resampled (linear) to the first clip's rate. Returns the sample rate.
    """
    rate = read_wav(placements[0][0])[1] if placements else 48000
    track = np.zeros(int(round(duration_s * rate)), dtype=np.float32)
    for path, start in placements:
        samples, r = read_wav(path)
        if r != rate:
            positions = np.arange(0, len(samples) * rate / r) * r / rate
            samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
        i0 = int(round(start * rate))
        i1 = min(len(track), i0 + len(samples))
        if i1 > i0:
            track[i0:i1] += samples[: i1 - i0]
    pcm = (np.clip(track, -1.0, 1.0) * 32767).astype("<i2")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(pcm.tobytes())
    return rate


def measure_loudness(path: Path) -> dict[str, float]:
    """First loudnorm pass: measured ``input_i`` (LUFS), ``input_tp`` (dBTP), ``input_lra``, ``input_thresh``."""
    argv = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-af",
        f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TP}:LRA={TARGET_LRA}:print_format=json", "-f", "null", "-",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", proc.stderr)
    if proc.returncode != 0 or not match:
        raise MediaError(f"loudness measurement failed for {path.name}:\n{proc.stderr[-600:]}")
    data = json.loads(match.group(0))
    return {k: float(data[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")}


def loudnorm_filter(measured: dict[str, float]) -> str:
    """Second-pass filter: linear gain to −16 LUFS with true-peak limiting, then 48 kHz."""
    if measured["input_i"] == float("-inf") or measured["input_i"] < -70:
        return "aresample=48000"
    return (
        f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TP}:LRA={TARGET_LRA}:linear=true"
        f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']},aresample=48000"
    )
