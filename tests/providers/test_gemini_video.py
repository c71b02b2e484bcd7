"""``google:gemini-omni-1.1-flash`` against a loopback Gemini Interactions API (the shapes google-genai declares):
the body (text + inline image, ``video_config.task``, the video response format, ``background``), create-poll with
the inline MP4 in the model-output steps, the cost from the delivered length, 429 retried, a safety failure a
rejection, a lost create uncertain and never sent twice, a kill after the create resumes the journaled interaction,
a deadline cancels it."""

from __future__ import annotations

import base64
import json
import re
import threading
import time

import pytest
from werkzeug import Request, Response

from storyreel.core.errors import ProviderError, ProviderRejected, UncertainCall
from storyreel.core.settings import Settings
from storyreel.providers.base import request_key
from storyreel.providers.registry import resolve
from storyreel.store.files import ProjectPaths
from storyreel.store.journal import CallJournal

from .test_replicate_video import request
from .video_fakes import vendor_mp4

KEY = "gm-video-key"
MODEL = "google:gemini-omni-1.1-flash"


class FakeInteractions:
    """Interactions as the Gemini API keeps them: created (billed by the delivered seconds), polled to ``outcome``."""

    def __init__(self, mp4: bytes, polls: int = 2, outcome: str = "completed", error: str = "") -> None:
        self.mp4, self.polls, self.outcome, self.error = mp4, polls, outcome, error
        self.items: dict[str, dict] = {}
        self.creates: list[dict] = []
        self.cancels: list[str] = []
        self.throttle = 0
        self.slow_create_s = 0.0
        self.lock = threading.Lock()

    def _check(self, req: Request) -> None:
        assert req.headers["x-goog-api-key"] == KEY and req.headers["Api-Revision"] == "2026-05-20"

    def create(self, req: Request) -> Response:
        self._check(req)
        with self.lock:
            if self.throttle:
                self.throttle -= 1
                return Response(json.dumps({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}), 429, content_type="application/json")
            self.creates.append(json.loads(req.data))
            iid = f"int-{len(self.creates)}"
            self.items[iid] = {"id": iid, "status": "queued", "polls": 0}
        if self.slow_create_s:
            time.sleep(self.slow_create_s)
        return Response(json.dumps({"id": iid, "status": "queued"}), content_type="application/json")

    def get(self, req: Request) -> Response:
        self._check(req)
        iid = req.path.rsplit("/", 1)[-1]
        with self.lock:
            it = self.items[iid]
            if it["status"] in ("queued", "in_progress"):
                it["polls"] += 1
                if it["polls"] >= self.polls and self.outcome != "never":
                    it["status"] = self.outcome
                    if self.outcome == "completed":
                        it["steps"] = [{"type": "user_input", "content": []}, {"type": "model_output", "content": [
                            {"type": "text", "text": "Here is your video."},
                            {"type": "video", "data": base64.b64encode(self.mp4).decode(), "mime_type": "video/mp4"}]}]
                    else:
                        it["errors"] = [{"code": 400, "message": self.error}]
                else:
                    it["status"] = "in_progress"
            return Response(json.dumps({k: v for k, v in it.items() if k != "polls"}), content_type="application/json")

    def cancel(self, req: Request) -> Response:
        self._check(req)
        iid = req.path.split("/")[-2]
        self.cancels.append(iid)
        self.items[iid]["status"] = "cancelled"
        return Response(json.dumps({"id": iid, "status": "cancelled"}), content_type="application/json")

    def serve(self, httpserver) -> FakeInteractions:  # noqa: ANN001
        httpserver.expect_request("/v1beta/interactions", method="POST").respond_with_handler(self.create)
        httpserver.expect_request(re.compile(r"/v1beta/interactions/int-\d+/cancel"), method="POST").respond_with_handler(self.cancel)
        httpserver.expect_request(re.compile(r"/v1beta/interactions/int-\d+"), method="GET").respond_with_handler(self.get)
        return self


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return vendor_mp4(tmp_path_factory.mktemp("omni") / "clip.mp4", seconds=6)


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_GEMINI_BASE_URL": httpserver.url_for("/v1beta"), "GEMINI_API_KEY": KEY},
                    http_backoff_s=0.01, http_attempts=3, video_timeout_s=1.0, video_poll_s=0.05, video_deadline_s=3.0, allow_network=False)


def test_create_poll_and_the_inline_video_priced_by_its_length(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeInteractions(mp4).serve(httpserver)
    fake.throttle = 1
    video = resolve("video", MODEL, settings)
    req = request(tmp_path)
    assert video.estimate(req) == pytest.approx(10 * 0.10) and not video.takes_end_frame  # reserved at the longest, 10 s
    received = video.fetch(req)
    body = fake.creates[0]
    assert body["background"] is True and body["generation_config"]["video_config"] == {"task": "image_to_video"}
    assert body["response_format"] == {"type": "video", "aspect_ratio": "9:16", "resolution": "720p", "delivery": "inline"}
    assert [c["type"] for c in body["input"]] == ["text", "image"] and body["input"][0]["text"].startswith("Slow push in")
    assert base64.b64decode(body["input"][1]["data"])[:8] == b"\x89PNG\r\n\x1a\n" and "duration" not in body["response_format"]
    assert received.data == mp4 and received.details["duration_s"] == pytest.approx(6.0, abs=0.05)
    assert received.cost_usd == pytest.approx(0.10 * received.details["duration_s"])  # billed by what was delivered


def test_a_safety_failure_is_a_rejection(httpserver, settings, tmp_path, mp4) -> None:
    FakeInteractions(mp4, outcome="failed", error="The input image was blocked by the safety filters").serve(httpserver)
    with pytest.raises(ProviderRejected, match="safety"):
        resolve("video", MODEL, settings).fetch(request(tmp_path))


def test_a_lost_create_is_uncertain_and_a_kill_resumes_the_interaction(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeInteractions(mp4).serve(httpserver)
    fake.slow_create_s = 1.5
    with pytest.raises(UncertainCall):
        resolve("video", MODEL, settings).fetch(request(tmp_path))
    time.sleep(0.6)
    assert len(fake.creates) == 1

    fake.slow_create_s, fake.outcome = 0.0, "never"
    video = resolve("video", MODEL, settings.model_copy(update={"video_deadline_s": 0.3}))
    req = request(tmp_path)
    journal = CallJournal(ProjectPaths(tmp_path / "ws", "hare"), request_key(video.provider_id, video.payload(req)))
    journal.meta.parent.mkdir(parents=True)
    with pytest.raises(ProviderError, match="cancelled"):
        video.fetch(req, jobs=journal)
    assert fake.cancels == ["int-2"] and journal.job_id() == "int-2"
    fake.outcome = "completed"  # the cancelled one ended without a video: the next run asks anew, once
    received = resolve("video", MODEL, settings).fetch(req, jobs=journal)
    assert len(fake.creates) == 3 and received.details["prediction_id"] == "int-3" and journal.job_id() == "int-3"

    fake.items["int-9"] = {"id": "int-9", "status": "in_progress", "polls": 0}  # a make killed right after its create
    journal.record_job("int-9")
    resumed = resolve("video", MODEL, settings).fetch(req, jobs=journal)
    assert len(fake.creates) == 3 and resumed.details["prediction_id"] == "int-9"  # polled, not paid again
