"""``local:piper`` and its text normalizer: numbers and abbreviations said as words, word timings from the model's
phoneme alignments mapped back to the written words (a spelled-out number keeps the timing of the one written
word), and ``local`` choosing the voice by language."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyreel.core.errors import InputError
from storyreel.providers.base import SpeechRequest
from storyreel.providers.registry import resolve
from storyreel.providers.tts.local import for_language
from storyreel.providers.tts.text import spoken, tokens


@pytest.mark.parametrize(("text", "said"), [
    ("It was 1863.", "It was eighteen sixty-three."),
    ("Dr. Smith met Mr. Jones.", "Doctor Smith met Mister Jones."),
    ("We paid $5.50, then $1.", "We paid five dollars and fifty cents, then one dollar."),
    ("Up 45% in the 1960s", "Up forty-five percent in the nineteen sixties"),
    ("the 21st time of 2,000,000", "the twenty-first time of two million"),
    ("apples, pears, etc. Then more", "apples, pears, et cetera. Then more"),
    ("No. 7 St. Louis", "number seven Saint Louis"),
    ("pi is 3.14 — roughly", "pi is three point one four — roughly"),
])
def test_the_normalizer_spells_out_what_a_voice_would_misread(text: str, said: str) -> None:
    assert spoken(text, tokens(text, "en")) == said


def test_other_languages_are_left_to_espeak() -> None:
    text = "1863 yılında Dr. Ahmet"
    assert spoken(text, tokens(text, "tr")) == text
    assert [t.word for t in tokens(text, "tr")] == ["1863", "yılında", "Dr", "Ahmet"]


def test_local_picks_piper_for_english_and_espeak_elsewhere() -> None:
    assert for_language("local", "en") == for_language("local", "en-GB") == "local:piper"
    assert for_language("local", "tr") == for_language("local:auto", "de") == "local:espeak"
    assert for_language("local:espeak", "en") == "local:espeak" and for_language("elevenlabs:x", "en") == "elevenlabs:x"
    assert type(resolve("tts", "local:piper")).__name__ == "LocalPiper"
    assert type(resolve("tts", "local:espeak")).__name__ == "LocalEspeak"
    with pytest.raises(InputError) as refused:
        resolve("tts", "local:festival")
    assert refused.value.field == "voice"


def test_word_timings_come_from_the_models_alignments(tmp_path: Path) -> None:
    text = "In 1863, Dr. Lincoln spoke of the nation. It was short."
    result = resolve("tts", "local:piper").synthesize(SpeechRequest(text=text, language="en"), tmp_path / "a.wav")
    assert result.provider == "local:piper/en_US-joe-medium" and result.sample_rate == 22050
    assert result.provider_details["timing"] == "model-alignment" and result.provider_details["phonemes_matched"] > 0.85
    words = result.words
    assert [w.word for w in words] == ["In", "1863", "Dr", "Lincoln", "spoke", "of", "the", "nation", "It", "was", "short"]
    assert [text[w.char_start:w.char_end] for w in words] == [w.word for w in words]
    year = words[1]
    assert year.end_s - year.start_s > 0.8  # "eighteen sixty-three": the written word spans all of it
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:]))
    assert words[8].start_s - words[7].end_s > 0.25  # the pause between the two sentences
    assert words[-1].end_s <= result.duration_s
