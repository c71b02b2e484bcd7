"""Media QC: a conforming file passes, and each check fails on a file broken in its own way."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyreel.media.audio import loudnorm_filter, measure_loudness
from storyreel.media.ffmpeg import run_ffmpeg
from storyreel.media.qc import CueSpec, QcSpec, run_qc

W, H, SECONDS = 320, 180, 3

GOOD_VIDEO = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
              "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]
GOOD_AUDIO = ["-c:a", "aac", "-ar", "48000", "-ac", "2"]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("qc")
    raw = d / "noise.wav"
    run_ffmpeg(["-f", "lavfi", "-i", f"anoisesrc=d={SECONDS}:c=pink:a=0.2:seed=7", "-ac", "2", "-ar", "48000", str(raw)], what="noise")
    run_ffmpeg(["-i", str(raw), "-af", loudnorm_filter(measure_loudness(raw)), "-ar", "48000", str(d / "voice.wav")], what="normalize")
    return d


def make(media: Path, name: str, *, video_src: str | None = None, video: list[str] | None = None,
         audio_src: str | None = None, audio: list[str] | None = None, faststart: bool = True,
         tagged: bool = True) -> Path:
    out = media / f"{name}.mp4"
    vsrc = video_src or f"testsrc2=size={W}x{H}:rate=30:duration={SECONDS}"
    if tagged:
        vsrc += ",setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709"
    args = ["-f", "lavfi", "-i", vsrc]
    args += ["-f", "lavfi", "-i", audio_src] if audio_src else ["-i", str(media / "voice.wav")]
    args += ["-map", "0:v", "-map", "1:a", *(video or GOOD_VIDEO), *(audio or GOOD_AUDIO)]
    if faststart:
        args += ["-movflags", "+faststart"]
    run_ffmpeg([*args, str(out)], what=name)
    return out


def spec(**kw) -> QcSpec:
    return QcSpec(**{"width": W, "height": H, "duration_s": float(SECONDS), **kw})


def failed(report) -> set[str]:
    return {c.name for c in report.checks if c.passed is False}


def test_a_conforming_file_passes_every_check(media):
    report = run_qc(make(media, "good"), spec())
    assert report.passed, report.summary()
    by = {c.name: c for c in report.checks}
    assert by["loudness"].passed and -17 <= float(by["loudness"].measured.split()[0]) <= -15
    assert by["subtitle_timing"].passed is None  # no cues given: not applicable


def test_bare_file_mode_accepts_delivery_sizes_only(media):
    report = run_qc(make(media, "good-bare"))
    assert failed(report) == {"resolution"}  # 320x180 is not 1920x1080 / 1080x1920 / 1080x1080
    assert {c.name for c in report.checks if c.passed is None} >= {"duration", "subtitle_timing"}


@pytest.mark.parametrize(
    ("check", "kwargs"),
    [
        ("video_codec", {"video": ["-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
                                   "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]}),
        ("video_codec", {"video": ["-c:v", "mpeg4", "-pix_fmt", "yuv420p", "-color_primaries", "bt709",
                                   "-color_trc", "bt709", "-colorspace", "bt709"]}),
        ("pixel_format", {"video": ["-c:v", "libx264", "-pix_fmt", "yuvj420p",
                                    "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]}),
        ("color_tags", {"tagged": False, "video": ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p"]}),
        ("faststart", {"faststart": False}),
        ("audio_format", {"audio": ["-c:a", "aac", "-ar", "44100", "-ac", "2"]}),
        ("frame_rate", {"video_src": f"testsrc2=size={W}x{H}:rate=25:duration={SECONDS}"}),
        ("duration", {"video_src": f"testsrc2=size={W}x{H}:rate=30:duration=2"}),
        ("av_sync", {"audio_src": "sine=frequency=440:duration=2:sample_rate=48000"}),
        ("loudness", {"audio_src": f"sine=frequency=440:duration={SECONDS}:sample_rate=48000,volume=-30dB"}),
        ("true_peak", {"audio_src": f"aevalsrc='if(lt(mod(t*220,1),0.5),1,-1)':d={SECONDS}:s=48000"}),
        ("black_frames", {"video_src": f"testsrc2=size={W}x{H}:rate=30:duration={SECONDS},"
                                       "drawbox=c=black:t=fill:enable='between(t,1,1.6)'"}),
    ],
)
def test_each_check_fails_on_a_file_broken_for_it(media, check, kwargs):
    report = run_qc(make(media, f"bad-{check}-{len(kwargs)}-{abs(hash(str(kwargs))) % 10_000}", **kwargs), spec())
    assert check in failed(report), report.summary()
    assert not report.passed
    assert check in report.summary()


def test_resolution_must_be_exact(media):
    assert failed(run_qc(make(media, "good-res"), spec(width=640, height=360))) == {"resolution"}


def test_fades_from_and_to_black_are_allowed(media):
    # 1.5 s fades hold ≥ 0.1 s of (near) black at each end, which blackdetect reports
    src = f"testsrc2=size={W}x{H}:rate=30:duration={SECONDS},fade=t=in:d=1.5,fade=t=out:st={SECONDS - 1.5}:d=1.5"
    path = make(media, "fades", video_src=src)
    assert "black_frames" in failed(run_qc(path, spec()))  # fades not declared: reported
    assert run_qc(path, spec(fade_in_s=1.5, fade_out_s=1.5)).passed


def _cue(start=0.5, end=1.5, box=(40, 120, 240, 40), words=((0.5, 1.4),)) -> CueSpec:
    return CueSpec("Slow and steady wins the race.", start, end, box, words)


def test_subtitles_outside_the_title_safe_area_fail(media):
    path = make(media, "good-subs")
    assert run_qc(path, spec(cues=[_cue()])).passed
    report = run_qc(path, spec(cues=[_cue(box=(4, 150, 312, 28))]))  # 4 px from the edge: inside 5 % margin
    assert failed(report) == {"subtitle_safe_area"}


def test_subtitles_off_their_words_fail(media, tmp_path):
    path = make(media, "good-subs2")
    assert failed(run_qc(path, spec(cues=[_cue(start=0.65)]))) == {"subtitle_timing"}  # 150 ms late
    assert failed(run_qc(path, spec(cues=[_cue(end=1.2)]))) == {"subtitle_timing"}  # ends before the last word
    srt = tmp_path / "video.srt"
    srt.write_text("1\n00:00:00,900 --> 00:00:01,500\nSlow and steady wins the race.\n\n", encoding="utf-8")
    report = run_qc(path, spec(cues=[_cue()], srt_path=srt))  # the sidecar is 400 ms late
    assert failed(report) == {"subtitle_timing"} and "video.srt" in report.summary()
    srt.write_text("1\n00:00:00,520 --> 00:00:01,500\nSlow and steady wins the race.\n\n", encoding="utf-8")
    assert run_qc(path, spec(cues=[_cue()], srt_path=srt)).passed


def test_unreadable_file_is_a_clear_error(tmp_path):
    from storyreel.media.ffmpeg import MediaError

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(MediaError, match="broken.mp4"):
        run_qc(bad)


def test_black_frames_measured_per_segment_match_a_full_decode(media):
    """Segments probed while encoding, joined on the video clock, find the same black runs as decoding
    the concatenated file — including a run split across a segment boundary (2 + 2 frames)."""
    import numpy as np

    from storyreel.media.encoder import encode_segment
    from storyreel.media.ffmpeg import Encoding, aac_encode_args, concat_list, concat_mux_args
    from storyreel.media.motion import frame_bytes

    def frame(luma: int) -> np.ndarray:
        f = np.full(frame_bytes(W, H), 128, dtype=np.uint8)
        f[: W * H] = luma
        return f

    lit, black = frame(120), frame(20)
    segments = [  # (frames, black frame indices); 45 + 45 = 90 frames = SECONDS
        (45, set(range(10, 12)) | set(range(43, 45))),  # 2 frames (too short), then 2 at the end...
        (45, set(range(0, 2)) | set(range(30, 36))),  # ...joined with 2 here: 4 frames; then 6 frames
    ]
    files, joined, offset = [], [], 0
    for i, (n, dark) in enumerate(segments):
        out = media / f"seg{i}.mp4"
        enc = encode_segment((black.copy() if k in dark else lit.copy() for k in range(n)), [], out, Encoding(), W, H, n, what="segment")
        assert enc.black_frames == sorted(dark)
        joined += [offset + k for k in enc.black_frames]
        files.append((out, n))
        offset += n
    listing = media / "segs.txt"
    listing.write_text(concat_list(files, 30))
    video = media / "joined.mp4"
    soundtrack = media / "voice.m4a"
    run_ffmpeg(["-i", str(media / "voice.wav"), *aac_encode_args(), str(soundtrack)], what="soundtrack")
    run_ffmpeg(concat_mux_args(listing, soundtrack, video, SECONDS), what="concat")
    probed = run_qc(video, spec(), black_frames=joined)
    decoded = run_qc(video, spec())
    by_p = {c.name: c for c in probed.checks}
    by_d = {c.name: c for c in decoded.checks}
    assert by_p["black_frames"].passed is False and by_d["black_frames"].passed is False
    assert by_p["black_frames"].message == by_d["black_frames"].message == "black frames at 1.43–1.57 s, 2.50–2.70 s"
    assert "per segment" in by_p["black_frames"].measured and "decoded" in by_d["black_frames"].measured


def test_a_broken_text_layout_fails_qc_and_only_that_check(media):
    path = make(media, "layout")
    camera = {"z0": 1.0, "z1": 1.12, "fx0": 0.5, "fx1": 0.5, "fy0": 0.5, "fy1": 0.5}
    clean = {"shot_id": "ch01-s01", "frame": [W, H], "still": [W, H], "camera": camera, "span": 90, "body": [0, 90],
             "elements": [{"group": "card", "role": "text", "text": "Özet", "box": [120, 60, 200, 90]}]}
    assert run_qc(path, spec(layouts=[clean])).passed
    cut = {**clean, "elements": [{"group": "card", "role": "text", "text": "Özet", "box": [18, 60, 80, 90]}]}  # zoom_in pushes it out
    report = run_qc(path, spec(layouts=[clean, cut]))
    assert failed(report) == {"text_layout"}
    check = next(c for c in report.checks if c.name == "text_layout")
    assert "'Özet' leaves the title-safe area" in check.message and "2 shots" in check.measured
    assert next(c for c in run_qc(path, spec()).checks if c.name == "text_layout").passed is None  # bare file: n/a


def test_loudness_measured_on_the_soundtrack_spares_the_decode(media, monkeypatch):
    """With the segments' black frames and the soundtrack's loudness both given, QC decodes nothing; the values
    given are the ones judged (a soundtrack measured too loud fails the loudness check)."""
    import storyreel.media.qc as qc_mod

    path = make(media, "probed")
    decodes = []
    monkeypatch.setattr(qc_mod, "measure_signal", lambda *a, **k: decodes.append(a) or qc_mod.SignalStats(None, None, []))
    report = run_qc(path, spec(), black_frames=[], loudness=(-16.2, -2.4))
    assert report.passed and decodes == []
    by = {c.name: c for c in report.checks}
    assert by["loudness"].measured == "-16.2 LUFS" and "soundtrack" in by["black_frames"].measured
    assert failed(run_qc(path, spec(), black_frames=[], loudness=(-12.0, -0.5))) == {"loudness", "true_peak"}
    # the segments' in-process meter gives every digit; the report shows the meaningful ones
    by = {c.name: c for c in run_qc(path, spec(), black_frames=[], loudness=(-16.23487, -1.9599421729854107)).checks}
    assert (by["loudness"].measured, by["true_peak"].measured) == ("-16.2 LUFS", "-1.96 dBTP")
    by = {c.name: c for c in run_qc(path, spec(), black_frames=[], loudness=(-70.0, float("-inf"))).checks}
    assert by["true_peak"].measured == "-inf dBTP" and by["true_peak"].passed
