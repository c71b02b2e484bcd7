"""``make/imagegen --enhance``: the enhancement loop as an engine node in front of the image provider."""

from __future__ import annotations

import json

from storyreel.providers.image.fake import FakeImages
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES

GENERATED = ["ch01-s02", "ch02-s01", "ch02-s02"]
SEED_FILES = ["00_original_prompt.txt", "01_agent1_iteration_1.txt", "02_agent2_iteration_1.txt", "03_final_enhanced_prompt.txt",
              "prompt_trace_summary.json"]


def _enhanced(project, **more):  # noqa: ANN001, ANN003, ANN202
    project.settings = project.settings.model_copy(update={"enhance_prompts": True, "image_concurrency": 1, **more})
    images = FakeImages(price_usd=0.0)
    return images, project.ctx(image=images, llm=FakeLlm(["a hare laughing at a tortoise", "three boxes", "a tortoise at the line"]))


def test_the_enhanced_prompt_is_what_the_provider_gets_and_the_traces_are_kept(project):
    images, ctx = _enhanced(project)
    report = project.run(list(IMAGE_STAGES), ctx)
    assert sorted(n.unit for n in report.executed if n.stage == "enhance") == GENERATED
    for unit in GENERATED:
        record = json.loads(ctx.paths.enhanced_prompt(unit).read_text())
        assert record["score"] >= 85 and record["stop_reason"] == "threshold"
        assert sorted(p.name for p in (ctx.paths.prompts / unit).iterdir()) == SEED_FILES
        assert (ctx.paths.prompts / unit / "00_original_prompt.txt").read_text().strip() == record["original"]
        sidecar = json.loads(ctx.paths.candidate_meta(unit, 1).read_text())
        assert sidecar["prompt"] == record["prompt"] != record["original"]
    sent = {r.shot_id: r.prompt for r in images.history}
    assert all("lens" in sent[u] and "light" in sent[u].lower() for u in GENERATED)
    # nothing changed: nothing runs again
    again = project.run(list(IMAGE_STAGES), ctx)
    assert again.executed == []


def test_changing_the_loops_limits_reruns_only_the_loop_and_what_its_prompt_changes(project):
    images, ctx = _enhanced(project)
    project.run(list(IMAGE_STAGES), ctx)
    billed = len(images.history)
    _, ctx = _enhanced(project, enhance_threshold=99.5, enhance_max_iterations=2)
    report = project.run(list(IMAGE_STAGES), ctx)
    ran = {n.stage for n in report.executed}
    assert "enhance" in ran and "image_prompt" not in ran
    for unit in GENERATED:
        summary = json.loads((ctx.paths.prompts / unit / "prompt_trace_summary.json").read_text())
        assert summary["threshold"] == 99.5 and summary["max_iterations"] == 2
    # the rules reach the same final prompt: the images are kept (their requests did not change)
    assert len(images.history) == billed


def test_without_enhance_there_is_no_node_and_the_plain_prompt_is_sent(project):
    project.settings = project.settings.model_copy(update={"image_concurrency": 1})
    images = FakeImages(price_usd=0.0)
    ctx = project.ctx(image=images, llm=FakeLlm(["a hare laughing at a tortoise"]))
    report = project.run(list(IMAGE_STAGES), ctx)
    assert not any(n.stage == "enhance" for n in report.statuses)
    assert not ctx.paths.enhanced_prompt(GENERATED[0]).exists()
