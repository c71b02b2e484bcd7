"""The motion stage in process: a shot whose every attempt the vendor refuses (moderation) keeps its Ken Burns move
as a stand-in — the video still renders, the shot needs attention, nothing is booked for the refusals — and the
next run asks again; the others move with the vendor's clips."""

from __future__ import annotations

import json
import re

from storyreel.stages.pipeline import MEDIA_STAGES

from ..providers.video_fakes import TOKEN, FakeReplicate, vendor_mp4
from .conftest import project  # noqa: F401 - the in-process project fixture


def test_a_refused_shot_keeps_its_ken_burns_move_and_is_asked_again(project, httpserver, tmp_path):  # noqa: ANN001
    fake = FakeReplicate(vendor_mp4(tmp_path / "v.mp4", size="640x360"), httpserver.url_for("/delivery/clip.mp4"))
    fake.serve(httpserver)
    refused = "finish line"  # ch02-s02's description: the vendor flags it

    def outcome(prediction: dict) -> None:
        if refused in prediction["input"]["prompt"]:
            prediction.update(status="failed", error="The input or output was flagged as sensitive (E005)")

    real_get = fake.get

    def get(req):  # noqa: ANN001, ANN202
        prediction = fake.predictions[req.path.rsplit("/", 1)[-1]]
        if fake.refusing:
            outcome(prediction)
        return real_get(req)

    fake.refusing = True
    httpserver.clear()  # the fake's routes again, with a poll that refuses the flagged shot

    httpserver.expect_request("/v1/models/kwaivgi/kling-v3-video/predictions", method="POST").respond_with_handler(fake.create)
    httpserver.expect_request(re.compile(r"/v1/predictions/p\d+$"), method="GET").respond_with_handler(get)
    httpserver.expect_request("/delivery/clip.mp4").respond_with_data(fake.mp4, content_type="video/mp4")
    project.settings = project.settings.model_copy(update={
        "clips_provider": "replicate:kwaivgi/kling-v3-video", "video_poll_s": 0.02, "http_backoff_s": 0.01, "max_cost_usd": 20.0,
        "environ": {"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN}})
    ctx = project.ctx()
    report = project.run(list(MEDIA_STAGES), ctx)
    flagged = {f"{n.stage}[{n.unit}]": st.attention for n, st in report.statuses.items() if st.attention}
    assert list(flagged) == ["motion[ch02-s02]"] and "Ken Burns stands in" in flagged["motion[ch02-s02]"]
    assert ctx.paths.video.exists() and json.loads(ctx.paths.qc_report.read_text())["passed"]  # the video is whole
    record = json.loads(ctx.paths.motion_meta("ch02-s02").read_text())
    assert record["attempts"] == [] and "sensitive" in record["refused"][0]["error"]
    assert not ctx.paths.motion_clip("ch02-s02").exists() and ctx.paths.motion_clip("ch01-s02").exists()
    assert ctx.footage("ch02-s02") is None and ctx.footage("ch01-s02") is not None

    fake.refusing = False  # the vendor accepts it now: the next run asks again for that shot only
    before = len(fake.creates)
    project.run(list(MEDIA_STAGES), project.ctx())
    assert [c["input"]["prompt"] for c in fake.creates[before:]] == [fake.creates[-1]["input"]["prompt"]]
    assert refused in fake.creates[-1]["input"]["prompt"] and ctx.paths.motion_clip("ch02-s02").exists()


def test_the_vlm_judge_ranks_the_attempts_on_three_frames_each(project, httpserver, tmp_path):  # noqa: ANN001
    from ..providers.test_vlm_judge import FakeVision, verdict

    fake = FakeReplicate(vendor_mp4(tmp_path / "v.mp4", size="640x360"), httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    vision = FakeVision(verdict(2, best=2))  # both attempts are the same clip to the metrics; the judge prefers the second
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(vision)
    project.settings = project.settings.model_copy(update={
        "clips_provider": "replicate:kwaivgi/kling-v3-video", "video_attempts": 2, "judge": "openai:gpt-5-mini", "video_poll_s": 0.02,
        "http_backoff_s": 0.01, "max_cost_usd": 20.0,
        "environ": {"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN,
                    "STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-judge"}})
    ctx = project.ctx()
    project.run(list(MEDIA_STAGES), ctx)
    record = json.loads(ctx.paths.motion_meta("ch01-s02").read_text())
    first, second = record["attempts"]
    assert first["scores"]["total"] == second["scores"]["total"] and second["judge"]["best"] and record["chosen"] == 2
    assert second["total"] == round(0.5 * second["scores"]["total"] + 0.5 * second["judge"]["total"], 2) > first["total"]
    sent = vision.requests[0]["messages"][-1]["content"]
    assert sum(part.get("type") == "image_url" for part in sent) == 3  # the shot's image and one strip per attempt
    assert any("three of its frames" in part.get("text", "") for part in sent)
    strip = ctx.paths.clips / "ch01-s02.motion-2.frames.jpg"
    from PIL import Image

    with Image.open(strip) as im:
        assert im.height == 360 and im.width == 3 * 640 + 16  # three 640×360 frames, two gaps
    from storyreel.store.ledger import CostLedger

    summary = CostLedger(project.store.sessions, "hare", 20.0).summary()
    per_call = summary.by_provider["openai:gpt-5-mini"] / len(vision.requests)
    assert len(vision.requests) == 3 and per_call > 0 and summary.reserved_usd == 0  # one judged call per moving shot, booked
    calls = len(vision.requests)
    project.run(list(MEDIA_STAGES), project.ctx())
    assert len(vision.requests) == calls  # nothing changed: nothing judged again
    vision.answers = [(500, {})]  # another judge that fails: the attempts are ranked by the metrics, nothing bought again
    project.settings = project.settings.model_copy(update={"judge": "openai:gpt-5"})
    creates = len(fake.creates)
    report = project.run(list(MEDIA_STAGES), project.ctx())
    notes = {f"{n.stage}[{n.unit}]": st.attention for n, st in report.statuses.items() if st.attention}
    assert "judge failed, the attempts are ranked by the offline metrics" in notes["motion[ch01-s02]"]
    record = json.loads(ctx.paths.motion_meta("ch01-s02").read_text())
    assert record["chosen"] == 1 and "judge" not in record["attempts"][1] and len(fake.creates) == creates
