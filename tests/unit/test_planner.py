from storyreel.core.source import read_source
from storyreel.core.text import estimate_speech_seconds
from storyreel.providers.base import PlannerRequest
from storyreel.providers.planner.brief_rules import choose_framework, read_brief
from storyreel.providers.planner.local import LocalPlanner
from storyreel.providers.planner.script_rules import enumeration_items

from ..conftest import INPUTS


def _plan(name: str):
    s = read_source(INPUTS / name)
    return LocalPlanner().plan(PlannerRequest(kind=s.kind, text=s.text, name=s.name, sha256=s.sha256))


def test_script_paragraphs_become_chapters_and_the_opening_is_a_title_card():
    board = _plan("hare-and-tortoise.txt")
    assert board.settings.title == "The Hare and the Tortoise"
    assert len(board.chapters) == 4
    first = board.shots()[0][1]
    assert first.visual.type == "title_card"
    assert first.narration == "The Hare and the Tortoise."


def test_shots_hold_roughly_4_to_12_seconds_of_narration():
    board = _plan("gettysburg-address.txt")
    body = [shot for _, shot in board.shots()][1:]
    for shot in body:
        assert estimate_speech_seconds(shot.narration) <= 14.5, shot.narration
    assert sum(estimate_speech_seconds(s.narration) >= 4 for s in body) >= len(body) - 2


def test_parallel_enumeration_becomes_a_diagram():
    board = _plan("gettysburg-address.txt")
    diagrams = [shot for _, shot in board.shots() if shot.visual.type == "diagram"]
    assert any("we can not consecrate" in d.visual.description for d in diagrams)
    assert all(s.visual.type in ("title_card", "b_roll", "diagram") for _, s in board.shots())


def test_enumeration_rules():
    assert enumeration_items("of the people, by the people, for the people") == ["of the people", "by the people", "for the people"]
    assert enumeration_items("The Hare, lying down by the wayside, fell fast asleep.") is None
    assert len(enumeration_items("First mix the flour. Then add water. Finally bake it.")) == 3


def test_ad_brief_is_vertical_in_brand_colours_with_a_recorded_framework():
    board = _plan("ad-brief.txt")
    assert board.settings.aspect_ratio == "9:16"
    assert board.settings.style.palette == ["#0F5257", "#E8D8B0"]
    assert board.plan.structure == "ad"
    assert board.plan.framework == "AIDA" and board.plan.framework_reason
    assert board.plan.target_duration_s == 20
    assert 3 <= len(board.chapters) <= 5  # seed 004 FR-008
    assert "Tide & Stone" in board.shots()[1][1].narration


def test_framework_rules():
    assert choose_framework("An ad for a planner app for people tired of missed deadlines")[0] == "PAS"
    assert choose_framework("Promo: transform your kitchen with one tool")[0] == "BAB"
    assert choose_framework("Launch ad for a new running shoe")[0] == "AIDA"
    assert choose_framework("Use the BAB framework for our product ad")[0] == "BAB"


def test_brief_reads_aspect_palette_and_length():
    brief = read_brief('A 30 second square promo for "Lumen", a desk lamp. Colors #112233 and #abcdef.')
    assert (brief.aspect_ratio, brief.palette, brief.duration_s, brief.product) == ("1:1", ["#112233", "#ABCDEF"], 30, "Lumen")
