"""The soundtrack spliced from per-shot AAC segments (media/soundtrack.py): exact, silent at the seams,
on the grid, and refusing what cannot be spliced. The voices are espeak-ng reading the Gettysburg Address."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from storyreel.media.audio import loudnorm_filter, measure_loudness, parse_ebur128
from storyreel.media.ffmpeg import MediaError, ffmpeg_exe
from storyreel.media.soundtrack import (
    FRAME,
    GUARD_FRAMES,
    RATE,
    Placed,
    encode_voice,
    frame_at,
    frames_for,
    measure_samples,
    measure_segment,
    read_voice,
    segment_samples,
    splice,
)
from storyreel.providers.base import SpeechRequest
from storyreel.providers.tts.local_espeak import LocalEspeak
from tests.conftest import INPUTS

LEAD = round(0.45 * RATE)


def _lines() -> list[str]:
    text = (INPUTS / "gettysburg-address.txt").read_text(encoding="utf-8")
    return [s.strip() + "." for s in text.replace("\n", " ").split(".") if len(s.split()) > 6][:3]


def _decode(path: Path) -> np.ndarray:
    """The left channel as ffmpeg decodes the file (edit list honoured), float32."""
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, 2)[:, 0]


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """Three leveled, encoded segments of real narration: [(m4a, mono samples before the encode)]."""
    folder = tmp_path_factory.mktemp("voices")
    tts, out = LocalEspeak(), []
    for i, line in enumerate(_lines()):
        wav = folder / f"s{i}.wav"
        tts.synthesize(SpeechRequest(text=line, language="en"), wav)
        samples = segment_samples(read_voice(wav), LEAD)
        m4a = folder / f"s{i}.m4a"
        encode_voice(samples, loudnorm_filter(measure_samples(samples)), m4a, what="test")
        out.append((m4a, samples))
    return out


def test_segment_samples_are_lead_voice_and_guard_in_whole_frames():
    voice = np.full(5000, 0.25, np.float32)
    seg = segment_samples(voice, 700)
    assert len(seg) % FRAME == 0 and len(seg) // FRAME == -(-5700 // FRAME) + GUARD_FRAMES
    assert not seg[:700].any() and (seg[700:5700] == 0.25).all() and not seg[5700:].any()


def test_grid_frames():
    assert frame_at(0) == 0 and frame_at(1.0) == 47 and frame_at(0.0107) == 1  # 46.875 frames per second
    assert frames_for(10.0) * FRAME >= 10.0 * RATE + FRAME  # a frame beyond the video: the edit list is in ms


def test_each_voice_is_leveled_to_the_target_on_its_own(voices):
    for m4a, _ in voices:
        delivered = measure_loudness(m4a)
        assert abs(delivered["input_i"] + 16.0) <= 0.5 and delivered["input_tp"] <= -1.0


def test_the_spliced_soundtrack_decodes_to_each_segment_exactly_with_digital_silence_between(voices, tmp_path):
    """Decoded, every segment's span of the soundtrack is sample for sample what the segment decodes to
    alone; the gaps between them and the first segment's lead are exact zeros; the voice starts at its grid
    frame plus the lead; the length is the frames asked for (less at most 1 ms of MP4 edit-list rounding)."""
    starts = [0]
    for m4a, samples in voices[:-1]:
        starts.append(starts[-1] + len(samples) // FRAME + 23)  # 23 frames of slot beyond the segment
    total = starts[-1] + len(voices[-1][1]) // FRAME + 30
    out = tmp_path / "soundtrack.m4a"
    assert splice([Placed(m4a, f) for (m4a, _), f in zip(voices, starts, strict=True)], total, out) == total
    track = _decode(out)
    assert total * FRAME - RATE // 1000 <= len(track) <= total * FRAME
    edges = []
    for (m4a, samples), frame in zip(voices, starts, strict=True):
        alone = _decode(m4a)
        assert len(alone) == len(samples)
        span = track[frame * FRAME: frame * FRAME + len(alone)]
        np.testing.assert_array_equal(span, alone)
        edges.append((frame * FRAME, frame * FRAME + len(alone)))
        onset = np.flatnonzero(np.abs(span) > 1e-3)[0]
        assert abs(onset - (LEAD + np.flatnonzero(np.abs(samples[LEAD:]) > 1e-3)[0])) < 32  # the voice where it was placed (the limiter's look-ahead compensated)
    for (_, end), (start, _) in zip(edges, [*edges[1:], (len(track), 0)], strict=True):
        assert not track[end:start].any()
    assert not track[:LEAD].any()


def test_segments_that_overlap_or_differ_in_settings_are_refused(voices, tmp_path):
    (a, sa), (b, _) = voices[0], voices[1]
    with pytest.raises(MediaError, match="inside"):
        splice([Placed(a, 0), Placed(b, len(sa) // FRAME - 1)], 4000, tmp_path / "x.m4a")
    with pytest.raises(MediaError, match="frame 0"):
        splice([Placed(a, 3)], 4000, tmp_path / "x.m4a")
    with pytest.raises(MediaError, match="past"):
        splice([Placed(a, 0)], 10, tmp_path / "x.m4a")
    broken = tmp_path / "broken.m4a"
    broken.write_text("not audio", encoding="utf-8")
    with pytest.raises(MediaError, match="broken.m4a"):
        splice([Placed(a, 0), Placed(broken, 4000)], 9000, tmp_path / "x.m4a")
    mono = tmp_path / "mono.m4a"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(b), "-ac", "1", "-c:a", "aac", str(mono)], check=True)
    with pytest.raises(MediaError, match="other AAC settings"):
        splice([Placed(a, 0), Placed(mono, 4000)], 9000, tmp_path / "x.m4a")


def test_a_silent_shot_gets_no_gain_and_stays_digital_silence(tmp_path):
    """A shot without a voice (the meter reads its −70 LUFS floor) is not raised by 54 dB: its segment is
    encoded as it is and decodes to zeros."""
    samples = segment_samples(np.zeros(0, np.float32), LEAD)
    chain = loudnorm_filter(measure_samples(samples))
    assert "volume" not in chain
    out = tmp_path / "silent.m4a"
    encode_voice(samples, chain, out, what="test")
    assert not _decode(out).any()


def _cli_meter(args: list[str], data: bytes | None = None) -> tuple[float, float]:
    """(LUFS, dBTP) from the summary of the ffmpeg CLI's ebur128 meter, as QC reads it (0.1 steps)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", *args, "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                          input=data, capture_output=True, check=True)
    return parse_ebur128(proc.stderr.decode())


