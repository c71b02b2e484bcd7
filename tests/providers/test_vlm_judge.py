"""The VLM judge against a loopback OpenAI chat-completions server that speaks the wire format: images as
data URLs, the verdict as the output tool's arguments, usage priced; its errors (429, bad indexes, output
that never validates) and the select stage around it (ledger, cache, fallback to the technical ranking)."""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug import Request, Response

from storyreel.core.errors import ProviderError, UnusableAnswer
from storyreel.core.settings import Settings
from storyreel.engine.graph import Node
from storyreel.providers.image.fake import FakeImages
from storyreel.providers.llm.fake import FakeLlm
from storyreel.providers.registry import resolve
from storyreel.providers.scorer.vlm_judge import JudgeVerdict, check, judge_total
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.ledger import CostLedger
from storyreel.store.scores import ScoreStore

from ..stages.conftest import project  # noqa: F401 - the in-process project fixture

USAGE = {"prompt_tokens": 2400, "completion_tokens": 300, "total_tokens": 2700}


def verdict(n: int, best: int, *, indexes: list[int] | None = None) -> dict:
    cands = [{"index": i, "prompt_adherence": 90 if i == best else 40, "composition": 70, "aesthetics": 70,
              "artifacts": 95 if i == best else 60, "consistency": None, "reason": f"candidate {i}"}
             for i in (indexes or range(1, n + 1))]
    return {"candidates": cands, "best_index": best, "reason": "the clearest"}


class FakeVision:
    """Answers each chat completion with the next scripted verdict (a dict), or (status, headers) for an error."""

    def __init__(self, *answers) -> None:  # noqa: ANN002
        self.answers, self.requests = list(answers), []

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.requests.append(body)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, tuple):
            status, headers = answer
            return Response(json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}), status=status, headers=headers,
                            content_type="application/json")
        tool = body["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": json.dumps(answer)}}]}
        return Response(json.dumps({"id": "c1", "object": "chat.completion", "created": 1_790_000_000, "model": body["model"],
                                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}], "usage": USAGE}),
                        content_type="application/json")


def settings_for(httpserver, **more) -> Settings:  # noqa: ANN001, ANN003
    return Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-judge"}, allow_network=False, **more)


@pytest.fixture
def pngs(tmp_path):
    from PIL import Image

    out = []
    for i, colour in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)], 1):
        p = tmp_path / f"{i}.png"
        Image.new("RGB", (1920, 1080), colour).save(p)
        out.append(p)
    return out


def test_candidates_go_as_images_and_the_verdict_comes_back_structured_and_priced(httpserver, pngs):
    fake = FakeVision(verdict(3, 2))
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(fake)
    judge = resolve("judge", "openai:gpt-5-mini", settings_for(httpserver))
    out, usage, cost = judge.judge(pngs, "A hare mocking a tortoise in a meadow")
    assert out.best_index == 2 and [c.index for c in out.candidates] == [1, 2, 3]
    assert usage == {"input_tokens": 2400, "output_tokens": 300} and cost == pytest.approx(2400 * 0.25e-6 + 300 * 2e-6)
    (body,) = fake.requests
    user = next(m for m in body["messages"] if m["role"] == "user")
    images = [part["image_url"]["url"] for part in user["content"] if part["type"] == "image_url"]
    assert len(images) == 3 and all(u.startswith("data:image/jpeg;base64,") for u in images)
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(base64.b64decode(images[0].split(",", 1)[1]))) as im:
        assert im.size == (768, 432)  # downscaled before sending: fewer tokens
    texts = " ".join(part["text"] for part in user["content"] if part["type"] == "text")
    assert "Candidate 1" in texts and "A hare mocking a tortoise in a meadow" in texts and "exactly 3 candidates" in texts
    assert judge.estimate(3) >= cost  # the reservation covers what the call cost


def test_a_rate_limit_is_waited_out(httpserver, pngs):
    fake = FakeVision((429, {"Retry-After": "0"}), verdict(3, 1))
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(fake)
    out, _, _ = resolve("judge", "openai:gpt-5-mini", settings_for(httpserver)).judge(pngs, "three colours")
    assert out.best_index == 1 and len(fake.requests) == 2


def test_invalid_indexes_are_errors_not_a_silent_zero():
    with pytest.raises(ProviderError, match="invalid index"):
        check(JudgeVerdict.model_validate(verdict(3, 4)), 3)
    with pytest.raises(ProviderError, match=r"\[1, 2\], not 1–3"):
        check(JudgeVerdict.model_validate(verdict(3, 1, indexes=[1, 2])), 3)
    with pytest.raises(ProviderError):
        check(JudgeVerdict.model_validate(verdict(3, 1, indexes=[1, 1, 2])), 3)
    total = judge_total(JudgeVerdict.model_validate(verdict(3, 1)).candidates[0])
    assert 0 <= total <= 100


