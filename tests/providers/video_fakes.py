"""A loopback Replicate speaking its predictions wire for image-to-video models, keeping the vendor's bill:
predictions are created (and billed, per second of the duration asked, once made), listed newest first with
their input, polled to an outcome, cancelled; the output is an MP4 made with ffmpeg, with a sound track that
storyreel must drop."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path

from werkzeug import Request, Response

from storyreel.media.ffmpeg import ffmpeg_exe

TOKEN = "r8_video_token"


def vendor_mp4(out: Path, size: str = "360x640", seconds: int = 5, frozen: bool = False) -> bytes:
    """A clip as a vendor delivers it: 24 fps, moving test pattern, a 440 Hz sound track — or, ``frozen``, a dark
    still frame for the whole clip (what a bad attempt looks like)."""
    source = f"color=c=0x101010:size={size}:rate=24" if frozen else f"testsrc2=size={size}:rate=24"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi", "-i",
                    "sine=frequency=440", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)], check=True)
    return out.read_bytes()


class FakeReplicate:
    """Predictions as Replicate keeps them for ``model``; ``outcome`` decides how each ends after ``polls`` polls."""

    def __init__(self, mp4: bytes, url: str, model: str = "kwaivgi/kling-v3-video", polls: int = 2, outcome: str = "succeeded",
                 error: str | None = None, usd_per_second: float = 0.30) -> None:
        self.mp4, self.url, self.model, self.polls, self.outcome, self.error = mp4, url, model, polls, outcome, error
        self.usd_per_second = usd_per_second
        self.predictions: dict[str, dict] = {}
        self.creates: list[dict] = []
        self.cancels: list[str] = []
        self.billed: list[float] = []
        self.throttle = 0
        self.slow_create_s = 0.0
        self.frozen: bytes | None = None  # with it, predictions whose seed is odd deliver this clip instead
        self._lock = threading.Lock()

    @property
    def bill(self) -> float:
        return round(sum(self.billed), 6)

    def create(self, req: Request) -> Response:
        assert req.headers["Authorization"] == f"Bearer {TOKEN}"
        with self._lock:
            if self.throttle:
                self.throttle -= 1
                return Response(json.dumps({"detail": "Request was throttled.", "status": 429}), 429, headers={"Retry-After": "0"},
                                content_type="application/json")
            body = json.loads(req.data)
            self.creates.append(body)
            pid = f"p{len(self.creates)}"
            self.predictions[pid] = {"id": pid, "model": self.model, "status": "starting", "input": body["input"], "polls": 0}
            self.billed.append(self.usd_per_second * float(body["input"].get("duration", 5)))
        if self.slow_create_s:
            time.sleep(self.slow_create_s)  # made (and billed), but the answer comes after the client gave up
        return Response(json.dumps(self._public(pid)), 201, content_type="application/json")

    def _public(self, pid: str) -> dict:
        return {k: v for k, v in self.predictions[pid].items() if k != "polls"}

    def get(self, req: Request) -> Response:
        pid = req.path.rsplit("/", 1)[-1]
        with self._lock:
            p = self.predictions[pid]
            if p["status"] not in ("succeeded", "failed", "canceled"):
                p["polls"] += 1
                if p["polls"] >= self.polls and self.outcome != "never":
                    p["status"] = self.outcome
                    if self.outcome == "succeeded":
                        p["output"] = self.url.replace("clip.mp4", "frozen.mp4") if self.frozen and p["input"].get("seed", 0) % 2 else self.url
                        p["metrics"] = {"predict_time": 41.5}
                    else:
                        p["error"] = self.error
                elif p["polls"] == 1:
                    p["status"] = "processing"
            return Response(json.dumps(self._public(pid)), content_type="application/json")

    def listing(self, req: Request) -> Response:
        with self._lock:
            return Response(json.dumps({"results": [self._public(k) for k in reversed(self.predictions)], "next": None}),
                            content_type="application/json")

    def cancel(self, req: Request) -> Response:
        pid = req.path.split("/")[-2]
        with self._lock:
            self.cancels.append(pid)
            self.predictions[pid]["status"] = "canceled"
            return Response(json.dumps(self._public(pid)), content_type="application/json")

    def schema(self, req: Request) -> Response:
        """``GET /v1/models/{owner}/{name}``: the model with its input schema (kling-v3-video's fields)."""
        inputs = {"prompt": {"type": "string"}, "negative_prompt": {"type": "string"}, "start_image": {"type": "string"},
                  "end_image": {"type": "string"}, "duration": {"type": "integer", "enum": list(range(3, 16))},
                  "aspect_ratio": {"type": "string"}, "seed": {"type": "integer"}}
        return Response(json.dumps({"owner": self.model.split("/")[0], "name": self.model.split("/")[1], "latest_version": {
            "id": "v1", "openapi_schema": {"components": {"schemas": {"Input": {"type": "object", "properties": inputs}}}}}}),
            content_type="application/json")

    def serve(self, httpserver) -> FakeReplicate:  # noqa: ANN001
        httpserver.expect_request(f"/v1/models/{self.model}", method="GET").respond_with_handler(self.schema)
        httpserver.expect_request(f"/v1/models/{self.model}/predictions", method="POST").respond_with_handler(self.create)
        httpserver.expect_request("/v1/predictions", method="GET").respond_with_handler(self.listing)
        httpserver.expect_request(re.compile(r"/v1/predictions/p\d+/cancel"), method="POST").respond_with_handler(self.cancel)
        httpserver.expect_request(re.compile(r"/v1/predictions/p\d+$"), method="GET").respond_with_handler(self.get)
        httpserver.expect_request("/delivery/clip.mp4").respond_with_data(self.mp4, content_type="video/mp4")
        if self.frozen:
            httpserver.expect_request("/delivery/frozen.mp4").respond_with_data(self.frozen, content_type="video/mp4")
        return self
