"""Best-of-N in-process on fake providers: candidates in the ``image`` stage, the ``select`` stage."""

from __future__ import annotations

import json

import pytest

from storyreel.core.errors import ProviderError
from storyreel.engine.graph import Node
from storyreel.engine.staleness import State
from storyreel.providers.http import ProviderRejected
from storyreel.providers.image.fake import FakeImages
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.assets import AssetStore
from storyreel.store.ledger import CostLedger
from storyreel.store.scores import ScoreStore

GENERATED = ["ch01-s02", "ch02-s01", "ch02-s02"]


def _candidates(project, n: int) -> None:  # noqa: ANN001
    project.settings = project.settings.model_copy(update={"image_candidates": n, "image_concurrency": 1})  # calls in a known order


def test_each_candidate_is_its_own_call_file_row_and_ledger_entry(project):
    _candidates(project, 3)
    images = FakeImages(price_usd=0.04)
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    # three distinct requests per generated shot (distinct seeds), each billed and booked once
    assert sorted(r.shot_id for r in images.history) == sorted(GENERATED * 3)
    assert len({(r.shot_id, r.seed) for r in images.history}) == 9
    summary = CostLedger(project.store.sessions, "hare", 1.0).summary()
    assert summary.calls == len(images.history) == 9
    assert summary.committed_usd == pytest.approx(9 * 0.04) and summary.reserved_usd == 0
    for unit in GENERATED:
        metas = [json.loads(ctx.paths.candidate_meta(unit, i).read_text()) for i in (1, 2, 3)]
        assert [m["candidate"] for m in metas] == [1, 2, 3] and len({m["request_key"] for m in metas}) == 3
        assert len({m["sha256"] for m in metas}) == 3  # three different images
    rows = AssetStore(project.store.sessions).assets("hare", "IMAGE")
    assert sorted((r.shot_id, r.meta["candidate"]) for r in rows) == sorted((u, i) for u in [*GENERATED, "ch01-s01"] for i in (1, 2, 3))
    # the manifest lists one image per shot, priced with all its candidates
    manifest = json.loads(ctx.paths.manifest.read_text())
    assert [e["file_path"] for e in manifest["images"]] == [f"images/{u}.png" for u in ["ch01-s01", *GENERATED]]
    assert manifest["cost_usd"] == pytest.approx(9 * 0.04)


def test_the_best_scored_candidate_is_selected_and_recorded(project):
    _candidates(project, 3)
    # candidate 2 of every generated shot is a flat grey frame: no detail, no colour — it must not win
    images = FakeImages(price_usd=0.01).queue(*([None, (128, 128, 128), None] * 3))
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    for unit in GENERATED:
        record = json.loads(ctx.paths.scores(unit).read_text())
        by_index = {c["index"]: c for c in record["candidates"]}
        assert record["picked_by"] == "auto" and record["selected"] != 2
        assert by_index[2]["total"] < min(by_index[1]["total"], by_index[3]["total"])
        assert by_index[2]["rank"] == 3 and set(by_index[1]["scores"]["technical"]) >= {"sharpness", "exposure", "borders", "total"}
        chosen = ctx.paths.candidate(unit, record["selected"]).read_bytes()
        assert ctx.paths.image(unit).read_bytes() == chosen
        sidecar = json.loads(ctx.paths.image_meta(unit).read_text())
        assert sidecar["candidate"] == record["selected"] and sidecar["file_path"] == f"images/{unit}.png"
    rows = ScoreStore(project.store.sessions).for_project("hare")
    assert len(rows) == 12 and {r.scorer for r in rows} == {f"local:technical@{type(ctx.scorer).code_version}"}


