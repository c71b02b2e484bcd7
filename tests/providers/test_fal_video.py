"""``fal:`` image-to-video against a loopback fal queue (``POST /{model id}`` → the request's ``status_url``,
``response_url``, ``cancel_url``; ``Authorization: Key …``): the body per model, submit-poll-download with growing
waits, 429 retried, moderation (422 ``content_policy_violation``) a rejection, a failed request an error, a create
whose answer was lost uncertain and never sent twice (fal has no list and no idempotency), a kill after the submit
resumes the journaled request, a deadline cancels it, and the model's own schema read before relying on the table."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from werkzeug import Request, Response

from storyreel.core.errors import ConfigError, ProviderError, ProviderRejected, UncertainCall
from storyreel.core.settings import Settings
from storyreel.providers.base import request_key
from storyreel.providers.registry import resolve
from storyreel.providers.video.fal_video import FalFailed
from storyreel.store.files import ProjectPaths
from storyreel.store.journal import CallJournal

from .test_replicate_video import request, still
from .video_fakes import vendor_mp4

KEY = "fal_test_key:secret"
KLING = "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"
HAILUO = "fal-ai/minimax/hailuo-02/standard/image-to-video"


class FakeFal:
    """fal's queue for one app: requests stored (billed once made), polled IN_QUEUE → IN_PROGRESS → COMPLETED, the
    result the video or ``outcome``'s error; every status poll's time kept (to see the waits grow)."""

    def __init__(self, mp4: bytes, base: str, model: str = KLING, polls: int = 2, outcome: str = "ok") -> None:
        self.mp4, self.base, self.model, self.polls, self.outcome = mp4, base, model, polls, outcome
        self.app = "/".join(model.split("/")[:2])  # status, result and cancel use only owner/app
        self.requests: dict[str, dict] = {}
        self.creates: list[dict] = []
        self.cancels: list[str] = []
        self.poll_times: list[float] = []
        self.throttle = 0
        self.slow_create_s = 0.0
        self.lock = threading.Lock()

    def _check(self, req: Request) -> None:
        assert req.headers["Authorization"] == f"Key {KEY}"

    def submit(self, req: Request) -> Response:
        self._check(req)
        with self.lock:
            if self.throttle:
                self.throttle -= 1
                return Response(json.dumps({"detail": "Too many requests"}), 429, content_type="application/json")
            self.creates.append(json.loads(req.data))
            rid = f"req-{len(self.creates)}"
            self.requests[rid] = {"status": "IN_QUEUE", "polls": 0}
        if self.slow_create_s:
            time.sleep(self.slow_create_s)
        url = f"{self.base}/{self.app}/requests/{rid}"
        return Response(json.dumps({"request_id": rid, "status": "IN_QUEUE", "status_url": f"{url}/status",
                                    "response_url": url, "cancel_url": f"{url}/cancel", "queue_position": 0}),
                        content_type="application/json")

    def status(self, req: Request) -> Response:
        self._check(req)
        rid = req.path.split("/")[-2]
        with self.lock:
            self.poll_times.append(time.monotonic())
            r = self.requests[rid]
            if r["status"] != "COMPLETED":
                r["polls"] += 1
                r["status"] = "COMPLETED" if r["polls"] >= self.polls and self.outcome != "never" else "IN_PROGRESS"
            return Response(json.dumps({"status": r["status"], "request_id": rid, "response_url": req.url.rsplit("/", 1)[0]}),
                            status=200 if r["status"] == "COMPLETED" else 202, content_type="application/json")

    def result(self, req: Request) -> Response:
        self._check(req)
        rid = req.path.rsplit("/", 1)[-1]
        outcome = self.requests[rid].get("outcome", self.outcome)
        if outcome == "moderated":
            return Response(json.dumps({"detail": [{"loc": ["body", "image_url"], "msg": "The content was flagged by a content checker.",
                                                    "type": "content_policy_violation", "categories": ["violence"]}]}),
                            422, content_type="application/json")
        if outcome == "failed":
            return Response(json.dumps({"detail": "Runner crashed"}), 400, content_type="application/json")
        return Response(json.dumps({"video": {"url": f"{self.base}/files/clip.mp4", "content_type": "video/mp4"}, "seed": 7}),
                        content_type="application/json")

    def cancel(self, req: Request) -> Response:
        self._check(req)
        rid = req.path.split("/")[-2]
        self.cancels.append(rid)
        return Response(json.dumps({"status": "CANCELLATION_REQUESTED"}), 202, content_type="application/json")

    def schema(self, req: Request) -> Response:
        """fal's queue OpenAPI for ``endpoint_id``: Hailuo with durations "6"/"10"; a Kling whose end frame is
        ``end_image_url`` (not the table's ``tail_image_url``); a Veo without the table's ``first_frame_url``."""
        model = req.args["endpoint_id"]
        props = {"prompt": {"type": "string"}, "image_url": {"type": "string"}, "end_image_url": {"type": "string"},
                 "duration": {"enum": ["6", "10"]}, "prompt_optimizer": {"type": "boolean"}}
        if model == KLING:
            props = {"prompt": {}, "image_url": {}, "end_image_url": {}, "duration": {"enum": ["5", "10"]}, "negative_prompt": {}}
        if model == "fal-ai/veo3.1/first-last-frame-to-video":
            props = {"prompt": {}, "image_url": {}}  # not the table's first_frame_url
        doc = {"paths": {f"/{model}": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Input"}}}}}}}, "components": {"schemas": {"Input": {"properties": props}}}}
        return Response(json.dumps(doc), content_type="application/json")

    def serve(self, httpserver) -> FakeFal:  # noqa: ANN001
        httpserver.expect_request(f"/{self.model}", method="POST").respond_with_handler(self.submit)
        httpserver.expect_request(re.compile(rf"/{self.app}/requests/[\w-]+/status"), method="GET").respond_with_handler(self.status)
        httpserver.expect_request(re.compile(rf"/{self.app}/requests/[\w-]+/cancel"), method="PUT").respond_with_handler(self.cancel)
        httpserver.expect_request(re.compile(rf"/{self.app}/requests/[\w-]+"), method="GET").respond_with_handler(self.result)
        httpserver.expect_request("/files/clip.mp4").respond_with_data(self.mp4, content_type="video/mp4")
        httpserver.expect_request("/api/openapi/queue/openapi.json").respond_with_handler(self.schema)
        return self


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return vendor_mp4(tmp_path_factory.mktemp("fal") / "clip.mp4")


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_FAL_BASE_URL": httpserver.url_for(""), "FAL_KEY": KEY,
                             "STORYREEL_FAL_SCHEMA_URL": httpserver.url_for("/api/openapi/queue/openapi.json")},
                    http_backoff_s=0.01, http_attempts=3, video_timeout_s=1.0, video_poll_s=0.05, video_deadline_s=3.0, allow_network=False)


def fake(httpserver, mp4: bytes, **kw) -> FakeFal:  # noqa: ANN001
    return FakeFal(mp4, httpserver.url_for("").rstrip("/"), **kw).serve(httpserver)


def test_the_body_per_model(settings, tmp_path) -> None:
    req = request(tmp_path, end=still(tmp_path, "end.png"))
    kling = resolve("video", f"fal:{KLING}", settings)
    body = kling.payload(req)
    assert body["duration"] == "5" and body["tail_image_url"].startswith("sha256:") and body["negative_prompt"] == "text, watermark"
    assert kling.estimate(req) == pytest.approx(5 * 0.07)
    veo = resolve("video", "fal:fal-ai/veo3.1/first-last-frame-to-video", settings).payload(req)
    assert veo["duration"] == "6s" and veo["generate_audio"] is False and veo["aspect_ratio"] == "9:16" and "last_frame_url" in veo
    assert "end_image_url" not in resolve("video", "fal:fal-ai/veo3.1/image-to-video", settings).payload(req)  # first frame only
    with pytest.raises(ConfigError, match="no capability entry"):
        resolve("video", "fal:fal-ai/sora", settings)


def test_submit_poll_download_with_growing_waits(httpserver, settings, tmp_path, mp4) -> None:
    fal = fake(httpserver, mp4, polls=5)
    fal.throttle = 1
    received = resolve("video", f"fal:{KLING}", settings).fetch(request(tmp_path))
    assert received.data == mp4 and received.cost_usd == pytest.approx(5 * 0.07) and len(fal.creates) == 1
    assert fal.creates[0]["image_url"].startswith("data:image/png;base64,") and received.details["prediction_id"] == "req-1"
    gaps = [b - a for a, b in zip(fal.poll_times, fal.poll_times[1:], strict=False)]
    assert len(gaps) == 4 and gaps[-1] > gaps[0] * 2  # 0.05, 0.075, 0.11, 0.17: polling backs off


def test_moderation_is_a_rejection_and_a_failure_an_error(httpserver, settings, tmp_path, mp4) -> None:
    fal = fake(httpserver, mp4, outcome="moderated")
    with pytest.raises(ProviderRejected, match=r"content checker \(image_url; violence\)"):
        resolve("video", f"fal:{KLING}", settings).fetch(request(tmp_path))
    fal.outcome = "failed"
    with pytest.raises(FalFailed, match="Runner crashed"):
        resolve("video", f"fal:{KLING}", settings).fetch(request(tmp_path))


def test_a_lost_create_is_uncertain_and_never_sent_twice(httpserver, settings, tmp_path, mp4) -> None:
    fal = fake(httpserver, mp4)
    fal.slow_create_s = 1.5  # fal queued it; the answer comes after the client gave up (1 s)
    with pytest.raises(UncertainCall):
        resolve("video", f"fal:{KLING}", settings).fetch(request(tmp_path))
    time.sleep(0.6)
    assert len(fal.creates) == 1


def test_a_kill_after_the_submit_resumes_the_request_and_a_deadline_cancels_it(httpserver, settings, tmp_path, mp4) -> None:
    fal = fake(httpserver, mp4, outcome="never")
    video = resolve("video", f"fal:{KLING}", settings.model_copy(update={"video_deadline_s": 0.3}))
    req = request(tmp_path)
    journal = CallJournal(ProjectPaths(tmp_path / "ws", "hare"), request_key(video.provider_id, video.payload(req)))
    journal.meta.parent.mkdir(parents=True)
    with pytest.raises(ProviderError, match="cancel requested"):
        video.fetch(req, jobs=journal)
    assert fal.cancels == ["req-1"] and json.loads(journal.job_id())["request_id"] == "req-1"
    fal.outcome = "ok"  # it ran to the end after all (a running request only gets a signal)
    received = resolve("video", f"fal:{KLING}", settings).fetch(req, jobs=journal)
    assert len(fal.creates) == 1 and received.details["prediction_id"] == "req-1" and received.data == mp4
    fal.requests["req-1"]["outcome"] = "moderated"  # a journaled request that ended without a video: the next run asks anew
    again = resolve("video", f"fal:{KLING}", settings).fetch(req, jobs=journal)
    assert len(fal.creates) == 2 and again.details["prediction_id"] == "req-2"


def test_the_schema_decides_the_fields(httpserver, settings, tmp_path, mp4) -> None:
    fake(httpserver, mp4, model=HAILUO)
    hailuo = resolve("video", f"fal:{HAILUO}", settings)
    hailuo.preflight(online=True)
    body = hailuo.payload(request(tmp_path, end=still(tmp_path, "end.png")).model_copy(update={"duration_s": 7.0}))
    assert body["duration"] == "10" and body["end_image_url"].startswith("sha256:")
    kling = resolve("video", f"fal:{KLING}", settings)
    kling.preflight(online=True)
    body = kling.payload(request(tmp_path, end=still(tmp_path, "end.png")))
    assert "tail_image_url" not in body and body["end_image_url"].startswith("sha256:") and body["negative_prompt"]
    veo = resolve("video", "fal:fal-ai/veo3.1/first-last-frame-to-video", settings)
    with pytest.raises(ConfigError, match="takes no 'first_frame_url' image"):
        veo.preflight(online=True)
