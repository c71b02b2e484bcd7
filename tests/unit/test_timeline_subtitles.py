from storyreel.core.artifact import Storyboard
from storyreel.core.words import WordTiming
from storyreel.media.subtitles import make_cues, to_srt, to_vtt
from storyreel.media.timeline import A_PART, B_PART, CROSSFADE_FRAMES, build_timeline

from .test_storyboard import BOARD


def _board(n: int, transitions=None) -> Storyboard:
    data = dict(BOARD)
    shots = []
    for i in range(n):
        shots.append({"shot_id": f"s{i}", "narration": "Words here.", "visual": {"type": "b_roll", "description": "x"},
                      "transition": (transitions or ["crossfade"] * n)[i]})
    data["chapters"] = [{"chapter_id": "c", "title": "C", "shots": shots}]
    return Storyboard.model_validate(data)


def test_segments_cover_the_timeline_exactly():
    tl = build_timeline(_board(4, ["crossfade", "cut", "crossfade", "cut"]), {f"s{i}": 2.0 + i for i in range(4)})
    frames = sum(s.body_frames for s in tl.shots) + CROSSFADE_FRAMES * len(tl.transitions)
    assert frames == tl.total_frames
    assert [k for k, _ in tl.segments()] == ["clip", "segment", "clip", "clip", "segment", "clip"]
    assert tl.shots[1].pre == A_PART and tl.shots[0].post == B_PART and tl.shots[2].pre == 0


def test_slot_follows_narration_and_motion_is_continuous_across_the_crossfade():
    tl = build_timeline(_board(2), {"s0": 3.0, "s1": 1.0})
    a, b = tl.shots
    assert a.slot >= 3.0 * 30
    assert a.progress(-a.pre) == 0.0 and abs(a.progress(a.slot + a.post - 1) - 1.0) < 1e-9
    assert tl.duration_s == (a.slot + b.slot) / 30


def _words(text):
    out, t = [], 0.0
    import re
    for m in re.finditer(r"\S+", text):
        out.append(WordTiming(word=m.group(0), start_s=t, end_s=t + 0.3, char_start=m.start(), char_end=m.end()))
        t += 0.3
    return out


def test_cues_follow_word_timings_and_stay_within_two_lines():
    text = "Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty, and dedicated to the proposition that all men are created equal."
    cues = make_cues(text, _words(text), 1920, 1080)
    assert len(cues) >= 2
    assert " ".join(c.text for c in cues) == text
    words = _words(text)
    second_first_word = cues[1].text.split()[0]
    assert abs(cues[1].start_s - next(w.start_s for w in words if w.word == second_first_word)) < 1e-3
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(cues, cues[1:]))


def test_srt_and_vtt_formats():
    cues = make_cues("Merhaba dünya. Çiçek ığdır şöyle.", _words("Merhaba dünya. Çiçek ığdır şöyle."), 1080, 1920)
    srt, vtt = to_srt(cues), to_vtt(cues)
    assert srt.startswith("1\n00:00:00,000 --> ")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert "ığdır şöyle" in srt
