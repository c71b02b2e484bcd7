"""The narration stage buys a paid voice through the paid-call protocol: an answer journaled before a crash in
decoding is used by the next run (the vendor is not paid twice), journal entries go once the run is recorded,
and the cap stops a voice before it is called."""

from __future__ import annotations

import json
import re

import pytest

from storyreel.core.errors import CostLimitReached, StageError
from storyreel.stages.narration import NarrationStage
from storyreel.store.ledger import CostLedger

from ..providers.voice_fakes import FakeElevenLabs
from .conftest import project  # noqa: F401 - the in-process project fixture

PATH = re.compile(r"/v1/text-to-speech/[^/]+/with-timestamps")


def _eleven(project, httpserver, cap: float = 1.0):  # noqa: ANN001, ANN202
    project.settings = project.settings.model_copy(update={
        "tts_provider": "elevenlabs:eleven_multilingual_v2", "max_cost_usd": cap, "http_backoff_s": 0.01,
        "environ": {"STORYREEL_ELEVENLABS_BASE_URL": httpserver.url_for("/v1"), "ELEVENLABS_API_KEY": "xi-e2e-key"}})
    return project.ctx()


def test_a_crash_after_the_answer_is_journaled_never_pays_twice(project, httpserver, tmp_path, monkeypatch):  # noqa: ANN001
    fake = FakeElevenLabs(tmp_path / "vendor")
    httpserver.expect_request(PATH, method="POST").respond_with_handler(fake)
    ctx = _eleven(project, httpserver)
    from storyreel.media import audio

    real = audio.write_wav
    monkeypatch.setattr(audio, "write_wav", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))  # dies while decoding
    with pytest.raises(StageError, match="disk full"):
        project.run([NarrationStage()], ctx)
    assert len(fake.calls) == 4
    assert len(list(ctx.paths.received.glob("*.bin"))) == 4  # every answer kept before decoding
    ledger = CostLedger(project.store.sessions, "hare", 1.0).summary()
    assert ledger.committed_usd == pytest.approx(fake.bill)

    monkeypatch.setattr(audio, "write_wav", real)
    report = project.run([NarrationStage()], ctx)
    assert not report.failed and len(fake.calls) == 4  # read back from the journal, not bought again
    ledger = CostLedger(project.store.sessions, "hare", 1.0).summary()
    assert ledger.committed_usd == pytest.approx(fake.bill) and ledger.calls == 4
    assert not any(ctx.paths.received.glob("*")), "journal entries are removed once the run is recorded"
    sidecar = (ctx.paths.narration_timing("ch01-s02")).read_text()
    assert '"timing": "vendor"' in sidecar and "eleven_multilingual_v2" in sidecar


def test_the_cap_stops_a_voice_before_it_is_called(project, httpserver, tmp_path):  # noqa: ANN001
    fake = FakeElevenLabs(tmp_path / "vendor")
    httpserver.expect_request(PATH, method="POST").respond_with_handler(fake)
    ctx = _eleven(project, httpserver, cap=0.005)  # ≈ two shots' narration at $0.10 per 1,000 characters
    with pytest.raises(CostLimitReached, match="not made: narration"):
        project.run([NarrationStage()], ctx)
    ledger = CostLedger(project.store.sessions, "hare", 0.005).summary()
    assert ledger.committed_usd <= 0.005 and ledger.committed_usd == pytest.approx(fake.bill)
    assert len(fake.calls) < 4


def test_an_answer_without_usable_audio_is_booked_and_asked_again(project, httpserver, tmp_path):  # noqa: ANN001
    """ElevenLabs answered 200 and billed the characters, but the body holds no audio: the cost is in the ledger
    (ledger = bill), the shot fails saying why, and the next run asks again instead of reading the bad answer."""
    fake = FakeElevenLabs(tmp_path / "vendor")
    broken = {"on": True}

    def answer(request):  # noqa: ANN001, ANN202
        response = fake(request)
        if broken["on"] and b"Slow but steady" in request.data:
            body = json.loads(response.get_data())
            body.pop("audio_base64")
            response.set_data(json.dumps(body))
        return response

    httpserver.expect_request(PATH, method="POST").respond_with_handler(answer)
    ctx = _eleven(project, httpserver)
    with pytest.raises(StageError, match="no audio_base64"):
        project.run([NarrationStage()], ctx)
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(fake.bill)
    broken["on"] = False
    project.run([NarrationStage()], ctx)
    assert len(fake.calls) == 5 and CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(fake.bill)
