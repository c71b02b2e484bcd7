"""The soundtrack as AAC segments, one per shot, spliced packet by packet.

An edit of one shot's narration re-encodes that shot's audio only: every shot's voice is leveled and
encoded on its own (``stages/audio_segment.py``) and the soundtrack is their AAC packets laid on one grid
(``stages/mix.py``), with no second encode.

Why the splice is exact. AAC-LC codes 1024-sample frames (ISO/IEC 14496-3 §4.5.2.1, ``frameLengthFlag``
0); a decoded frame depends on its own packet and on the previous one only (the overlap-add of the
MDCT halves and the previous window shape). Each segment starts with the shot's lead-in silence and ends
with :data:`GUARD_FRAMES` frames of digital silence, and the packets of silence code all-zero spectra.
So wherever one segment's packets meet another's — or meet the silent packets that fill a shot's slot up
to the next segment — both sides decode to exact zeros, and each segment decodes to the very samples it
decodes to alone (checked sample for sample in ``tests/unit/test_soundtrack.py``).

The grid. A shot's segment starts at the AAC frame nearest to its slot's start
(:func:`frame_at`): up to 512 samples (10.7 ms) away from the video's slot, far inside the ±40 ms
audio/video tolerance of EBU R37. Its narration starts ``lead`` samples later, so a segment's bytes do
not depend on where the shot sits in the video: an edit that moves the later shots re-encodes nothing
of theirs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from storyreel.media.ffmpeg import MediaError, aac_encode_args, run_ffmpeg_stdin

if TYPE_CHECKING:
    from collections.abc import Iterable

    import av
    import numpy as np

RATE = 48000
"""Sample rate of the soundtrack (Hz): YouTube's recommended upload rate."""

FRAME = 1024
"""Samples per AAC-LC frame (ISO/IEC 14496-3 §4.5.2.1)."""

GUARD_FRAMES = 4
"""Frames of digital silence that end every segment: the voice's last MDCT window (2048 samples) and the
encoder's block-switching look-ahead end inside them, so the packets past them are silence."""


def frame_at(seconds: float) -> int:
    """The AAC frame (of :data:`FRAME` samples at :data:`RATE`) nearest to ``seconds`` on the timeline."""
    return round(seconds * RATE / FRAME)


