import json

import pytest
from pydantic import ValidationError

from storyreel.core.artifact import Storyboard, frame_size, load_storyboard, slugify_id, storyboard_json_schema
from storyreel.core.errors import InputError

BOARD = {
    "project_id": "demo",
    "settings": {"title": "Demo"},
    "source": {"kind": "script", "name": "demo.txt", "sha256": "sha256:00"},
    "plan": {"provider": "local:planner", "structure": "script"},
    "chapters": [
        {"chapter_id": "ch01", "title": "One", "shots": [
            {"shot_id": "ch01-s01", "narration": "Hello there.", "visual": {"type": "title_card", "description": "Demo"}}
        ]}
    ],
}


def test_valid_storyboard_loads_with_defaults():
    board = Storyboard.model_validate(BOARD)
    assert frame_size(board.settings.aspect_ratio) == (1920, 1080)
    assert frame_size("9:16", "360p") == (360, 640) and frame_size("16:9", "720p") == (1280, 720)
    assert board.shots()[0][1].transition == "crossfade"


@pytest.mark.parametrize("bad_id", ["../etc", "a/b", "", "-lead", "x" * 65, "ü"])
def test_ids_that_could_escape_the_project_folder_are_rejected(bad_id):
    data = json.loads(json.dumps(BOARD))
    data["chapters"][0]["shots"][0]["shot_id"] = bad_id
    with pytest.raises(ValidationError):
        Storyboard.model_validate(data)


def test_duplicate_shot_ids_are_rejected():
    data = json.loads(json.dumps(BOARD))
    shot = data["chapters"][0]["shots"][0]
    data["chapters"].append({"chapter_id": "ch02", "title": "Two", "shots": [shot]})
    with pytest.raises(ValidationError, match="duplicate shot_id"):
        Storyboard.model_validate(data)


def test_load_names_the_bad_field(tmp_path):
    data = json.loads(json.dumps(BOARD))
    data["settings"]["aspect_ratio"] = "4:3"
    path = tmp_path / "storyboard.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"settings\.aspect_ratio"):
        load_storyboard(path)


def test_schema_export_describes_visual_types():
    schema = storyboard_json_schema()
    text = json.dumps(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    for visual_type in ("title_card", "diagram", "b_roll", "screen_share", "talking_head"):
        assert visual_type in text


def test_slugify_turkish_title():
    assert slugify_id("Bitcoin Nedir? Blok Zincirine İlk Bakış") == "bitcoin-nedir-blok-zincirine-ilk-bakis"


def test_entities_are_checked_where_they_become_file_names_and_references():
    data = json.loads(json.dumps(BOARD))
    data["entities"] = [{"entity_id": "hare", "kind": "character", "name": "Hare", "reference": "hare.png"}]
    data["chapters"][0]["shots"][0]["visual"]["entities"] = ["hare"]
    board = Storyboard.model_validate(data)
    assert board.entity("hare").name == "Hare" and board.chapters[0].shots[0].visual.entities == ["hare"]
    unknown = json.loads(json.dumps(data))
    unknown["chapters"][0]["shots"][0]["visual"]["entities"] = ["fox"]
    with pytest.raises(ValidationError, match="entity 'fox', which is not"):
        Storyboard.model_validate(unknown)
    for bad in ("../hare.png", "/etc/passwd", "hare.svg", "a/b.png"):
        hostile = json.loads(json.dumps(data))
        hostile["entities"][0]["reference"] = bad
        with pytest.raises(ValidationError):
            Storyboard.model_validate(hostile)
    twice = json.loads(json.dumps(data))
    twice["entities"].append(dict(twice["entities"][0]))
    with pytest.raises(ValidationError, match="duplicate entity_id"):
        Storyboard.model_validate(twice)
