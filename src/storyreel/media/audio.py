"""The audio pass: narration placed on the timeline, then loudness-normalized once.

Loudness target: −16 LUFS integrated (EBU R128 / ITU-R BS.1770, online-platform target), true peak
≤ −2 dBTP (1 dB of headroom under the −1 dBTP delivery limit for AAC inter-sample overs). The mix is
measured once with ffmpeg ``ebur128`` (6× faster than a ``loudnorm`` analysis pass, which resamples to
192 kHz) and corrected by a linear gain, with a peak limiter only when the gain would push the true peak
past the target; QC measures the delivered file again.
"""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from storyreel.media.ffmpeg import MediaError, ffmpeg_exe
from storyreel.media.standards import MIX_TRUE_PEAK_DBTP as TARGET_TP
from storyreel.media.standards import TARGET_LUFS

if TYPE_CHECKING:  # numpy is imported where samples are handled, not on the no-op path
    import numpy as np


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the sample rate of a 16-bit PCM WAV (channels averaged)."""
    import numpy as np

    with wave.open(str(path), "rb") as wf:
        rate, channels, width = wf.getframerate(), wf.getnchannels(), wf.getsampwidth()
        raw = wf.readframes(wf.getnframes())
    if width != 2:
        raise MediaError(f"{path.name}: expected 16-bit PCM, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def write_wav(path: Path, pcm: bytes, rate: int) -> None:
    """Write 16-bit little-endian mono ``pcm`` at ``rate`` Hz as a WAV, atomically."""
    from storyreel.core.atomic import atomic_path

    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(pcm)


def mix_narration(placements: list[tuple[Path, float]], duration_s: float, out_path: Path) -> int:
    """Place each (wav, start seconds) on a silent track ``duration_s`` long and write a 16-bit WAV with
    the voice centred on two identical channels (the delivered layout, so loudness is measured on what
    ships: a mono measurement reads 3 LU lower than the same signal on both stereo channels).

    Clips are resampled (linear) to the first clip's rate. Returns the sample rate.
    """
    import numpy as np

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
    pcm = np.repeat(pcm, 2)  # interleaved L R
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_path), "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(pcm.tobytes())
    return rate


def parse_ebur128(log: str) -> tuple[float | None, float | None]:
    """(integrated LUFS, true peak dBTP) from the summary ffmpeg ``ebur128=peak=true`` prints."""
    summary = log[log.rfind("Summary:"):] if "Summary:" in log else ""
    integrated = peak = None
    if m := re.search(r"I:\s+(-?[\d.]+|-inf)\s+LUFS", summary):
        integrated = float(m.group(1))
    if m := re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf)\s+dBFS", summary):
        peak = float(m.group(1))
    return integrated, peak


def measure_loudness(path: Path, *, true_peak: bool = True) -> dict[str, float]:
    """EBU R128 measurement of an audio file: ``input_i`` (LUFS) and ``input_tp`` (dBTP; −inf when
    ``true_peak`` is off — the 4× oversampling meter is more than half of the time, 0.71 against 0.31 s
    for 105 s of AAC here). Silence gives −inf. Raises :class:`MediaError` if ffmpeg cannot read the file."""
    meter = "ebur128=peak=true:framelog=quiet" if true_peak else "ebur128=framelog=quiet"
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0", "-af", meter, "-f", "null", "-"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    integrated, peak = parse_ebur128(proc.stderr)
    if proc.returncode != 0 or integrated is None:
        raise MediaError(f"loudness measurement failed for {path.name}:\n{proc.stderr[-600:]}")
    return {"input_i": integrated, "input_tp": peak if peak is not None else float("-inf")}


def loudnorm_filter(measured: dict[str, float]) -> str:
    """The correction: gain to −16 LUFS; a limiter at −2 dBFS when the gain would take the true peak past
    −2 dBTP; then 48 kHz. Silence is left alone: ffmpeg's meter reads −70 LUFS (its absolute gate, EBU R128)
    when every block is gated out, and a gain from there would only raise a noise floor."""
    if measured["input_i"] == float("-inf") or measured["input_i"] <= -70:
        return "aresample=48000"
    gain = TARGET_LUFS - measured["input_i"]
    chain = f"volume={gain:.2f}dB"
    if measured["input_tp"] + gain > TARGET_TP:
        chain += f",alimiter=limit={10 ** (TARGET_TP / 20):.4f}:attack=2:release=60:level=false:latency=true"
    return chain + ",aresample=48000"


MUSIC_BED_LU = -18.0  # music bed loudness relative to the voice, before ducking
DUCK_RATIO = 8.0  # sidechain compression of the bed while the voice speaks (≈ 10–15 dB of ducking)


def mix_music(voice_wav: Path, music: Path, out_wav: Path, duration_s: float, voice_lufs: float) -> None:
    """Add a music bed under the voice and write a 48 kHz stereo 16-bit WAV ``duration_s`` long.

    The music is looped to the duration, set ``MUSIC_BED_LU`` below the voice's integrated loudness
    (both measured with EBU R128), faded in/out over 1.5 s, and ducked under the voice by a sidechain
    compressor keyed on the voice (ffmpeg ``sidechaincompress``: attack 20 ms, release 400 ms).
    Raises :class:`MediaError` if the music cannot be decoded.
    """
    from storyreel.media.ffmpeg import run_ffmpeg

    music_i = measure_loudness(music)["input_i"]
    gain_db = 0.0 if music_i < -70 or voice_lufs < -70 else (voice_lufs + MUSIC_BED_LU) - music_i
    fade = min(1.5, duration_s / 4)
    graph = (
        f"[1:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=0:{duration_s:.6f},"
        f"volume={gain_db:.2f}dB,afade=t=in:d={fade:.3f},afade=t=out:st={duration_s - fade:.6f}:d={fade:.3f}[m];"
        "[0:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,asplit=2[v1][v2];"
        f"[m][v1]sidechaincompress=threshold=0.015:ratio={DUCK_RATIO}:attack=20:release=400[duck];"
        "[v2][duck]amix=inputs=2:duration=first:normalize=0[out]"
    )
    run_ffmpeg(
        ["-i", str(voice_wav), "-stream_loop", "-1", "-i", str(music), "-filter_complex", graph, "-map", "[out]",
         "-t", f"{duration_s:.6f}", "-c:a", "pcm_s16le", str(out_wav)],
        what=f"mixing the music bed {music.name}",
    )


def build_mix(placements: list[tuple[Path, float]], duration_s: float, work: Path, music: Path | None = None) -> tuple[Path, dict[str, float]]:
    """The audio before the final loudness pass: narration placed on the timeline, plus the ducked music
    bed when ``music`` is given. Returns the WAV and its loudness measurement (first loudnorm pass),
    ready for :func:`loudnorm_filter`."""
    mix = work / "narration-mix.wav"
    mix_narration(placements, duration_s, mix)
    measured = measure_loudness(mix)
    if music is not None:
        bed = work / "music-mix.wav"
        mix_music(mix, music, bed, duration_s, measured["input_i"])
        mix, measured = bed, measure_loudness(bed)
    return mix, measured
