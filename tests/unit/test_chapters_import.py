import json

import pytest

from storyreel.core.artifact import SourceInfo
from storyreel.core.chapters_json import chapters_to_storyboard, parse_chapter_document
from storyreel.core.errors import InputError

from ..conftest import INPUTS

SRC = SourceInfo(kind="chapters", name="c.json", sha256="sha256:00")


def _doc():
    return json.loads((INPUTS / "chapters-bitcoin-tr.json").read_text(encoding="utf-8"))


def test_turkish_chapters_map_one_visual_to_one_shot():
    board = chapters_to_storyboard(parse_chapter_document(_doc(), "c.json"), SRC)
    assert board.project_id == "btc-ep-0042"
    assert board.settings.language == "tr"
    shots = board.shots()
    assert len(shots) == 6
    assert [s.visual.type for _, s in shots] == ["title_card", "diagram", "diagram", "b_roll", "screen_share", "talking_head"]
    assert shots[0][1].visual.description == "Bitcoin Nedir?"
    assert shots[2][1].visual.image_prompt.startswith("Isometric")
    assert shots[0][1].overlays[0].type == "lower_third"
    assert "ğ" in shots[4][1].narration or "ş" in shots[4][1].narration


def test_unsafe_chapter_id_is_rejected_naming_the_field():
    doc = _doc()
    doc["chapters"][2]["chapter_id"] = "../../etc"
    with pytest.raises(InputError, match=r"chapters\[2\]\.chapter_id"):
        parse_chapter_document(doc, "c.json")


def test_missing_narration_is_rejected_naming_the_field():
    doc = _doc()
    del doc["chapters"][1]["narration"]
    with pytest.raises(InputError, match=r"chapters\[1\]\.narration"):
        parse_chapter_document(doc, "c.json")


def test_narration_is_split_across_several_visuals():
    doc = _doc()
    doc["chapters"][1]["visuals"].append({"type": "b_roll", "description": "Kopyalanan dosyalar"})
    board = chapters_to_storyboard(parse_chapter_document(doc, "c.json"), SRC)
    ch2 = board.chapters[1]
    assert len(ch2.shots) == 2
    assert " ".join(s.narration for s in ch2.shots) == doc["chapters"][1]["narration"]["text"]
