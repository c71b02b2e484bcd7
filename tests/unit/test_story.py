"""Story mode's artifact and DTOs (issue 27 item 1; seed 003 "Dual Model System"): every step's context and output
DTO is strict — every field required, no extra fields — and carries the storage models' field descriptions, so a
description written once reaches the JSON Schema the model is sent; the offline engine answers three options that
really differ, the same way every time."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from storyreel.core.story import OPTIONS, STEPS, LoreSpec, build_steps
from storyreel.providers.story.local_story import LocalStory

PROMPT = "A fox and a crow argue over a piece of cheese in the forest"


def _objects(schema: dict) -> list[dict]:
    found = [schema] + list((schema.get("$defs") or {}).values())
    return [o for o in found if o.get("type") == "object"]


def test_every_dto_is_strict_and_carries_the_descriptions() -> None:
    for step, (context, output) in STEPS.items():
        for model in (context, output):
            for obj in _objects(model.model_json_schema()):
                assert obj.get("additionalProperties") is False, (step, obj.get("title"))
                assert sorted(obj.get("required", [])) == sorted(obj["properties"]), (step, obj.get("title"))
                for name, prop in obj["properties"].items():
                    assert prop.get("description") or prop.get("$ref") or prop.get("items"), (step, name)
                    assert "null" not in json.dumps(prop), (step, name)  # no optional fields on the wire
    schema = json.dumps(STEPS["shots"][1].model_json_schema())
    assert "What the narrator says over this shot" in schema and '"maxLength": 600' in schema
    with pytest.raises(ValidationError):
        STEPS["lore"][1].model_validate({"options": [{"title": "t", "world": "w", "tone": "t", "visual_style": "v", "extra": 1}] * 3})


def test_a_description_changed_in_the_storage_model_changes_the_dto_sent(monkeypatch) -> None:
    field = LoreSpec.model_fields["world"]
    before = json.dumps(build_steps()["narrative"][0].model_json_schema())
    monkeypatch.setattr(field, "description", "The realm, its age and its one impossible rule.")
    after = json.dumps(build_steps()["narrative"][0].model_json_schema())
    assert "its one impossible rule" in after and "its one impossible rule" not in before


def test_the_offline_engine_answers_three_options_that_differ() -> None:
    engine = LocalStory()
    lore = engine.answer("lore", STEPS["lore"][0](prompt=PROMPT))
    assert len(lore.options) == OPTIONS and len({o.tone for o in lore.options}) == OPTIONS and len({o.title for o in lore.options}) == 3
    narrative = engine.answer("narrative", STEPS["narrative"][0](prompt=PROMPT, lore=lore.options[0]))
    assert len({o.middle for o in narrative.options}) == OPTIONS and len({o.end for o in narrative.options}) == OPTIONS
    assert all("cheese" in o.logline for o in narrative.options)  # the prompt's own thing
    scenes = engine.answer("scenes", STEPS["scenes"][0](lore=lore.options[0], narrative=narrative.options[1]))
    comps = engine.answer("components", STEPS["components"][0](narrative=narrative.options[1], scenes=scenes.scenes))
    kinds = {c.name: c.kind for c in comps.components}
    assert kinds["the cheese"] == "prop" and kinds["the crow"] == "character" and kinds["the forest"] == "place"
    again = engine.answer("lore", STEPS["lore"][0](prompt=PROMPT))
    assert again == lore  # deterministic
