import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from storyreel.core.hashing import seed_for
from storyreel.media.typography import FONT_FILES, font_dir
from storyreel.providers.base import ImageRequest, SpeechRequest
from storyreel.providers.image.local_cards import LocalCards
from storyreel.providers.tts.local_espeak import LocalEspeak

TYPES = ["title_card", "diagram", "b_roll", "screen_share", "talking_head"]


def _request(vtype: str, w=1920, h=1080, desc="Gece, soğuk bir veri merkezinde çalışan makineler") -> ImageRequest:
    return ImageRequest(
        shot_id="s1", visual_type=vtype, description=desc, prompt=desc, chapter_title="Dijital Para Sorunu",
        project_title="Bitcoin Nedir?", narration="Birinci cümle. İkinci cümle burada. Üçüncü cümle.",
        palette=["#0F5257", "#E8D8B0"], width=w, height=h, seed=seed_for(desc),
    )


@pytest.mark.parametrize("vtype", TYPES)
@pytest.mark.parametrize(("w", "h"), [(1920, 1080), (1080, 1920)])
def test_every_visual_type_renders_a_non_flat_frame_at_the_exact_size(tmp_path, vtype, w, h):
    out = tmp_path / f"{vtype}.png"
    LocalCards().generate(_request(vtype, w, h), out)
    img = np.asarray(Image.open(out).convert("L"), dtype=np.float32)
    assert img.shape == (h, w)
    assert img.std() > 12, "frame is (nearly) a flat fill"
    assert 15 < img.mean() < 240, "frame is black or blank"


def test_visual_types_are_distinct(tmp_path):
    frames = []
    for vtype in TYPES:
        LocalCards().generate(_request(vtype), tmp_path / f"{vtype}.png")
        frames.append(np.asarray(Image.open(tmp_path / f"{vtype}.png").convert("L").resize((192, 108)), dtype=np.float32))
    for i in range(len(frames)):
        for j in range(i + 1, len(frames)):
            assert np.abs(frames[i] - frames[j]).mean() > 4, (TYPES[i], TYPES[j])


def test_same_description_renders_the_same_image(tmp_path):
    LocalCards().generate(_request("b_roll"), tmp_path / "a.png")
    LocalCards().generate(_request("b_roll"), tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.mark.parametrize("kind", sorted(FONT_FILES))
def test_bundled_fonts_cover_turkish_and_german(kind):
    cmap = TTFont(font_dir() / FONT_FILES[kind]).getBestCmap()
    for ch in "ğĞşŞıİçÇöÖüÜäÄßâ":
        assert ord(ch) in cmap, ch


def test_espeak_narration_has_monotonic_word_timings_in_turkish(tmp_path):
    text = "Merhaba ve hoş geldiniz. Bugün çift harcama sorununu öğreneceğiz."
    result = LocalEspeak().synthesize(SpeechRequest(text=text, language="tr"), tmp_path / "n.wav")
    assert result.provider_details["voice"] == "tr"
    assert 2.0 < result.duration_s < 10.0
    starts = [w.start_s for w in result.words]
    assert starts == sorted(starts) and len(result.words) >= 8
    assert {"Merhaba", "öğreneceğiz"} <= {w.word for w in result.words}
    for w in result.words:
        assert text[w.char_start : w.char_end].startswith(w.word[:3])


@pytest.mark.parametrize(("text", "shown"), [
    ("Why reusing passwords is risky, and how the password manager app fixes it", ["locked", "mobile phone"]),
    ("A neighbourhood bakery's new sourdough subscription", ["bread"]),
])
def test_b_roll_shows_the_things_an_explainer_names(text, shown):
    from storyreel.providers.image.art import match_subjects

    assert [s.art.annotation for s in match_subjects(text, "en")] == shown
