"""Stages ``image_prompt``, ``image`` and ``manifest`` in-process, on fake providers."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from storyreel.core.errors import StageError
from storyreel.engine.graph import Node
from storyreel.engine.staleness import Cause, StaleCause, State
from storyreel.providers.http import ProviderRejected
from storyreel.providers.image.fake import FakeImages
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.assets import AssetStore
from storyreel.store.ledger import CostLedger

GENERATED = ["ch01-s02", "ch02-s01", "ch02-s02"]  # b-roll and the diagram go to the provider; the title card is drawn


def test_prompts_come_from_the_llm_and_images_from_the_provider(project):
    images, llm = FakeImages(price_usd=0.02), FakeLlm(["A hare mocking a tortoise, watercolour", "Three boxes joined by arrows",
                                                        "A tortoise crossing a finish line at dawn"])
    ctx = project.ctx(image=images, llm=llm)
    report = project.run(list(IMAGE_STAGES), ctx)
    assert sorted(n.unit for n in report.executed if n.stage == "image_prompt") == GENERATED
    assert sorted(r.shot_id for r in images.history) == GENERATED
    assert {r.prompt for r in images.history} == {"A hare mocking a tortoise, watercolour", "Three boxes joined by arrows",
                                                  "A tortoise crossing a finish line at dawn"}
    assert len(llm.history) == 3 and all(values["project_title"] == "The Hare and the Tortoise" for _, values in llm.history)
    for unit in [*GENERATED, "ch01-s01"]:
        with Image.open(ctx.paths.images / f"{unit}.png") as im:
            assert im.size == ctx.frame_size == (640, 360)  # the tests' render profile (tests/conftest.py)
    manifest = json.loads((ctx.paths.images / "manifest.json").read_text())
    assert manifest["counts"] == {"generated": 3, "template": 1, "failed": 0, "skipped": 0}
    assert manifest["cost_usd"] == pytest.approx(0.06)


def test_the_ledger_books_exactly_what_the_provider_billed(project):
    images = FakeImages(price_usd=0.05)
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    summary = CostLedger(project.store.sessions, "hare", 1.0).summary()
    assert summary.calls == len(images.history) == 3
    assert summary.committed_usd == pytest.approx(3 * 0.05) and summary.reserved_usd == 0
    rows = AssetStore(project.store.sessions).assets("hare", "IMAGE")
    assert sorted(r.shot_id for r in rows) == sorted([*GENERATED, "ch01-s01"])
    assert {r.meta["status"] for r in rows} == {"generated", "template"}


def test_a_rejected_shot_gets_a_stand_in_is_not_billed_and_is_retried(project):
    images = FakeImages(price_usd=0.05).queue(None, ProviderRejected("moderation_blocked"), None)
    ctx = project.ctx(image=images, llm=FakeLlm())
    report = project.run(list(IMAGE_STAGES), ctx)
    failed = [s for s in report.statuses.values() if s.attention]
    assert len(failed) == 1 and "moderation_blocked" in failed[0].attention
    unit = failed[0].node.unit
    sidecar = json.loads(ctx.paths.image_meta(unit).read_text())
    assert sidecar["status"] == "failed" and sidecar["stand_in"] == "local:cards" and sidecar["cost_usd"] == 0
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(2 * 0.05)
    again = project.run(list(IMAGE_STAGES), project.ctx(image=images, llm=FakeLlm()))
    assert [n.unit for n in again.executed if n.stage == "image"] == [unit]  # only the rejected shot is retried
    assert json.loads(ctx.paths.image_meta(unit).read_text())["status"] == "generated"


def test_an_edited_description_makes_only_that_shots_prompt_and_image_stale(project):
    ctx = project.ctx(image=FakeImages(), llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    chapter = project.board.chapters[1]
    chapter.shots[1].visual.description = "The tortoise asleep under a tree"
    after = project.status(list(IMAGE_STAGES), project.ctx(image=FakeImages(), llm=FakeLlm()))
    stale = {n.name: s.causes for n, s in after.statuses.items() if s.state != State.FRESH}
    assert stale == {
        "image_prompt[ch02-s02]": [StaleCause(Cause.PARAMS)],
        "image[ch02-s02]": [StaleCause(Cause.DEPENDENCY, ("image_prompt[ch02-s02]",))],  # waits for its prompt
        "select[ch02-s02]": [StaleCause(Cause.DEPENDENCY, ("image[ch02-s02]",))],
        "manifest[images]": [StaleCause(Cause.DEPENDENCY, ("select[ch02-s02]",))],
    }


def test_a_failing_llm_prompt_fails_only_its_shot(project):
    from storyreel.core.errors import ProviderError

    images = FakeImages()
    ctx = project.ctx(image=images, llm=FakeLlm([ProviderError("fake:llm: HTTP 500")], default="a prompt"))
    with pytest.raises(StageError, match=r"image_prompt\[ch01-s02\].*HTTP 500(.|\n)*not made: image\[ch01-s02\]"):
        project.run(list(IMAGE_STAGES), ctx)
    statuses = project.status(list(IMAGE_STAGES), ctx).statuses
    assert statuses[Node("image_prompt", "ch01-s02")].state == State.MISSING
    assert sorted(r.shot_id for r in images.history) == ["ch02-s01", "ch02-s02"]  # the other shots' images were made
    manifest = json.loads(ctx.paths.manifest.read_text())
    assert {e["shot_id"]: e["status"] for e in manifest["images"]} == {
        "ch01-s01": "template", "ch01-s02": "skipped", "ch02-s01": "generated", "ch02-s02": "generated"}
    assert (ctx.paths.provenance / "imagegen_provenance.json").exists()


def test_a_provider_error_that_is_not_a_rejection_fails_the_node_without_a_stand_in(project):
    from storyreel.core.errors import ProviderError

    images = FakeImages(price_usd=0.05).queue(ProviderError("fake: gave up after 4 attempts: HTTP 503"))
    ctx = project.ctx(image=images, llm=FakeLlm())
    with pytest.raises(StageError, match="HTTP 503"):
        project.run(list(IMAGE_STAGES), ctx)
    manifest = json.loads(ctx.paths.manifest.read_text())
    failed = [e for e in manifest["images"] if e["status"] == "failed"]
    assert len(failed) == 1 and "HTTP 503" in failed[0]["error"] and failed[0]["file_path"] is None
    assert not ctx.paths.image(failed[0]["shot_id"]).exists()  # no stand-in drawn for a vendor failure
    assert not ctx.paths.candidate(failed[0]["shot_id"], 1).exists()
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(2 * 0.05)


def test_editing_a_diagrams_narration_does_not_buy_its_image_again(project):
    images = FakeImages(price_usd=0.05)
    ctx = project.ctx(image=images, llm=resolve_local_llm())
    project.run(list(IMAGE_STAGES), ctx)
    bought = len(images.history)
    diagram = project.board.chapters[1].shots[0]
    assert diagram.visual.type == "diagram"
    diagram.narration = "First a course was set, then a judge was chosen, then the race began."
    report = project.run(list(IMAGE_STAGES), project.ctx(image=images, llm=resolve_local_llm()))
    assert [n.name for n in report.executed if n.stage == "image_prompt"] == ["image_prompt[ch02-s01]"]  # re-rendered, same text
    assert not [n for n in report.executed if n.stage == "image"] and len(images.history) == bought


def resolve_local_llm():  # noqa: ANN201
    from storyreel.providers.registry import resolve

    return resolve("llm", "local:direct", overridable=False)


def test_an_answer_received_before_a_crash_is_used_not_bought_again(project):
    from storyreel.providers.base import request_key
    from storyreel.store.journal import CallJournal

    images = FakeImages(price_usd=0.05)
    ctx = project.ctx(image=images, llm=FakeLlm(default="A tortoise at the finish line"))
    project.run(list(IMAGE_STAGES)[:1], ctx)  # the prompts
    stage = next(s for s in IMAGE_STAGES if s.name == "image")
    request = stage.request(ctx, "ch02-s02")
    key = request_key(images.provider_id, images.payload(request))
    # a run that died after the vendor answered: the answer is journaled, its reservation orphaned
    CallJournal(ctx.paths, key).save(images.fetch(request))
    CostLedger(project.store.sessions, "hare", 1.0).reserve("image[ch02-s02]", images.provider_id, 0.05, key)
    with project.session.writing(wait=False, verb="test"):  # reconciles under the lock
        summary = CostLedger(project.store.sessions, "hare", 1.0).summary()
        assert (summary.committed_usd, summary.reserved_usd, summary.uncertain_calls) == (pytest.approx(0.05), 0, 0)
        project.run(list(IMAGE_STAGES), ctx)
    bought = [r.shot_id for r in images.history]
    assert bought.count("ch02-s02") == 1  # only the call made before the "crash"
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(3 * 0.05)
    assert not list(ctx.paths.received.glob("*"))  # journal entries go once the run records are committed
    assert json.loads(ctx.paths.image_meta("ch02-s02").read_text())["metadata"].get("from_journal") is True


@pytest.mark.parametrize(("own", "sent"), [
    ("A tortoise crossing a finish line at dawn", "Watercolour storybook, soft light. A tortoise crossing a finish line at dawn"),
    ("watercolour storybook, soft light: a tortoise at the line", "watercolour storybook, soft light: a tortoise at the line"),
])
def test_a_shots_own_image_prompt_gets_the_projects_style_prefix_once(project, own, sent):
    """Seed 001 asks for a brand-guideline prefix on image prompts: a prompt the storyboard (or chapter JSON)
    gives a shot is sent with it — unless it already carries it — and the record keeps what was given."""
    data = project.board.model_dump(mode="json")
    data["settings"]["style"]["style_prefix"] = "Watercolour storybook, soft light."
    shot = next(s for c in data["chapters"] for s in c["shots"] if s["shot_id"] == "ch02-s02")
    shot["visual"]["image_prompt"] = own
    project.board = type(project.board).model_validate(data)
    images = FakeImages(price_usd=0.0)
    ctx = project.ctx(image=images, llm=FakeLlm(default="an llm prompt"))
    project.run(list(IMAGE_STAGES), ctx)
    assert {r.shot_id: r.prompt for r in images.history}["ch02-s02"] == sent
    record = json.loads(ctx.paths.prompt_record("ch02-s02").read_text())
    assert record["prompt"] == sent and record["own_prompt"] == own and record["source"] == "storyboard"
    assert record["style_prefix"] == ("Watercolour storybook, soft light" if sent != own else None)


def test_a_failed_shot_is_asked_of_the_fallback_model_but_never_after_a_lost_answer(project):
    """Seed 003: one image model with a fallback model. A shot the image provider fails (a 5xx after its retries) is
    made by the fallback provider, booked on it and kept on the next run; a call whose answer was lost is not asked of
    the fallback (the first may have been made and billed): it stays uncertain."""
    from storyreel.core.errors import ProviderError, UncertainCall

    primary = FakeImages("primary", price_usd=0.05).queue(None, ProviderError("fake: HTTP 500: overloaded"), None)
    backup = FakeImages("backup", price_usd=0.07)
    ctx = project.ctx(image=primary, llm=FakeLlm())
    ctx.fallback_image_provider = backup
    report = project.run(list(IMAGE_STAGES), ctx)
    assert not [s for s in report.statuses.values() if s.attention]
    generated = [n.unit for n in report.executed if n.stage == "image" and ctx.route(n.unit) == "generated"]
    metas = {u: json.loads(ctx.paths.candidate_meta(u, 1).read_text()) for u in generated}
    rescued = [u for u, m in metas.items() if m.get("fallback_from")]
    assert len(rescued) == 1 and metas[rescued[0]]["provider"] == "fake:backup" and "overloaded" in metas[rescued[0]]["fallback_from"]
    summary = CostLedger(project.store.sessions, "hare", 1.0).summary()
    assert summary.by_provider["fake:backup"] == pytest.approx(0.07) and len(backup.history) == 1
    ctx = project.ctx(image=primary, llm=FakeLlm())
    ctx.fallback_image_provider = backup
    assert not [n for n in project.run(list(IMAGE_STAGES), ctx).executed if n.stage == "image"]  # kept: nothing bought again

    lost = FakeImages("lost", price_usd=0.05).queue(UncertainCall("fake: no answer within the timeout"))
    ctx = project.ctx(image=lost, llm=FakeLlm())
    ctx.fallback_image_provider = backup
    with pytest.raises(Exception, match="no answer within the timeout"):
        project.run(list(IMAGE_STAGES), ctx)
    assert len(backup.history) == 1  # the fallback was not asked


def test_a_provider_without_input_images_gets_the_description_and_provenance_says_so(project):
    data = project.board.model_dump(mode="json")
    data["entities"] = [{"entity_id": "hare", "kind": "character", "name": "Hare", "description": "a brown hare"}]
    data["chapters"][0]["shots"][1]["visual"]["entities"] = ["hare"]
    project.board = type(project.board).model_validate(data)
    images = FakeImages()  # takes no input images
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    meta = json.loads(ctx.paths.candidate_meta("ch01-s02", 1).read_text())
    assert meta["references_not_sent"].startswith("the provider takes no input images") and "references_sent" not in meta
    assert all(not r.references for r in images.history)