def test_the_in_process_meter_reads_what_the_ffmpeg_meter_reads(voices):
    """The leveling's measurements (libavfilter's ebur128 in this process, from frame metadata) agree with
    the CLI meter QC runs — before the encode on the dual-mono samples, after it on the decoded AAC."""
    for m4a, samples in voices:
        before = measure_samples(samples)
        stereo = np.repeat(samples, 2).astype("<f4").tobytes()
        cli_i, cli_tp = _cli_meter(["-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "pipe:0"], stereo)
        assert abs(before["input_i"] - cli_i) <= 0.051 and abs(before["input_tp"] - cli_tp) <= 0.051, (before, cli_i, cli_tp)
        after = measure_segment(m4a)
        cli_i, cli_tp = _cli_meter(["-i", str(m4a)])
        assert abs(after["input_i"] - cli_i) <= 0.051 and abs(after["input_tp"] - cli_tp) <= 0.051, (after, cli_i, cli_tp)
        assert abs(after["input_i"] - before["input_i"]) > 0.3  # leveled: the two are not the same signal


def test_the_meter_reads_silence_and_a_too_short_signal_as_its_gate_and_refuses_a_broken_file(tmp_path):
    assert measure_samples(np.zeros(2 * RATE, np.float32)) == {"input_i": -70.0, "input_tp": float("-inf")}
    assert measure_samples(np.zeros(100, np.float32))["input_i"] == -70.0  # under one 100 ms block
    broken = tmp_path / "broken.m4a"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    with pytest.raises(MediaError, match="broken.m4a"):
        measure_segment(broken)
