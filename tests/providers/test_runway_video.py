"""``runway:`` image-to-video against a loopback Runway (``POST /v1/image_to_video``, ``GET``/``DELETE /v1/tasks/{id}``,
``X-Runway-Version`` on every request): the body per model, create-poll-download, 429 retried, moderation
(``SAFETY.*``) a rejection, a create whose answer was lost is uncertain and never sent twice (Runway has no list
and no idempotency), a kill after the create resumes polling the journaled task, a deadline deletes the task."""

from __future__ import annotations

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

from .test_replicate_video import request, still
from .video_fakes import vendor_mp4

KEY = "rw_test_secret"


class FakeRunway:
    """Tasks as Runway keeps them: created (billed once made), polled through PENDING and RUNNING to ``outcome``."""

    def __init__(self, mp4: bytes, url: str, polls: int = 2, outcome: str = "SUCCEEDED", code: str | None = None) -> None:
        self.mp4, self.url, self.polls, self.outcome, self.code = mp4, url, polls, outcome, code
        self.tasks: dict[str, dict] = {}
        self.creates: list[dict] = []
        self.deletes: list[str] = []
        self.throttle = 0
        self.slow_create_s = 0.0
        self.lock = threading.Lock()

    def _check(self, req: Request) -> None:
        assert req.headers["Authorization"] == f"Bearer {KEY}" and req.headers["X-Runway-Version"] == "2024-11-06"

    def create(self, req: Request) -> Response:
        self._check(req)
        with self.lock:
            if self.throttle:
                self.throttle -= 1
                return Response(json.dumps({"error": "Too many requests"}), 429, content_type="application/json")
            body = json.loads(req.data)
            self.creates.append(body)
            tid = f"task-{len(self.creates)}"
            self.tasks[tid] = {"id": tid, "status": "PENDING", "polls": 0}
        if self.slow_create_s:
            time.sleep(self.slow_create_s)
        return Response(json.dumps({"id": tid}), 200, content_type="application/json")

    def task(self, req: Request) -> Response:
        self._check(req)
        tid = req.path.rsplit("/", 1)[-1]
        with self.lock:
            t = self.tasks[tid]
            if req.method == "DELETE":
                self.deletes.append(tid)
                t["status"] = "CANCELLED"
                return Response(status=204)
            if t["status"] in ("PENDING", "RUNNING", "THROTTLED"):
                t["polls"] += 1
                if t["polls"] >= self.polls and self.outcome != "never":
                    t["status"] = self.outcome
                    if self.outcome == "SUCCEEDED":
                        t["output"] = [self.url]
                    else:
                        t["failure"], t["failureCode"] = "The input did not pass moderation", self.code
                else:
                    t["status"] = "RUNNING"
            return Response(json.dumps({k: v for k, v in t.items() if k != "polls"}), content_type="application/json")

    def serve(self, httpserver) -> FakeRunway:  # noqa: ANN001
        httpserver.expect_request("/v1/image_to_video", method="POST").respond_with_handler(self.create)
        httpserver.expect_request(re.compile(r"/v1/tasks/task-\d+"), method="GET").respond_with_handler(self.task)
        httpserver.expect_request(re.compile(r"/v1/tasks/task-\d+"), method="DELETE").respond_with_handler(self.task)
        httpserver.expect_request("/delivery/clip.mp4").respond_with_data(self.mp4, content_type="video/mp4")
        return self


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return vendor_mp4(tmp_path_factory.mktemp("runway") / "clip.mp4")


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_RUNWAY_BASE_URL": httpserver.url_for("/v1"), "RUNWAYML_API_SECRET": KEY},
                    http_backoff_s=0.01, http_attempts=3, video_timeout_s=1.0, video_poll_s=0.05, video_deadline_s=3.0, allow_network=False)


def test_the_body_per_model(settings, tmp_path) -> None:
    req = request(tmp_path, end=still(tmp_path, "end.png"))
    turbo = resolve("video", "runway:gen4_turbo", settings).payload(req)
    assert turbo["promptImage"].startswith("sha256:") and turbo["ratio"] == "720:1280" and turbo["duration"] == 5  # first frame only
    veo = resolve("video", "runway:veo3.1", settings).payload(req)
    assert [p["position"] for p in veo["promptImage"]] == ["first", "last"] and veo["duration"] == 6
    assert resolve("video", "runway:gen4.5", settings).estimate(req) == pytest.approx(5 * 0.12)
    with pytest.raises(Exception, match="no capability entry"):
        resolve("video", "runway:gen2", settings)


def test_create_poll_download(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeRunway(mp4, httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    fake.throttle = 1
    received = resolve("video", "runway:gen4_turbo", settings).fetch(request(tmp_path))
    assert received.data == mp4 and received.cost_usd == pytest.approx(5 * 0.05) and len(fake.creates) == 1
    assert fake.creates[0]["promptImage"].startswith("data:image/png;base64,") and fake.creates[0]["model"] == "gen4_turbo"


def test_moderation_is_a_rejection_and_other_failures_errors(httpserver, settings, tmp_path, mp4) -> None:
    FakeRunway(mp4, httpserver.url_for("/delivery/clip.mp4"), outcome="FAILED", code="SAFETY.INPUT.IMAGE").serve(httpserver)
    with pytest.raises(ProviderRejected, match="moderation"):
        resolve("video", "runway:gen4_turbo", settings).fetch(request(tmp_path))


def test_a_lost_create_is_uncertain_and_never_sent_twice(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeRunway(mp4, httpserver.url_for("/delivery/clip.mp4")).serve(httpserver)
    fake.slow_create_s = 1.5  # Runway made the task; its answer comes after the client gave up (1 s)
    with pytest.raises(UncertainCall):
        resolve("video", "runway:gen4_turbo", settings).fetch(request(tmp_path))
    time.sleep(0.6)
    assert len(fake.creates) == 1


def test_a_kill_after_the_create_resumes_the_task_and_a_deadline_deletes_it(httpserver, settings, tmp_path, mp4) -> None:
    fake = FakeRunway(mp4, httpserver.url_for("/delivery/clip.mp4"), outcome="never").serve(httpserver)
    video = resolve("video", "runway:gen4_turbo", settings.model_copy(update={"video_deadline_s": 0.3}))
    req = request(tmp_path)
    journal = CallJournal(ProjectPaths(tmp_path / "ws", "hare"), request_key(video.provider_id, video.payload(req)))
    journal.meta.parent.mkdir(parents=True)
    with pytest.raises(ProviderError, match="cancelled"):
        video.fetch(req, jobs=journal)
    assert fake.deletes == ["task-1"] and journal.job_id() == "task-1"
    fake.tasks["task-1"].update(status="SUCCEEDED", output=[fake.url])  # it finished after all
    received = resolve("video", "runway:gen4_turbo", settings).fetch(req, jobs=journal)
    assert len(fake.creates) == 1 and received.details["prediction_id"] == "task-1" and received.data == mp4
