"""The cloud voices' adapters and the local aligner, without a make: wire formats, refusals, prices by date,
and alignment accuracy against Piper's exact word timings."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest
from werkzeug import Request, Response

from storyreel.core.errors import MalformedResponse, ProviderRejected
from storyreel.core.settings import Settings
from storyreel.providers.base import SpeechRequest
from storyreel.providers.prices import ELEVENLABS, GEMINI, speech_price
from storyreel.providers.registry import resolve
from storyreel.providers.tts import aligner
from storyreel.providers.tts.elevenlabs import word_timings
from storyreel.providers.tts.local_espeak import render
from storyreel.providers.tts.local_piper import LocalPiper

from .voice_fakes import FakeGeminiTts

GETTYSBURG = ("Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in "
              "Liberty, and dedicated to the proposition that all men are created equal.")


def _settings(httpserver, **environ: str) -> Settings:
    return Settings(environ={"STORYREEL_ELEVENLABS_BASE_URL": httpserver.url_for("/v1"), "STORYREEL_GEMINI_BASE_URL": httpserver.url_for("/v1beta"),
                             "ELEVENLABS_API_KEY": "xi", "GEMINI_API_KEY": "g", **environ}, http_attempts=2, http_backoff_s=0.0)


# ------------------------------------------------------------------------------------------ ElevenLabs
def test_character_alignment_becomes_word_timings_even_when_the_vendor_changes_a_character() -> None:
    text = "The Hare said: “Shall we race?” in 1863."
    said = text.replace("“", '"').replace("”", '"')  # a vendor that normalizes quotes in its alignment
    starts = [round(0.05 * i, 3) for i in range(len(said))]
    ends = [round(s + 0.05, 3) for s in starts]
    words = word_timings(text, "en", {"characters": list(said), "character_start_times_seconds": starts,
                                      "character_end_times_seconds": ends})
    assert [w.word for w in words] == ["The", "Hare", "said", "Shall", "we", "race", "in", "1863"]
    race = words[5]
    assert text[race.char_start:race.char_end] == "race"
    assert race.start_s == starts[text.index("race")] and race.end_s == ends[text.index("race") + 3]
    with pytest.raises(MalformedResponse):
        word_timings(text, "en", {"characters": ["a"], "character_start_times_seconds": [0.0, 1.0], "character_end_times_seconds": [1.0]})


def test_elevenlabs_payload_speed_and_language_code_follow_the_model(httpserver) -> None:
    settings = _settings(httpserver)
    v2 = resolve("tts", "elevenlabs:eleven_multilingual_v2", settings)
    flash = resolve("tts", "elevenlabs:eleven_flash_v2_5", settings)
    slow = SpeechRequest(text="Slow but steady.", language="en-US", words_per_minute=100)
    assert v2.payload(slow) == {"text": "Slow but steady.", "model_id": "eleven_multilingual_v2", "voice_id": v2.default_voice,
                                "voice_settings": {"speed": 0.7}}  # clipped to the vendor's 0.7–1.2
    assert flash.payload(SpeechRequest(text="Hızlı.", language="tr", voice="abc"))["language_code"] == "tr"
    assert "voice_settings" not in v2.payload(SpeechRequest(text="x", language="en", voice="en-us"))  # 165 wpm: the voice's own pace
    assert v2.voice(SpeechRequest(text="x", language="en", voice="en-us")) == v2.default_voice  # a storyboard's espeak code
    assert v2.estimate(slow) == pytest.approx(len(slow.text) * 0.10 / 1000)
    assert flash.estimate(slow) == pytest.approx(len(slow.text) * 0.05 / 1000)


def test_elevenlabs_moderation_is_a_rejection_and_a_bad_key_an_error(httpserver, tmp_path: Path) -> None:
    def answer(request: Request) -> Response:
        if request.headers["xi-api-key"] != "xi":
            return Response(json.dumps({"detail": {"status": "invalid_api_key"}}), 401, content_type="application/json")
        return Response(json.dumps({"detail": {"status": "content_against_policy", "message": "This text violates our terms."}}),
                        400, content_type="application/json")

    httpserver.expect_request("/v1/text-to-speech/JBFqnCBv73JqnFnWJqrW/with-timestamps", method="POST").respond_with_handler(answer)
    voice = resolve("tts", "elevenlabs:eleven_multilingual_v2", _settings(httpserver))
    with pytest.raises(ProviderRejected, match="content_against_policy"):
        voice.synthesize(SpeechRequest(text="Something.", language="en"), tmp_path / "a.wav")
    wrong = resolve("tts", "elevenlabs:eleven_multilingual_v2", _settings(httpserver, ELEVENLABS_API_KEY="nope"))
    with pytest.raises(Exception, match="HTTP 401") as refused:
        wrong.synthesize(SpeechRequest(text="Something.", language="en"), tmp_path / "b.wav")
    assert not isinstance(refused.value, ProviderRejected) and "nope" not in str(refused.value)
    assert not (tmp_path / "a.wav").exists()


# ---------------------------------------------------------------------------------------------- Gemini
def test_gemini_reads_bare_text_verbatim_and_puts_a_style_in_directors_notes(httpserver) -> None:
    voice = resolve("tts", "google:gemini-3.8-flash-tts", _settings(httpserver))
    bare = SpeechRequest(text="Slow but steady wins the race.", language="en")
    assert voice.payload(bare)["contents"][0]["parts"][0]["text"] == bare.text
    styled = voice.prompt(SpeechRequest(text=bare.text, language="en", style="hushed", words_per_minute=140))
    assert styled.endswith("#### TRANSCRIPT\n" + bare.text) and "Style: hushed" in styled and "Pace: about 140 words per minute" in styled
    assert voice.payload(bare)["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Kore"


@pytest.mark.parametrize("answer, error", [
    ({"promptFeedback": {"blockReason": "SAFETY"}}, ProviderRejected),
    ({"candidates": [{"content": {"parts": []}, "finishReason": "PROHIBITED_CONTENT"}]}, ProviderRejected),
    ({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "audio/mpeg", "data": "AAAA"}}]}}]}, MalformedResponse),
    ({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": "AAA"}}]}}]},
     MalformedResponse),
    ({"candidates": []}, MalformedResponse),
])
def test_gemini_answers_off_the_wire_format_are_refused(httpserver, tmp_path: Path, answer: dict, error: type) -> None:
    httpserver.expect_request("/v1beta/models/gemini-3.8-flash-tts:generateContent", method="POST").respond_with_json(answer)
    voice = resolve("tts", "google:gemini-3.8-flash-tts", _settings(httpserver))
    with pytest.raises(error):
        voice.synthesize(SpeechRequest(text="Slow but steady.", language="en"), tmp_path / "a.wav")
    assert not (tmp_path / "a.wav").exists()


def test_gemini_estimate_covers_what_the_vendor_bills(httpserver, tmp_path: Path) -> None:
    """The reservation made before a call is never below the cost booked from its answer (25 audio tokens a
    second here; the estimate assumes 32 and a slower reading)."""
    fake = FakeGeminiTts(tmp_path / "vendor", key="g")
    httpserver.expect_request("/v1beta/models/gemini-3.8-flash-tts:generateContent", method="POST").respond_with_handler(fake)
    voice = resolve("tts", "google:gemini-3.8-flash-tts", _settings(httpserver))
    request = SpeechRequest(text=GETTYSBURG, language="en")
    result = voice.synthesize(request, tmp_path / "g.wav")
    assert result.cost_usd == pytest.approx(fake.bill) and voice.estimate(request) >= result.cost_usd
    assert result.provider_details["timing"] == "aligner" and result.provider_details["aligner"] == "pocketsphinx"


def test_speech_prices_are_dated() -> None:
    assert speech_price(GEMINI, "gemini-3.8-flash-tts", "2026-12-31").usd_per_output_token == 9e-6
    assert speech_price(GEMINI, "gemini-3.8-flash-tts", "2027-01-01").usd_per_output_token == 18e-6  # prices double
    assert speech_price(GEMINI, "gemini-3.8-flash-lite-tts", "2026-12-07").usd_per_output_token == 6e-6
    assert speech_price(GEMINI, "gemini-9-tts", "2026-12-07").usd_per_output_token == 9e-6  # unknown: the dearest in force
    assert speech_price(ELEVENLABS, "eleven_turbo_v2_5").usd_per_character == 0.05 / 1000
    assert all(p.source and p.as_of for p in GEMINI.speech + ELEVENLABS.speech)


# ------------------------------------------------------------------------------------------- the aligner
def _piper(text: str, out: Path):  # noqa: ANN202
    result = LocalPiper().synthesize(SpeechRequest(text=text, language="en"), out)
    from storyreel.media.audio import read_wav

    samples, rate = read_wav(out)
    return samples, rate, result.words


def test_pocketsphinx_aligns_piper_speech_to_its_true_timings(tmp_path: Path) -> None:
    text = GETTYSBURG.replace("Liberty", "Zorblax Liberty")  # a word no dictionary has: pronounced from espeak-ng's IPA
    samples, rate, truth = _piper(text, tmp_path / "p.wav")
    aligned = aligner.align(samples, rate, text, "en")
    assert aligned.method == "pocketsphinx"
    assert [w.word for w in aligned.words] == [w.word for w in truth]
    errors = [abs(a.start_s - t.start_s) for a, t in zip(aligned.words, truth, strict=True)]
    assert statistics.median(errors) <= 0.05 and max(errors) <= 0.2, errors


def test_dtw_against_espeak_times_a_turkish_reading(tmp_path: Path) -> None:
    """Another language: the "voice" is espeak-ng reading Turkish at 140 words a minute, the reference its
    reading at 165 — different lengths throughout, the word starts of the slow reading known from its events."""
    text = "Bitcoin, iki farklı alıcıya aynı parayı göndermeyi engelleyen bir kayıt defteridir."
    pcm, rate, events = render(text, "tr", 140)
    samples = np.frombuffer(pcm, dtype="<i2")
    aligned = aligner.align(samples, rate, text, "tr")
    assert aligned.method == "dtw-espeak"
    truth = {position - 1: ms / 1000 for ms, position, _ in events}
    errors = [abs(w.start_s - truth[w.char_start]) for w in aligned.words if w.char_start in truth]
    assert len(errors) >= len(aligned.words) - 1 and statistics.median(errors) <= 0.08, errors


def test_a_wav_with_no_speech_still_gets_ordered_timings_inside_it() -> None:
    silence = np.zeros(16000 * 2, dtype=np.int16)
    aligned = aligner.align(silence, 16000, "Nothing is said here.", "en")
    starts = [w.start_s for w in aligned.words]
    assert starts == sorted(starts) and aligned.words[-1].end_s <= 2.0


def test_a_voice_name_is_checked_against_the_voice_that_will_read_with_it(tmp_path: Path) -> None:
    """``make --voice-name X`` without ``--voice`` belongs to the project's stored voice: any ID for a cloud voice,
    an installed one for Piper — refused before anything is kept."""
    from storyreel.api.requests import MakeRequest
    from storyreel.api.session import Workspace
    from storyreel.api.verbs.make import Make
    from storyreel.core.errors import InputError
    from storyreel.store.options import update_options

    ws = Workspace(Settings(workspace=tmp_path / "ws", allow_network=False, tts_provider="local"))
    project = ws.project("hare")
    project.paths.root.mkdir(parents=True)
    fable = Path(__file__).resolve().parents[2] / "examples" / "hare-and-tortoise.txt"
    named = MakeRequest.build(input_path=fable, project_id="hare", voice_name="voice-e2e-01", workspace=tmp_path / "ws")
    with pytest.raises(InputError, match="no Piper voice 'voice-e2e-01'"):
        Make().check(project, named)  # no stored voice: the workspace's (local → Piper for English)
    update_options(project.paths, voice="elevenlabs:eleven_multilingual_v2", voice_name="abc")
    project.__dict__.pop("options", None)
    Make().check(project, named)  # the project's ElevenLabs voice takes any voice ID
    with pytest.raises(InputError):
        Make().check(project, MakeRequest.build(input_path=fable, project_id="hare", voice="local", workspace=tmp_path / "ws",
                                                voice_name="voice-e2e-01"))


def test_a_long_narration_is_aligned_within_bounded_memory(tmp_path: Path, monkeypatch) -> None:
    """Over :data:`aligner.MAX_CELLS` the DTW runs on pooled frames: the words keep their order and their
    starts stay near the truth (here the limit is lowered so that an ordinary shot is "long")."""
    monkeypatch.setattr(aligner, "MAX_CELLS", 20_000)
    text = "Bitcoin, iki farklı alıcıya aynı parayı göndermeyi engelleyen bir kayıt defteridir."
    pcm, rate, events = render(text, "tr", 140)
    aligned = aligner.align(np.frombuffer(pcm, dtype="<i2"), rate, text, "tr")
    truth = {position - 1: ms / 1000 for ms, position, _ in events}
    errors = [abs(w.start_s - truth[w.char_start]) for w in aligned.words if w.char_start in truth]
    starts = [w.start_s for w in aligned.words]
    assert starts == sorted(starts) and statistics.median(errors) <= 0.15, errors