def test_an_answer_that_never_validates_is_an_unusable_billed_answer(httpserver, pngs):
    bad = {"candidates": [{"index": 1, "prompt_adherence": 400}], "best_index": 1}
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(FakeVision(bad))
    with pytest.raises(UnusableAnswer):
        resolve("judge", "openai:gpt-5-mini", settings_for(httpserver)).judge(pngs, "three colours")


# --------------------------------------------------------------------------------- the select stage
def _judged_project(project, httpserver):  # noqa: ANN001, ANN202
    project.settings = settings_for(httpserver, workspace=project.settings.workspace, max_cost_usd=1.0, image_candidates=3,
                                    image_concurrency=1, judge="openai:gpt-5-mini")
    return project.ctx(image=FakeImages(price_usd=0.0), llm=FakeLlm())


def test_the_judge_decides_the_pick_is_booked_and_cached(project, httpserver):
    fake = FakeVision(verdict(3, 3))
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(fake)
    ctx = _judged_project(project, httpserver)
    project.run(list(IMAGE_STAGES), ctx)
    shots = [s.shot_id for _, s in project.board.shots()]
    assert len(fake.requests) == len(shots)  # one call per shot, all candidates in it
    for unit in shots:
        record = json.loads(ctx.paths.scores(unit).read_text())
        assert record["selected"] == 3 and record["candidates"][2]["scores"]["judge"]["best"] is True
        assert set(record["scorers"]) == {f"local:technical@{type(ctx.scorer).code_version}", "openai:gpt-5-mini@vlm-judge/1"}
    ledger = CostLedger(project.store.sessions, "hare", 1.0).summary()
    per_call = 2400 * 0.25e-6 + 300 * 2e-6
    assert ledger.by_provider["openai:gpt-5-mini"] == pytest.approx(len(fake.requests) * per_call)  # billed == booked
    assert ledger.reserved_usd == 0
    # the same candidates again: verdicts come from image_scores, nothing is called or billed
    project.run(list(IMAGE_STAGES), ctx, only=lambda n: n.stage == "select", force=True)
    assert len(fake.requests) == len(shots)
    rows = ScoreStore(project.store.sessions).for_project("hare")
    assert {r.scorer for r in rows} >= {"openai:gpt-5-mini@vlm-judge/1"}


def test_a_bad_verdict_is_booked_said_and_the_ranking_falls_back_to_technical(project, httpserver):
    fake = FakeVision(verdict(3, 7))
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(fake)
    ctx = _judged_project(project, httpserver)
    report = project.run(list(IMAGE_STAGES), ctx)
    unit = project.board.chapters[0].shots[0].shot_id
    status = report.statuses[Node("select", unit)]
    assert "invalid index" in status.attention
    record = json.loads(ctx.paths.scores(unit).read_text())
    assert "invalid index" in record["judge_failed"] and all("judge" not in c["scores"] for c in record["candidates"])
    assert record["selected"] in (1, 2, 3)
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd > 0  # the vendor billed the answer


def test_an_unusable_answer_stays_uncertain_in_the_ledger(project, httpserver):
    bad = {"candidates": [{"index": 1, "prompt_adherence": 400}], "best_index": 1}
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(FakeVision(bad))
    ctx = _judged_project(project, httpserver)
    report = project.run(list(IMAGE_STAGES), ctx)
    assert all("could not be used" in report.statuses[Node("select", s.shot_id)].attention for _, s in project.board.shots())
    summary = CostLedger(project.store.sessions, "hare", 1.0).summary()
    assert summary.uncertain_calls == len(list(project.board.shots())) and summary.uncertain_usd > 0


def test_a_refusal_is_a_provider_error_and_the_shot_is_ranked_on_technical_scores(project, httpserver):
    def refuse(request: Request) -> Response:
        body = json.loads(request.data)
        message = {"role": "assistant", "content": None, "refusal": "I can't help with evaluating these images."}
        return Response(json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
                                    "choices": [{"index": 0, "finish_reason": "content_filter", "message": message}], "usage": USAGE}),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(refuse)
    ctx = _judged_project(project, httpserver)
    report = project.run(list(IMAGE_STAGES), ctx)  # the run goes on: no shot loses its image
    unit = project.board.chapters[0].shots[0].shot_id
    assert report.statuses[Node("select", unit)].attention.startswith("judge failed")
    record = json.loads(ctx.paths.scores(unit).read_text())
    assert record["selected"] in (1, 2, 3) and all("judge" not in c["scores"] for c in record["candidates"])
