import pytest

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
    assert (brief.aspect_ratio, brief.palette, brief.duration_s) == ("1:1", ["#112233", "#ABCDEF"], 30)
    assert (brief.brand, brief.product, brief.title) == ("Lumen", "desk lamp", "Lumen")


@pytest.mark.parametrize(("prompt", "product", "audience"), [
    ("A 30-second square promo for a desk lamp, colors #112233 and #FFCC00", "desk lamp", None),
    ("A 15-second vertical ad for a noise-cancelling headphone with a 40-hour battery for city commuters. Shop now.",
     "noise-cancelling headphone", "city commuters"),
    ("An ad for a planner app for people tired of missed deadlines", "planner app", "people tired of missed deadlines"),
    ("Ein 20-sekündiger Werbespot für eine Trinkflasche aus Edelstahl für Pendler, Farben #0F5257 und #E8D8B0.", "Trinkflasche", "Pendler"),
    ("Şehirde çalışanlar için 20 saniyelik bir kahve makinesi reklamı, renkler #7A3E1D ve #F2E3D5.", "kahve makinesi", "çalışanlar"),
])
def test_the_brief_names_what_the_prompt_names(prompt, product, audience):
    brief = read_brief(prompt)
    assert (brief.product, brief.audience) == (product, audience)


def test_the_benefit_stops_where_the_brief_specifies_colours():
    brief = read_brief("A 30-second vertical ad for a reusable steel water bottle that keeps drinks cold for 24 hours, colors #0B3D2E and #F2C14E")
    assert (brief.product, brief.benefit, brief.palette) == ("water bottle", "keeps drinks cold for 24 hours", ["#0B3D2E", "#F2C14E"])
    assert read_brief("Ein Werbespot für eine Trinkflasche, die Getränke kalt hält, Farben #0F5257 und #E8D8B0.").benefit == "Getränke kalt hält"


@pytest.mark.parametrize("prompt", [
    "A 30-second square promo for a desk lamp, colors #112233 and #FFCC00",
    "Ein 20-sekündiger Werbespot für eine Trinkflasche aus Edelstahl für Pendler.",
    "Şehirde çalışanlar için 20 saniyelik bir kahve makinesi reklamı.",
])
def test_ad_copy_names_the_product_in_capitalized_sentences(prompt):
    board = LocalPlanner().plan(PlannerRequest(kind="prompt", text=prompt, name="prompt", sha256="sha256:" + "0" * 64))
    product = read_brief(prompt).product
    narration = [s.narration for _, s in board.shots()]
    assert board.settings.title.lower() == product.lower()
    assert sum(product.lower() in n.lower() for n in narration) >= 2
    assert all(n[0].isupper() and n.rstrip()[-1] in ".!?" for n in narration)
    assert not any("our product" in n.lower() for n in narration)
    assert board.shots()[0][1].visual.type == "title_card" and board.shots()[0][1].visual.description.lower() == product.lower()


@pytest.mark.parametrize(("prompt", "title", "narration"), [
    ("A 30-second explainer for a password manager app: why reusing passwords is risky and how the app fixes it",
     "Password manager app", ["Password manager app.", "Why reusing passwords is risky.", "How the app fixes it."]),
    ("A short video about the water cycle: evaporation, condensation, precipitation and collection",
     "Water cycle", ["Water cycle.", "Evaporation.", "Condensation.", "Precipitation and collection."]),
    ("An overview of the Gettysburg Address.", "Gettysburg Address", ["Gettysburg Address."]),
])
def test_an_explainer_prompt_narrates_its_topic_not_the_request(prompt, title, narration):
    board = LocalPlanner().plan(PlannerRequest(kind="prompt", text=prompt, name="prompt", sha256="sha256:" + "0" * 64))
    assert board.settings.title == title and board.plan.structure == "explainer"
    assert [s.narration for _, s in board.shots()] == narration
    assert not any(w in s.narration.lower() for _, s in board.shots() for w in ("explainer", "30-second", "short video", "overview"))


def test_a_prompt_that_is_its_own_text_is_narrated_as_written():
    board = LocalPlanner().plan(PlannerRequest(kind="prompt", text="The tortoise and the hare race. The hare sleeps. The tortoise wins.",
                                               name="prompt", sha256="sha256:" + "0" * 64))
    assert board.settings.title == "The tortoise and the hare race"
    assert "The hare sleeps." in " ".join(s.narration for _, s in board.shots())


@pytest.mark.parametrize(("prompt", "title"), [
    ("How a lighthouse keeper on a rocky island kept the lamp burning through the great storm of 1703", "How a lighthouse keeper…"),
    ("Why bees dance: how honeybees tell each other where the best flowers are", "Why bees dance"),
    ("Three quick tips for brewing better pour-over coffee at home, for busy mornings", "Three quick tips for brewing better…"),
])
def test_a_long_prompt_gets_a_title_that_ends_on_a_word_and_is_narrated_once_punctuated(prompt, title):
    """Seen on a contact sheet: "How a lighthouse keeper on a…" was the title and "…on a…." its subtitle."""
    board = LocalPlanner().plan(PlannerRequest(kind="prompt", text=prompt, name="prompt", sha256="sha256:" + "0" * 64))
    first = board.shots()[0][1]
    assert board.settings.title == title
    assert first.visual.type == "title_card"
    assert first.narration in (title, title + ".")
    assert not any(s.narration.endswith(("….", "...")) for _, s in board.shots())


@pytest.mark.parametrize(("prompt", "title", "aspect"), [
    ("A short explainer on why bees dance, 16:9", "Why bees dance", "16:9"),
    ("A 30-second explainer in 9:16 for a password manager app: why reusing passwords is risky", "Password manager app", "9:16"),
    ("A short explainer (1:1) on why bees dance", "Why bees dance", "1:1"),
    ("A short explainer on why bees dance, vertical", "Why bees dance", "9:16"),
])
def test_the_format_a_prompt_states_is_its_aspect_never_its_title_or_a_chapter(prompt, title, aspect):
    """Seen: "A short explainer on why bees dance, 16:9" was titled "Why bees dance, 16" with a chapter "9"."""
    board = LocalPlanner().plan(PlannerRequest(kind="prompt", text=prompt, name="prompt", sha256="sha256:" + "0" * 64))
    assert board.settings.title == title and board.settings.aspect_ratio == aspect
    spoken = " ".join([c.title for c in board.chapters] + [s.narration for _, s in board.shots()])
    assert not any(token in spoken for token in ("16:9", "9:16", "1:1", ", 16", "vertical")), spoken


def test_a_paragraph_without_a_heading_is_titled_by_a_whole_short_sentence_or_its_number():
    """Seen: the fable's first chapter was titled "A Hare one day ridiculed…" — a sentence cut short."""
    board = _plan("hare-and-tortoise.txt")
    assert [c.title for c in board.chapters] == ["Part 1", "Part 2", "Part 3", "Slow but steady wins the race"]
    assert not any(c.title.endswith(("…", "...")) for c in _plan("gettysburg-address.txt").chapters)