def frames_for(duration_s: float) -> int:
    """AAC frames in a soundtrack for a video ``duration_s`` long: one more than covers it, because an MP4
    edit list states durations in milliseconds and may cut up to 1 ms off the end."""
    return -(-round(duration_s * RATE) // FRAME) + 1


def read_voice(path: Path) -> np.ndarray:
    """A narration file (any format and rate ffmpeg reads; stereo is averaged) as mono float32 samples at
    :data:`RATE`, resampled with libswresample. Raises :class:`MediaError` when it cannot be decoded."""
    import av
    import numpy as np

    parts: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            for frame in container.decode(stream):
                parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"narration {path.name} cannot be decoded: {exc}") from exc
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def segment_samples(voice: np.ndarray, lead: int) -> np.ndarray:
    """The segment's mono samples: ``lead`` samples of silence, the voice, then silence up to the next frame
    boundary plus :data:`GUARD_FRAMES` frames — a whole number of frames."""
    import numpy as np

    frames = -(-(lead + len(voice)) // FRAME) + GUARD_FRAMES
    out = np.zeros(frames * FRAME, np.float32)
    out[lead:lead + len(voice)] = voice
    return out


def _stereo(mono: np.ndarray) -> bytes:
    """Interleaved dual-mono float32: the voice centred on both channels, as delivered (a mono measurement
    reads 3 LU lower than the same signal on two channels)."""
    import numpy as np

    return np.repeat(mono, 2).astype("<f4").tobytes()


PCM_INPUT = ["-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "pipe:0"]


def _meter(frames: Iterable[av.AudioFrame], *, layout: str, fmt: str, dual_mono: bool) -> dict[str, float]:
    """EBU R128 integrated loudness ``input_i`` (LUFS) and true peak ``input_tp`` (dBTP) of audio frames at
    :data:`RATE`, by libavfilter's ``ebur128`` meter inside this process — the meter QC runs through the
    ffmpeg CLI — read from the metadata it attaches to each frame (``lavfi.r128.I`` and
    ``lavfi.r128.true_peak``, the running values, so the last frame's are the programme's) instead of the
    summary it logs. Audio shorter than one 100 ms block, or gated out entirely, reads −70 LUFS (the meter's
    absolute gate, as the CLI reports silence); no peak reads −inf dBTP."""
    import math

    import av

    graph = av.filter.Graph()
    src = graph.add_abuffer(format=fmt, sample_rate=RATE, layout=layout, time_base=Fraction(1, RATE))
    meter = graph.add("ebur128", "peak=true:metadata=1" + (":dualmono=true" if dual_mono else ""))
    sink = graph.add("abuffersink")
    src.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    last: dict[str, str] = {}

    def drain() -> None:
        nonlocal last
        while True:
            try:
                out = graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            if "lavfi.r128.I" in out.metadata:
                last = dict(out.metadata)

    for frame in frames:
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    integrated = float(last.get("lavfi.r128.I", "-70"))
    peak = float(last.get("lavfi.r128.true_peak", "0"))
    return {"input_i": max(integrated, -70.0) if math.isfinite(integrated) else -70.0,
            "input_tp": 20 * math.log10(peak) if peak > 0 else float("-inf")}


METER_CHUNK = 4800
"""Samples per frame handed to the meter (100 ms: one block of EBU R128's momentary loudness)."""


def measure_samples(mono: np.ndarray) -> dict[str, float]:
    """EBU R128 integrated loudness ``input_i`` (LUFS) and true peak ``input_tp`` (dBTP) of ``mono`` at
    :data:`RATE` as it will be delivered: dual-mono, the voice centred on both channels (a mono measurement
    reads 3 LU lower than the same signal on two channels). Measured in this process (:func:`_meter`):
    the ffmpeg process it replaced cost ≈ 28 ms to start and the doubled samples on its pipe. Silence
    reads −70 LUFS. Raises :class:`MediaError` if the meter fails."""
    import av
    import numpy as np

    def frames():  # noqa: ANN202
        for i in range(0, len(mono), METER_CHUNK):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(mono[i:i + METER_CHUNK], np.float32).reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, i, Fraction(1, RATE)
            yield frame

    try:
        return _meter(frames(), layout="mono", fmt="flt", dual_mono=True)
    except av.FFmpegError as exc:
        raise MediaError(f"loudness measurement failed: {exc}") from exc


def measure_segment(path: Path) -> dict[str, float]:
    """EBU R128 integrated loudness and true peak of an encoded segment as a player decodes it (libavcodec's
    AAC decoder; the encoder delay the MP4 edit list skips is skipped), in this process. Raises
    :class:`MediaError` when the file holds no decodable audio."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            if stream.sample_rate != RATE:
                raise MediaError(f"{path.name}: expected {RATE} Hz, got {stream.sample_rate} Hz")
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)  # as decoded: a no-op for the AAC here

            def frames():  # noqa: ANN202
                for frame in container.decode(stream):
                    yield from resampler.resample(frame)
                yield from resampler.resample(None)

            return _meter(frames(), layout="stereo", fmt="fltp", dual_mono=False)
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"{path.name} cannot be measured: {exc}") from exc


def encode_voice(mono: np.ndarray, chain: str, out: Path, *, what: str) -> None:
    """Encode dual-mono ``mono`` (a whole number of frames) through the ffmpeg filter ``chain`` (gain and
    limiter, :func:`storyreel.media.audio.loudnorm_filter`) to an AAC MP4 at ``out`` with the soundtrack's
    encoder settings. Raises :class:`MediaError` on failure."""
    run_ffmpeg_stdin([*PCM_INPUT, "-af", chain, *aac_encode_args(), "-f", "mp4", str(out)], _stereo(mono), what=what)


@dataclass(frozen=True)
class Placed:
    """A segment on the soundtrack: its AAC file and the grid frame where its first sample goes."""

    path: Path
    frame: int


def _packets(path: Path) -> tuple[list[bytes], list[bytes], object]:
    """(priming packets, frame packets, the input stream) of a segment: packets before pts 0 carry the
    encoder's delay; the others are its frames, in order, one per :data:`FRAME` samples."""
    import av

    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise MediaError(f"{path.name} cannot be read: {exc}") from exc
    try:
        stream = container.streams.audio[0]
        if stream.codec_context.name != "aac" or stream.sample_rate != RATE:
            raise MediaError(f"{path.name}: expected AAC at {RATE} Hz, got {stream.codec_context.name} at {stream.sample_rate} Hz")
        priming, body = [], []
        for packet in container.demux(stream):
            if packet.size:
                (priming if packet.pts < 0 else body).append(bytes(packet))
    except (IndexError, av.FFmpegError) as exc:
        container.close()
        raise MediaError(f"{path.name} holds no readable AAC track: {exc}") from exc
    except MediaError:
        container.close()
        raise
    return priming, body, (container, stream)


def splice(segments: list[Placed], total_frames: int, out: Path) -> int:
    """Write the soundtrack MP4 at ``out``: every segment's packets from its grid frame on, the gaps filled
    with packets of silence, ``total_frames`` frames in all after the first segment's encoder delay (which
    the MP4 edit list skips, as for any AAC file). Nothing is decoded or encoded.

    ``segments`` must be in timeline order, the first at frame 0. Returns the frames written. Raises
    :class:`MediaError` when two segments overlap, a segment has no silent guard packet, or the segments
    were encoded with different settings (their AudioSpecificConfig differs)."""
    import av

    if not segments or segments[0].frame != 0:
        raise MediaError("the soundtrack's first segment must start at frame 0")
    opened: list[tuple[list[bytes], list[bytes], object]] = []
    try:
        for seg in segments:
            opened.append(_packets(seg.path))
        first_stream = opened[0][2][1]
        config = bytes(first_stream.codec_context.extradata or b"")
        for seg, (_, body, (_, stream)) in zip(segments, opened, strict=True):
            if bytes(stream.codec_context.extradata or b"") != config:
                raise MediaError(f"{seg.path.name} was encoded with other AAC settings than {segments[0].path.name}")
            if len(body) <= GUARD_FRAMES:
                raise MediaError(f"{seg.path.name} has {len(body)} frames: no silent guard to splice on")
        silence = opened[0][1][-1]  # the last guard frame: all-zero spectra after silent frames
        base = Fraction(1, RATE)
        with av.open(str(out), "w", format="mp4", options={"movie_timescale": str(RATE)}) as container:
            ostream = container.add_stream_from_template(first_stream)

            def put(data: bytes, frame: int) -> None:
                packet = av.Packet(data)
                packet.pts = packet.dts = frame * FRAME
                packet.duration, packet.time_base, packet.stream = FRAME, base, ostream
                container.mux(packet)

            priming = opened[0][0]
            for k, data in enumerate(priming):
                put(data, k - len(priming))
            position = 0
            for i, (seg, (_, body, _)) in enumerate(zip(segments, opened, strict=True)):
                if seg.frame < position:
                    raise MediaError(f"{seg.path.name} starts at frame {seg.frame}, inside {segments[i - 1].path.name} (ends at {position})")
                for frame in range(position, seg.frame):
                    put(silence, frame)
                for k, data in enumerate(body):
                    put(data, seg.frame + k)
                position = seg.frame + len(body)
            if position > total_frames:
                raise MediaError(f"the segments end at frame {position}, past the soundtrack's {total_frames}")
            for frame in range(position, total_frames):
                put(silence, frame)
    finally:
        for _, _, (container, _) in opened:
            container.close()
    return total_frames


def write_probe(path: Path, data: dict) -> None:
    """A segment's sidecar (frames, loudness in and out, gain): JSON, written whole."""
    from storyreel.core.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(data, sort_keys=True) + "\n")
