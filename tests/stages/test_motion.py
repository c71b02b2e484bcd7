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