def test_a_verdict_is_never_computed_twice(project, monkeypatch):
    _candidates(project, 2)
    ctx = project.ctx(image=FakeImages(price_usd=0.0), llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    calls = []
    real = type(ctx.scorer).score
    monkeypatch.setattr(type(ctx.scorer), "score", lambda self, image: calls.append(image) or real(self, image))
    project.run(list(IMAGE_STAGES), ctx, force=True)  # everything again: the same bytes come back
    assert calls == []


def test_one_failed_candidate_does_not_fail_the_shot_and_is_retried_alone(project):
    _candidates(project, 3)
    images = FakeImages(price_usd=0.01).queue(None, ProviderError("fake: HTTP 503 after 4 attempts"))
    ctx = project.ctx(image=images, llm=FakeLlm())
    report = project.run(list(IMAGE_STAGES), ctx)  # no StageError: every shot has an image
    shot = images.history[1].shot_id
    status = report.statuses[Node("image", shot)]
    assert status.state == State.FRESH and "candidate 2 failed" in status.attention
    assert json.loads(ctx.paths.candidate_meta(shot, 2).read_text())["status"] == "failed"
    assert not ctx.paths.candidate(shot, 2).exists() and ctx.paths.image(shot).exists()
    record = json.loads(ctx.paths.scores(shot).read_text())
    assert [c["index"] for c in record["candidates"] if c["path"]] == [1, 3] and record["selected"] in (1, 3)
    billed = len(images.history)
    report = project.run(list(IMAGE_STAGES), ctx)  # the next run asks again for candidate 2 only
    assert len(images.history) == billed + 1 and images.history[-1].shot_id == shot
    assert report.statuses[Node("image", shot)].attention is None
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().calls == len(images.history) - 1  # the 503 was not billed


def test_a_rejected_candidate_is_dropped_while_another_succeeded_and_only_all_rejected_gets_a_stand_in(project):
    _candidates(project, 2)
    images = FakeImages(price_usd=0.01).queue(ProviderRejected("moderation_blocked"), None,
                                              ProviderRejected("moderation_blocked"), ProviderRejected("moderation_blocked"))
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    first, second = images.history[0].shot_id, images.history[2].shot_id
    assert first != second
    one = json.loads(ctx.paths.image_meta(first).read_text())
    assert one["candidate"] == 2 and one["status"] == "generated" and "stand_in" not in one
    both = json.loads(ctx.paths.image_meta(second).read_text())
    assert both["status"] == "failed" and both["stand_in"] == "local:cards" and both["candidate"] == 1


def test_raising_n_buys_only_the_new_candidates_and_lowering_it_removes_the_rest(project):
    _candidates(project, 2)
    images = FakeImages(price_usd=0.01)
    project.run(list(IMAGE_STAGES), project.ctx(image=images, llm=FakeLlm()))
    assert len(images.history) == 6
    _candidates(project, 3)
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    assert len(images.history) == 9 and {r.variant for r in images.history[6:]} == {2}
    _candidates(project, 1)
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    assert len(images.history) == 9  # candidate 1 is kept as it was
    for unit in GENERATED:
        assert sorted(p.name for p in ctx.paths.candidates(unit).iterdir()) == ["1.meta.json", "1.png", "scores.json"]
        assert json.loads(ctx.paths.scores(unit).read_text())["selected"] == 1


def test_a_persons_pick_wins_and_picking_the_selected_image_changes_nothing_downstream(project):
    _candidates(project, 3)
    ctx = project.ctx(image=FakeImages(price_usd=0.0), llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    unit = GENERATED[0]
    auto = json.loads(ctx.paths.scores(unit).read_text())["selected"]
    version = project.status(list(IMAGE_STAGES), ctx).statuses[Node("select", unit)].version
    # picking the candidate already selected: the select node runs, its image (and data version) stay
    project.board.shot(unit)[1].visual.selected_candidate = auto
    report = project.run(list(IMAGE_STAGES), ctx)
    assert [n.name for n in report.executed] == [f"select[{unit}]"]
    assert report.statuses[Node("select", unit)].version == version
    assert json.loads(ctx.paths.scores(unit).read_text())["picked_by"] == "user"
    # another candidate: the image changes, and the pick survives re-runs
    other = next(i for i in (1, 2, 3) if i != auto)
    project.board.shot(unit)[1].visual.selected_candidate = other
    project.run(list(IMAGE_STAGES), ctx)
    assert ctx.paths.image(unit).read_bytes() == ctx.paths.candidate(unit, other).read_bytes()
    project.run(list(IMAGE_STAGES), ctx, force=True)
    assert json.loads(ctx.paths.scores(unit).read_text())["selected"] == other
    # a pick of a candidate that no longer exists is set aside, said so, and the ranking decides
    project.board.shot(unit)[1].visual.selected_candidate = 3
    _candidates(project, 2)
    ctx = project.ctx(image=FakeImages(price_usd=0.0), llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    record = json.loads(ctx.paths.scores(unit).read_text())
    assert record["picked_by"] == "auto" and "does not exist" in record["pick_ignored"]


def test_a_vendors_candidates_of_one_shot_are_asked_for_together(project):
    """With a vendor, a shot's candidates do not wait for each other: their calls overlap (the vendor's
    client caps the calls in flight across shots; benchmarks/candidates_bench.py measures the wall time)."""
    import threading
    import time

    class SlowImages(FakeImages):
        def __init__(self) -> None:
            super().__init__(price_usd=0.01)
            self.in_flight: dict[str, int] = {}
            self.peak: dict[str, int] = {}
            self.guard = threading.Lock()

        def fetch(self, request, *, jobs=None, key=None):  # noqa: ANN001, ANN202
            with self.guard:
                self.in_flight[request.shot_id] = self.in_flight.get(request.shot_id, 0) + 1
                self.peak[request.shot_id] = max(self.peak.get(request.shot_id, 0), self.in_flight[request.shot_id])
            try:
                time.sleep(0.15)
                return super().fetch(request, jobs=jobs, key=key)
            finally:
                with self.guard:
                    self.in_flight[request.shot_id] -= 1

    project.settings = project.settings.model_copy(update={"image_candidates": 4, "image_concurrency": 4})
    images = SlowImages()
    ctx = project.ctx(image=images, llm=FakeLlm())
    project.run(list(IMAGE_STAGES), ctx)
    assert len(images.history) == 12 and all(peak >= 2 for peak in images.peak.values()), images.peak
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(12 * 0.01)


def test_an_entity_without_a_supplied_reference_gets_one_drawn_once_and_its_shots_are_scored_against_it(project, tmp_path):
    import numpy as np
    from PIL import Image

    data = project.board.model_dump(mode="json")
    data["entities"] = [{"entity_id": "tortoise", "kind": "character", "name": "Tortoise", "description": "a green tortoise"}]
    for shot in ("ch01-s02", "ch02-s02"):
        ch = 0 if shot.startswith("ch01") else 1
        next(s for s in data["chapters"][ch]["shots"] if s["shot_id"] == shot)["visual"]["entities"] = ["tortoise"]
    project.board = type(project.board).model_validate(data)
    _candidates(project, 2)
    ctx = project.ctx(llm=FakeLlm())  # offline: local:cards draws everything
    report = project.run(list(IMAGE_STAGES), ctx)
    assert [n.name for n in report.executed if n.stage == "reference"] == ["reference[tortoise]"]
    drawn = ctx.paths.generated_reference("tortoise")
    with Image.open(drawn) as im:
        assert im.size == (1024, 1024) and np.asarray(im.convert("L")).std() > 20  # a picture, not a flat fill
    for unit in ("ch01-s02", "ch02-s02"):
        record = json.loads(ctx.paths.scores(unit).read_text())
        assert all("consistency" in c["scores"] for c in record["candidates"])
    assert "consistency" not in json.loads(ctx.paths.scores("ch02-s01").read_text())["candidates"][0]["scores"]
    # drawn once: a second run draws nothing
    assert not any(n.stage == "reference" for n in project.run(list(IMAGE_STAGES), ctx).executed)
    # a supplied reference wins: the node is gone and the two shots' selections score against the new image
    ctx.paths.references.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (600, 600), (30, 160, 60)).save(ctx.paths.references / "tortoise.png")
    data["entities"][0]["reference"] = "tortoise.png"
    project.board = type(project.board).model_validate(data)
    ctx = project.ctx(llm=FakeLlm())
    again = project.run(list(IMAGE_STAGES), ctx)
    assert sorted(n.name for n in again.executed if n.stage in ("reference", "select", "image")) == [  # drawn with the new picture
        "image[ch01-s02]", "image[ch02-s02]", "select[ch01-s02]", "select[ch02-s02]"]
