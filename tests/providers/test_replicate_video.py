"""``replicate:`` image-to-video against a loopback Replicate speaking its predictions wire (create, poll, list,
cancel, download): the input per model's capabilities, success with an MP4 (made by ffmpeg, with a sound track
the stage will drop), failure, moderation, 429, a create answered after the client's timeout (adopted — never
created twice), a kill after the create then a resume (exactly one create), a deadline that cancels."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from storyreel.core.errors import ConfigError, ProviderError, ProviderRejected
from storyreel.core.hashing import hash_file
from storyreel.core.settings import Settings
from storyreel.providers.base import ReferenceImage, VideoRequest, request_key
from storyreel.providers.registry import resolve
from storyreel.store.files import ProjectPaths
from storyreel.store.journal import CallJournal

from .video_fakes import TOKEN, FakeReplicate, vendor_mp4

MODEL = "kwaivgi/kling-v3-video"
CREATE = f"/v1/models/{MODEL}/predictions"


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    """A 5 s 9:16 clip with a sine sound track, as a vendor would deliver it."""
    return vendor_mp4(tmp_path_factory.mktemp("vendor") / "clip.mp4")


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": TOKEN},
                    http_backoff_s=0.01, http_attempts=3, video_timeout_s=1.0, video_poll_s=0.05, video_deadline_s=3.0, allow_network=False)


def still(tmp_path: Path, name: str = "start.png") -> ReferenceImage:
    from PIL import Image

    path = tmp_path / name
    Image.new("RGB", (360, 640), (30, 90, 160)).save(path)
    return ReferenceImage(label="shot image", sha256=hash_file(path).removeprefix("sha256:"), path=str(path))


def request(tmp_path: Path, **extra) -> VideoRequest:
    return VideoRequest(shot_id="ch01-s01", prompt="Slow push in; waves roll onto the stone shore.", negative_prompt="text, watermark",
                        start=still(tmp_path), duration_s=4.2, width=360, height=640, seed=7, **extra)


def test_the_input_follows_the_models_capabilities(settings, tmp_path) -> None:
    kling = resolve("video", f"replicate:{MODEL}", settings)
    req = request(tmp_path, end=still(tmp_path, "end.png"))
    body = kling.payload(req)["input"]
    assert body["duration"] == 5 and body["aspect_ratio"] == "9:16" and body["negative_prompt"] == "text, watermark"
    assert body["start_image"].startswith("sha256:") and body["end_image"].startswith("sha256:") and "generate_audio" not in body
    assert kling.estimate(req) == pytest.approx(5 * 0.30)
    seedance = resolve("video", "replicate:bytedance/seedance-2.0", settings).payload(req)["input"]
    assert seedance["generate_audio"] is False and seedance["image"].startswith("sha256:") and "negative_prompt" not in seedance
    veo = resolve("video", "replicate:google/veo-3.1", settings)
    assert veo.payload(req)["input"]["duration"] == 6 and veo.duration_for(request(tmp_path).model_copy(update={"duration_s": 9.0})) == 8
    wan = resolve("video", "replicate:wan-video/wan-2.2-i2v-fast", settings)
    assert "duration" not in wan.payload(req)["input"] and wan.duration_for(req) == 5.0
    assert veo.estimate(req) == pytest.approx(6 * 0.30)  # not in the price table: the dearest listed rate
    with pytest.raises(ConfigError, match="no capability entry"):
        resolve("video", "replicate:acme/unknown-video", settings)


def test_create_poll_download_with_the_image_sent_inline(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeReplicate(mp4, httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    fake.throttle = 1
    req = request(tmp_path)
    received = resolve("video", f"replicate:{MODEL}", settings).fetch(req)
    assert received.data == mp4 and received.media_type == "video/mp4" and received.cost_usd == pytest.approx(1.5)
    assert received.details["prediction_id"] == "p1" and received.details["duration_s"] == 5
    assert len(fake.creates) == 1
    sent = fake.creates[0]["input"]["start_image"]
    assert sent.startswith("data:image/png;base64,") and base64.b64decode(sent.split(",", 1)[1]) == Path(req.start.path).read_bytes()


@pytest.mark.parametrize("error, exc", [("The input or output was flagged as sensitive (E005)", ProviderRejected),
                                        ("CUDA out of memory", ProviderError)])
def test_failures_and_moderation(httpserver, settings, tmp_path, mp4, error, exc) -> None:
    FakeReplicate(mp4, httpserver.url_for("/delivery/clip.mp4"), outcome="failed", error=error).serve(httpserver)
    with pytest.raises(exc):
        resolve("video", f"replicate:{MODEL}", settings).fetch(request(tmp_path))


def test_a_deadline_cancels_the_prediction(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeReplicate(mp4, httpserver.url_for("/delivery/clip.mp4"), outcome="never").serve(httpserver)
    quick = settings.model_copy(update={"video_deadline_s": 0.3})
    with pytest.raises(ProviderError, match="cancelled"):
        resolve("video", f"replicate:{MODEL}", quick).fetch(request(tmp_path))
    assert fake.cancels == ["p1"]


def test_a_create_answered_after_the_timeout_is_adopted_not_made_twice(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeReplicate(mp4, httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    fake.slow_create_s = 1.5  # the client gives up after video_timeout_s = 1 s
    received = resolve("video", f"replicate:{MODEL}", settings).fetch(request(tmp_path))
    assert len(fake.creates) == 1 and received.details["prediction_id"] == "p1"


def test_a_kill_after_the_create_resumes_polling_the_same_prediction(httpserver, settings, tmp_path, mp4, monkeypatch) -> None:
    """The journal holds the job ID from the moment the create answers; a run that died while polling (here: the
    deadline stands in for the kill) polls that prediction again on the next run — exactly one create."""
    fake = FakeReplicate(mp4, httpserver.url_for("/delivery/clip.mp4"), polls=1000).serve(httpserver)
    video = resolve("video", f"replicate:{MODEL}", settings.model_copy(update={"video_deadline_s": 0.2}))
    req = request(tmp_path)
    journal = CallJournal(ProjectPaths(tmp_path / "ws", "hare"), request_key(video.provider_id, video.payload(req)))
    journal.meta.parent.mkdir(parents=True)
    from storyreel.providers.replicate import Predictions

    with monkeypatch.context() as m:
        m.setattr(Predictions, "cancel", lambda self, pid: None)  # a killed process cancels nothing
        with pytest.raises(ProviderError):
            video.fetch(req, jobs=journal)
    assert journal.job_id() == "p1"
    fake.polls = 0
    fake.predictions["p1"]["polls"] = 10**6  # it finished while storyreel was down
    fake.predictions["p1"].update(status="succeeded", output=fake.url)
    received = resolve("video", f"replicate:{MODEL}", settings).fetch(req, jobs=journal)
    assert len(fake.creates) == 1 and received.details["prediction_id"] == "p1" and received.data == mp4


def test_the_online_preflight_follows_the_models_own_schema(httpserver, settings, tmp_path) -> None:
    """Hailuo's end-frame field under another name is used by the schema's name, durations narrow to the schema's
    enum; a model without the start-frame field is refused before anything is bought."""
    def model(inputs: dict) -> dict:
        return {"latest_version": {"openapi_schema": {"components": {"schemas": {"Input": {"properties": inputs}}}}}}

    httpserver.expect_request("/v1/models/minimax/hailuo-02", method="GET").respond_with_json(model({
        "prompt": {}, "first_frame_image": {}, "end_image": {}, "duration": {"enum": [6, 10]}}))
    hailuo = resolve("video", "replicate:minimax/hailuo-02", settings)
    hailuo.preflight(online=True)
    body = hailuo.payload(request(tmp_path, end=still(tmp_path, "end.png")))["input"]
    assert "end_image" in body and "last_frame_image" not in body and body["duration"] == 6
    httpserver.expect_request("/v1/models/google/veo-3.1", method="GET").respond_with_json(model({"prompt": {}, "start": {}}))
    with pytest.raises(ConfigError, match="takes no 'image'"):
        resolve("video", "replicate:google/veo-3.1", settings).preflight(online=True)
