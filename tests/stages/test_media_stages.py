"""Stages ``narration``, ``clip``, ``segment``, ``render`` and ``qc`` in-process on a four-shot storyboard
(fake speech: a tone with evenly spaced word timings; images from the local template renderer)."""

from __future__ import annotations

import json
import wave

import av
import pytest

from storyreel.engine.graph import Node
from storyreel.engine.staleness import Cause, StaleCause, State
from storyreel.providers.llm.fake import FakeLlm
from storyreel.providers.tts.fake import FakeSpeech
from storyreel.stages.narration import NarrationStage
from storyreel.stages.pipeline import MEDIA_STAGES

from .conftest import new_project


def test_narration_writes_audio_and_word_timings(project):
    speech = FakeSpeech()
    ctx = project.ctx(tts=speech)
    project.run([NarrationStage()], ctx)
    assert [r.text for r in speech.history] == [s.narration for _, s in project.board.shots()]
    data = json.loads((ctx.paths.audio / "ch01-s02.json").read_text())
    words = data["words"]
    assert [w["word"] for w in words][:3] == ["A", "Hare", "one"]
    assert words == sorted(words, key=lambda w: w["start_s"])
    with wave.open(str(ctx.paths.audio / "ch01-s02.wav")) as wf:
        assert wf.getnframes() / wf.getframerate() == pytest.approx(data["duration_s"], abs=1e-3)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One render shared by the tests below (the last one edits the storyboard)."""
    project = new_project(tmp_path_factory.mktemp("render"))
    ctx = project.ctx(tts=FakeSpeech(), llm=FakeLlm())
    report = project.run(list(MEDIA_STAGES), ctx)
    return project, ctx, report


def test_the_media_stages_make_a_video_that_passes_qc(rendered):
    project, ctx, report = rendered
    names = {n.name for n in report.executed}
    assert {"clip[ch01-s01]", "segment[ch01-s01+ch01-s02]", "render[video]", "qc[video]"} <= names
    qc = json.loads((ctx.paths.root / "qc.json").read_text())
    assert qc["passed"] is True
    with av.open(str(ctx.paths.video)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == ctx.frame_size
        assert float(container.duration / 1e6) == pytest.approx(ctx.timeline.duration_s, abs=0.05)
    assert "Slow but steady" in (ctx.paths.root / "video.srt").read_text()


def test_editing_one_shots_narration_reruns_only_its_own_nodes(rendered):
    project, _, _ = rendered
    project.board.chapters[1].shots[1].narration = "Slow and steady wins the race, every time."
    ctx = project.ctx(tts=FakeSpeech(), llm=FakeLlm())
    status = project.status(list(MEDIA_STAGES), ctx).statuses
    stale = sorted(n.name for n, s in status.items() if s.state != State.FRESH)
    # a b-roll shot shows what its narration names: its image is drawn again (the manifest lists it)
    assert stale == ["audio_segment[ch02-s02]", "clip[ch02-s02]", "image[ch02-s02]", "manifest[images]", "mix[audio]", "narration[ch02-s02]", "qc[video]", "render[video]",
                     "segment[ch02-s01+ch02-s02]", "select[ch02-s02]"]
    assert status[Node("narration", "ch02-s02")].causes == [StaleCause(Cause.PARAMS)]
    report = project.run(list(MEDIA_STAGES), ctx)
    # the image is drawn again and comes out the same (it shows the same subjects): the manifest is cut off
    assert sorted(n.name for n in report.executed) == [n for n in stale if n != "manifest[images]"]
