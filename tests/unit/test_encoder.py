"""In-process segment encoding (libx264 through PyAV) against the ffmpeg filter graph it replaces.

The same frames, layers and fades go through both paths — :func:`encode_segment` and an ffmpeg process
running :func:`encode_args`' graph — and the decoded pictures and the black frames found must agree."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from storyreel.media.encoder import Overlay, encode_segment, fade_factor, is_black
from storyreel.media.ffmpeg import Encoding, Layer, MediaError, encode_args, encode_frames
from storyreel.media.motion import ShotFrames, Still, frame_bytes
from storyreel.media.qc import BLACK_LUMA_MAX, blackframe_filter, parse_black_frames
from storyreel.media.subtitles import render_cue
from storyreel.media.timeline import KenBurns, ShotTiming

W, H, N = 320, 180, 24


def _still() -> Still:
    """A colourful still with edges and text (a real picture's kind of content, not a flat field)."""
    im = Image.new("RGB", (W, H))
    px = np.zeros((H, W, 3), np.uint8)
    px[..., 0] = np.linspace(20, 230, W, dtype=np.uint8)[None, :]
    px[..., 1] = np.linspace(200, 40, H, dtype=np.uint8)[:, None]
    px[..., 2] = 120
    im = Image.fromarray(px)
    ImageDraw.Draw(im).text((40, 60), "Four score and seven years", fill=(250, 250, 250))
    return Still.from_rgb(np.asarray(im))


def _frames(dark: set[int]):  # noqa: ANN202
    timing = ShotTiming("s", 0, 0, N, 0, 0, 0.0, 0.3, KenBurns(1.0, 1.12, 0.4, 0.6, 0.5, 0.45))
    shot = ShotFrames(_still(), timing, W, H)
    black = np.concatenate([np.full(W * H, 16, np.uint8), np.full(W * H // 2, 128, np.uint8)])
    for k in range(N):
        yield black.copy() if k in dark else shot.frame(k)


def _decode(path) -> list[np.ndarray]:  # noqa: ANN001
    with av.open(str(path)) as c:
        return [f.to_ndarray().astype(np.int16) for f in c.decode(video=0)]  # yuv420p: (H·3/2, W)


@pytest.fixture
def layers(tmp_path) -> list[Layer]:
    """A real subtitle cue (antialiased text on a translucent box), and a solid badge partly outside the
    frame. Even positions: ffmpeg's ``overlay`` rounds odd ones down on yuv420p (``normalize_xy``)."""
    cue = tmp_path / "cue.png"
    x, y = render_cue("Now we are engaged in a great civil war", W, H, cue)
    badge = tmp_path / "badge.png"
    Image.new("RGBA", (70, 41), (230, 120, 30, 255)).save(badge)
    return [Layer(cue, x & ~1, y & ~1, 3, 17), Layer(badge, W - 32, -10, 0, N - 1)]


def test_an_odd_position_is_kept_to_the_pixel(tmp_path):
    """The layout's boxes are exact pixels: a layer at an odd (x, y) is not moved (ffmpeg's overlay would
    move it to the even pixel before)."""
    bar = tmp_path / "bar.png"
    Image.new("RGBA", (3, 40), (255, 255, 255, 255)).save(bar)
    out = tmp_path / "bar.mp4"
    encode_segment(_frames(set(range(N))), [Layer(bar, 101, 51, 0, N - 1)], out, Encoding(crf=4), W, H, N, what="test")
    luma = _decode(out)[5][:H]
    columns = luma[60:80, 98:107].mean(axis=0)  # x = 98 … 106 on a black picture
    assert list(columns > 120) == [False, False, False, True, True, True, False, False, False], columns.round()
    rows = luma[46:56, 102]
    assert list(rows > 120) == [False] * 5 + [True] * 5, rows


def test_the_in_process_path_matches_the_ffmpeg_filter_graph(tmp_path, layers):
    dark = {9, 10}
    enc = Encoding(crf=10)
    ours = encode_segment(_frames(dark), layers, tmp_path / "ours.mp4", enc, W, H, N, fade_in=5, fade_out=4, what="test")
    args = encode_args(layers, tmp_path / "ffmpeg.mp4", enc, W, H, N, fade_in=5, fade_out=4, probes=[blackframe_filter()])
    theirs = encode_frames(_frames(dark), args, what="test")
    assert ours.frames == theirs.frames == N
    # frame 0 is faded to black; frames 9–10 are black pictures, but the badge and the cue keep 5.6 % lit
    assert ours.black_frames == sorted(parse_black_frames(theirs.log)) == [0]
    a, b = _decode(tmp_path / "ours.mp4"), _decode(tmp_path / "ffmpeg.mp4")
    assert len(a) == len(b) == N
    for k in range(N):
        diff = np.abs(a[k] - b[k])
        # the same picture: on average within a level, and no region off by more than a codec's noise
        assert diff.mean() < 1.2, (k, diff.mean())
        assert np.percentile(diff, 99.5) <= 12, (k, np.percentile(diff, 99.5))
    with av.open(str(tmp_path / "ours.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.profile, s.format.name, s.time_base.denominator) == ("High", "yuv420p", 30 * 512)
        assert (str(s.codec_context.color_primaries), str(s.codec_context.colorspace)) in {("1", "1"), ("BT709", "BT709")} or \
            s.codec_context.color_primaries == 1


def test_layers_land_where_placed_and_only_on_their_frames(tmp_path, layers):
    """The badge is cropped at the frame's top-right corner; the cue shows on frames 3–17 only."""
    out = tmp_path / "seg.mp4"
    encode_segment(_frames(set()), layers, out, Encoding(crf=10), W, H, N, what="test")
    frames = _decode(out)
    badge_y = frames[10][0:30, W - 32 : W].mean()  # Y' = 16 + 219·(0.2126·230 + 0.7152·120 + 0.0722·30)/255 ≈ 133.6
    assert abs(badge_y - 133.6) < 3
    cue = layers[0]
    box = (slice(cue.y + 4, cue.y + 20), slice(cue.x + 4, cue.x + 40))
    assert np.abs(frames[2][box] - frames[3][box]).mean() > 10  # the cue's box darkens the picture from frame 3
    assert np.abs(frames[18][box] - frames[17][box]).mean() > 10


def test_an_overlay_wholly_outside_the_frame_is_dropped(tmp_path):
    png = tmp_path / "far.png"
    Image.new("RGBA", (20, 20), (255, 0, 0, 255)).save(png)
    assert Overlay.load(Layer(png, W + 5, 10, 0, 1), W, H) is None
    assert Overlay.load(Layer(png, -20, 10, 0, 1), W, H) is None
    edge = Overlay.load(Layer(png, -7, -3, 0, 1), W, H)
    assert edge is not None and (edge.x, edge.y) == (0, 0) and edge.inv.shape == (18, 14)  # 13×17 visible, padded even


def test_fades_follow_ffmpeg_fade_filter():
    assert [fade_factor(k, 10, 4, 0) for k in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [fade_factor(k, 10, 0, 4) for k in range(5, 10)] == [1.0, 1.0, 0.75, 0.5, 0.25]


def test_black_frame_rule_is_blackframe_s():
    luma = np.full((100, 100), BLACK_LUMA_MAX, np.uint8)
    assert is_black(luma)
    luma[:3, :] = 200  # 97 % dark: not black (≥ 98 % needed)
    assert not is_black(luma)
    luma[:3, :] = BLACK_LUMA_MAX + 1
    assert not is_black(luma)  # the threshold is "under BLACK_LUMA_MAX + 1"
    luma[:2, :] = 255
    luma[2, :] = 0
    assert is_black(luma)  # exactly 98 %


@pytest.mark.parametrize("rounds", [4])
def test_two_encodes_at_once_give_the_bytes_of_one_alone(tmp_path, layers, rounds):
    """Workers encode in threads (PyAV releases the GIL inside x264), each warping its frames while the other
    encodes: every run gives the bytes of an encode alone. (With x264's AVX-512 routines ≈ 10 % of such runs
    came out different; see :func:`storyreel.media.encoder.x264_cpu_param`.)"""
    alone = tmp_path / "alone.mp4"
    encode_segment(_frames(set()), layers, alone, Encoding(), W, H, N, what="test")
    for r in range(rounds):
        outs = [tmp_path / f"r{r}-t{i}.mp4" for i in range(2)]
        threads = [threading.Thread(target=encode_segment, args=(_frames(set()), layers, o, Encoding(), W, H, N), kwargs={"what": "t"})
                   for o in outs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(o.read_bytes() == alone.read_bytes() for o in outs), r


def test_encoder_errors_are_media_errors_and_nothing_short_is_kept(tmp_path):
    with pytest.raises(MediaError, match="libx264 failed"):
        encode_segment(_frames(set()), [], tmp_path / "bad.mp4", Encoding(preset="no-such-preset"), W, H, N, what="test")
    assert not (tmp_path / "bad.mp4").exists() or (tmp_path / "bad.mp4").stat().st_size == 0
    with pytest.raises(MediaError, match="5 frames arrived, 24 expected"):
        encode_segment((np.zeros(frame_bytes(W, H), np.uint8) for _ in range(5)), [], tmp_path / "short.mp4", Encoding(), W, H, N, what="test")


@pytest.mark.parametrize("size", [(320, 180), (360, 200), (720, 1280), (1080, 1080)])
def test_a_frame_with_padded_rows_reaches_the_encoder_intact(size):
    """PyAV pads plane rows to its alignment (a 360-wide chroma plane is 180 samples in a longer row); the
    copy fills exactly the picture."""
    from storyreel.media.encoder import _Picture

    w, h = size
    canvas = _Picture(av, w, h, 30)
    for seed in (7, 8):  # the second frame reuses the buffer: nothing of the first may remain
        frame = np.random.default_rng(seed).integers(0, 256, frame_bytes(w, h), dtype=np.uint8)
        picture = canvas.fill(frame, seed)
        assert np.array_equal(picture.to_ndarray().reshape(-1), frame)
    if size == (360, 200):
        assert picture.planes[1].line_size > w // 2  # the padded case is really exercised


def test_a_hardware_encoder_gets_the_same_finishing_in_an_ffmpeg_process(tmp_path, layers, monkeypatch):
    """With a hardware encoder the segment goes to an ffmpeg process whose graph does the layers, the fades
    and the black-frame probe; its logged black frames come back as the segment's."""
    import storyreel.media.encoder as encoder
    from storyreel.media.ffmpeg import Encoded

    seen = {}

    def fake_encode_frames(frames, args, *, what):  # noqa: ANN001, ANN202
        seen["args"], seen["frames"] = args, sum(1 for _ in frames)
        return Encoded(seen["frames"], "[info] [Parsed_blackframe_7 @ 0x1] frame:0 pblack:100 pts:0 t:0.000000\n"
                                       "[info] [Parsed_blackframe_7 @ 0x1] frame:9 pblack:99 pts:9 t:0.300000\n")

    monkeypatch.setattr(encoder, "encode_frames", fake_encode_frames)
    got = encode_segment(_frames(set()), layers, tmp_path / "hw.mp4", Encoding(codec="h264_nvenc"), W, H, N,
                         fade_in=5, what="test")
    graph = seen["args"][seen["args"].index("-filter_complex") + 1]
    assert seen["frames"] == N and got == encoder.Segment(N, [0, 9])
    assert "h264_nvenc" in seen["args"] and graph.count("overlay=") == 2 and "fade=t=in" in graph and "blackframe" in graph


def test_a_canceled_job_stops_the_encode_and_raises_canceled(tmp_path):
    """The frames carry the job's cancellation checkpoint (stages/clip.py): a stop asked mid-segment ends the
    in-process encode at once, as ``Canceled`` (not an encoder error)."""
    from storyreel.core.cancel import Canceled, checkpoint, watching

    asked = {"stop": False}

    def frames():  # noqa: ANN202
        for k, frame in enumerate(_frames(set())):
            if k == 6:
                asked["stop"] = True
            checkpoint()
            yield frame

    with watching(lambda: asked["stop"]), pytest.raises(Canceled):
        encode_segment(frames(), [], tmp_path / "stopped.mp4", Encoding(), W, H, N, what="test")
