"""Best-of-N through the OpenAI Images API's native batch (``n``) against a loopback server: one call per
shot for all its candidates, one reservation and ledger entry for the batch, every image its own candidate;
a short answer fails only the missing candidates; raising N buys only the new one, under its own key."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image
from werkzeug import Request, Response

from storyreel.engine.graph import Node
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.ledger import CostLedger

from ..stages.conftest import project  # noqa: F401 - the in-process project fixture

GENERATED = ["ch01-s02", "ch02-s01", "ch02-s02"]
USAGE = {"input_tokens": 60, "output_tokens": 1056, "total_tokens": 1116}


class BatchOpenAI:
    def __init__(self, short_by: int = 0) -> None:
        self.calls: list[tuple[dict, dict]] = []
        self.short_by = short_by
        self.sent: set[bytes] = set()  # every image answered, as bytes

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.calls.append((body, dict(request.headers)))
        w, h = (int(v) for v in body["size"].split("x"))
        data = []
        for i in range(body["n"] - self.short_by):
            buf = io.BytesIO()
            Image.new("RGB", (w, h), (40 + 60 * i, 90, 140 + len(self.calls) % 100)).save(buf, "PNG")
            self.sent.add(buf.getvalue())
            data.append({"b64_json": base64.b64encode(buf.getvalue()).decode()})
        usage = {k: v * body["n"] for k, v in USAGE.items()}
        return Response(json.dumps({"created": 1, "data": data, "usage": usage}), content_type="application/json")


def _openai(project, httpserver, n: int):  # noqa: ANN001, ANN202
    project.settings = project.settings.model_copy(update={
        "image_provider": "openai:gpt-image-2", "environ": {"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-batch"},
        "image_candidates": n, "image_concurrency": 1, "http_backoff_s": 0.01})
    return project.ctx(llm=FakeLlm())


def test_one_call_per_shot_asks_for_every_candidate(project, httpserver):
    fake = BatchOpenAI()
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ctx = _openai(project, httpserver, 3)
    project.run(list(IMAGE_STAGES), ctx)
    assert sorted(b["n"] for b, _ in fake.calls) == [3, 3, 3] and len(fake.calls) == len(GENERATED)
    assert len({h["Idempotency-Key"] for _, h in fake.calls}) == 3
    ledger = CostLedger(project.store.sessions, "hare", 5.0).summary()
    assert ledger.calls == 3 and ledger.reserved_usd == 0
    for unit in GENERATED:
        metas = [json.loads(ctx.paths.candidate_meta(unit, i).read_text()) for i in (1, 2, 3)]
        assert len({m["request_key"] for m in metas}) == 1 and len({m["candidate_key"] for m in metas}) == 3
        assert all(m["batch"] == 3 and m["status"] == "generated" for m in metas)
        assert len({m["sha256"] for m in metas}) == 3  # three images, one file each
        assert json.loads(ctx.paths.scores(unit).read_text())["selected"] in (1, 2, 3)
    booked = ledger.by_provider["openai:gpt-image-2"]
    sidecars = sum(json.loads(ctx.paths.candidate_meta(u, i).read_text())["cost_usd"] for u in GENERATED for i in (1, 2, 3))
    assert sidecars == pytest.approx(booked)  # the batch's cost is shared among its images, nothing lost or doubled
    assert not any(ctx.paths.received.glob("*")), "journal entries are removed once the run is recorded"
    # nothing changed: nothing is bought again; raising N buys exactly the new candidate, under its own key
    project.run(list(IMAGE_STAGES), ctx)
    assert len(fake.calls) == 3
    ctx = _openai(project, httpserver, 4)
    project.run(list(IMAGE_STAGES), ctx)
    new = fake.calls[3:]
    assert [b["n"] for b, _ in new] == [1, 1, 1]
    assert not {h["Idempotency-Key"] for _, h in new} & {h["Idempotency-Key"] for _, h in fake.calls[:3]}


def test_a_short_answer_fails_only_the_missing_candidates(project, httpserver):
    fake = BatchOpenAI(short_by=1)
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ctx = _openai(project, httpserver, 3)
    report = project.run(list(IMAGE_STAGES), ctx)
    for unit in GENERATED:
        assert "candidate 3 failed" in report.statuses[Node("image", unit)].attention
        assert ctx.paths.candidate(unit, 2).exists() and not ctx.paths.candidate(unit, 3).exists()
    assert CostLedger(project.store.sessions, "hare", 5.0).summary().calls == 3  # the calls were billed and booked
    # the next run asks for the missing one alone
    fake.short_by = 0
    project.run(list(IMAGE_STAGES), ctx)
    assert [b["n"] for b, _ in fake.calls[3:]] == [1, 1, 1]


def test_candidates_are_kept_as_drawn_and_only_the_chosen_one_is_fitted(project, httpserver):
    """A vendor's candidates are its bytes as sent (no decode, no resample: N images cost one fit); the shot's
    image is the chosen one cover-fitted to the frame, its sidecar says the frame size."""
    fake = BatchOpenAI()
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ctx = _openai(project, httpserver, 3)
    project.run(list(IMAGE_STAGES), ctx)
    kept = set()
    for body, _ in fake.calls:
        assert body["size"] != "1920x1080"  # the vendor draws at one of its own sizes
    for unit in GENERATED:
        for i in (1, 2, 3):
            meta = json.loads(ctx.paths.candidate_meta(unit, i).read_text())
            with Image.open(ctx.paths.candidate(unit, i)) as im:
                assert f"{im.width}x{im.height}" == meta["size"] == fake.calls[0][0]["size"]
            kept.add(ctx.paths.candidate(unit, i).read_bytes())
        chosen = json.loads(ctx.paths.image_meta(unit).read_text())
        with Image.open(ctx.paths.image(unit)) as im:
            assert im.size == ctx.frame_size and chosen["size"] == "{}x{}".format(*ctx.frame_size)
    assert len(kept) == 9 and kept <= fake.sent  # nine distinct files, each byte for byte an image the vendor sent


@pytest.mark.parametrize("kind", ["jpeg", "truncated png"])
def test_a_non_png_answer_is_converted_and_a_broken_one_fails_the_candidate(project, httpserver, kind):
    def handler(request: Request) -> Response:
        body = json.loads(request.data)
        buf = io.BytesIO()
        Image.effect_noise((640, 360), 40).convert("RGB").save(buf, "JPEG" if kind == "jpeg" else "PNG")
        raw = buf.getvalue() if kind == "jpeg" else buf.getvalue()[: len(buf.getvalue()) // 2]
        data = [{"b64_json": base64.b64encode(raw).decode()}] * body["n"]
        return Response(json.dumps({"created": 1, "data": data, "usage": USAGE}), content_type="application/json")

    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(handler)
    ctx = _openai(project, httpserver, 2)
    if kind == "jpeg":
        project.run(list(IMAGE_STAGES), ctx)
        with Image.open(ctx.paths.candidate(GENERATED[0], 2)) as im:
            assert im.format == "PNG" and im.size == (640, 360)
        with Image.open(ctx.paths.image(GENERATED[0])) as im:
            assert im.size == ctx.frame_size
        return
    with pytest.raises(Exception, match="cannot be decoded"):
        project.run(list(IMAGE_STAGES), ctx)
    meta = json.loads(ctx.paths.candidate_meta(GENERATED[0], 1).read_text())
    assert meta["status"] == "failed" and "cannot be decoded" in meta["error"]
    assert not ctx.paths.candidate(GENERATED[0], 1).exists()
    assert not any(ctx.paths.received.glob("*")), "an answer that does not decode is not re-read: the next run asks again"
