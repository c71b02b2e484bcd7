"""``storyreel make`` on the Turkish chapter JSON through the OpenAI adapter, against a loopback server
that speaks the Images API: injected 429s, one moderation rejection, and a cost cap."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from werkzeug import Request, Response

from ..conftest import INPUTS, cli_json, run_cli

pytestmark = pytest.mark.e2e

CHAPTERS = INPUTS / "chapters-bitcoin-tr.json"
REJECTED = "iki farklı alıcıya"  # ch02's diagram description


class FakeOpenAI:
    """The Images API: the first ``rate_limited`` calls get 429 + Retry-After: 1, prompts containing
    ``reject`` get a moderation 400, the rest an image (colour from the prompt) with token usage."""

    def __init__(self, rate_limited: int = 2, reject: str | None = REJECTED) -> None:
        self.rate_limited = rate_limited
        self.reject = reject
        self.calls: list[dict] = []

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.calls.append(body)
        assert request.headers["Authorization"] == "Bearer sk-e2e-key"
        assert set(body) == {"model", "prompt", "size", "quality", "n", "output_format"}
        if len(self.calls) <= self.rate_limited:
            return Response(json.dumps({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}),
                            status=429, headers={"Retry-After": "1"}, content_type="application/json")
        if self.reject and self.reject in body["prompt"]:
            err = {"error": {"message": "Your request was rejected by the safety system.", "code": "moderation_blocked",
                             "type": "image_generation_user_error", "param": None}}
            return Response(json.dumps(err), status=400, content_type="application/json")
        w, h = (int(v) for v in body["size"].split("x"))
        colour = tuple(30 + (hash(body["prompt"]) >> s) % 200 for s in (0, 8, 16))
        buf = io.BytesIO()
        Image.new("RGB", (w, h), colour).save(buf, "PNG")
        data = {"created": 1, "data": [{"b64_json": base64.b64encode(buf.getvalue()).decode()}],
                "usage": {"input_tokens": 60, "output_tokens": 1056, "total_tokens": 1116}}
        return Response(json.dumps(data), content_type="application/json")


def env_for(httpserver) -> dict:
    return {"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": "sk-e2e-key",
            "STORYREEL_HTTP_BACKOFF_S": "0.01"}


def test_make_through_openai_survives_429s_and_records_a_rejection(httpserver, tmp_path):
    fake = FakeOpenAI()
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ws = tmp_path / "ws"
    args = ("make", str(CHAPTERS), "--image-provider", "openai:gpt-image-2", "--max-cost", "1.0")
    made = cli_json(*args, workspace=ws, env=env_for(httpserver))
    assert made["status"] == "partial"
    root = Path(made["storyboard_path"]).parent
    manifest = json.loads((root / "images" / "manifest.json").read_text())
    by_type: dict[str, set[str]] = {}
    for e in manifest["images"]:
        by_type.setdefault(e["visual_type"], set()).add(e["status"])
    assert by_type["title_card"] == {"template"}
    failed = [e for e in manifest["images"] if e["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["chapter_id"] == "ch02"
    assert "safety system" in failed[0]["error"]
    assert set(made["attention"]) == {f"image[{failed[0]['shot_id']}]"}
    generated = [e for e in manifest["images"] if e["status"] == "generated"]
    assert generated and all(e["provider"] == "openai:gpt-image-2" and e["size"] == "640x360" for e in generated)  # the frame (tests' 360p)
    assert manifest["counts"]["failed"] == 1 and manifest["counts"]["skipped"] == 0
    # the project is usable: the video rendered and passed QC
    assert json.loads((root / "qc.json").read_text())["passed"]
    # every generated image went through the adapter; 429s were retried
    assert len(fake.calls) == 2 + len(generated) + 1
    costs = cli_json("cost", made["project_id"], workspace=ws)
    assert costs["calls"] == len(generated)
    assert costs["spent_usd"] == pytest.approx(len(generated) * (60 * 5e-6 + 1056 * 30e-6))
    assert costs["spent_usd"] <= 1.0
    assert "sk-e2e-key" not in (root / "images" / "manifest.json").read_text()
    status = cli_json("status", made["project_id"], workspace=ws)
    flagged = [n for n in status["nodes"] if n["attention"]]
    assert [n["node"] for n in flagged] == [f"image[{failed[0]['shot_id']}]"]

    # the provider accepts it now: re-running retries only that shot
    fake.reject = None
    again = cli_json(*args, workspace=ws, env=env_for(httpserver))
    assert again["status"] == "done"
    images_run = [n for n in again["executed_nodes"] if n.startswith("image[")]
    assert images_run == [f"image[{failed[0]['shot_id']}]"]
    assert json.loads((root / "images" / "manifest.json").read_text())["counts"]["failed"] == 0


def test_cost_cap_stops_the_stage_and_says_what_is_left(httpserver, tmp_path):
    fake = FakeOpenAI(rate_limited=0, reject=None)
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake)
    ws = tmp_path / "ws"
    # one 1536x864 medium image is estimated at ≈ $0.0346: the cap allows one
    proc = run_cli("make", str(CHAPTERS), "--image-provider", "openai:gpt-image-2", "--max-cost", "0.05",
                   workspace=ws, env=env_for(httpserver))
    assert proc.returncode == 1
    assert "cost cap" in proc.stderr and "not made" in proc.stderr
    assert len(fake.calls) == 1
    listed = {p["project_id"]: p for p in cli_json("list", workspace=ws)["projects"]}
    (pid, project), = listed.items()
    assert project["status"] == "cost_limit"
    costs = cli_json("cost", pid, workspace=ws)
    assert costs["spent_usd"] <= 0.05
    manifest = json.loads((ws / "projects" / pid / "images" / "manifest.json").read_text())
    assert manifest["counts"]["skipped"] >= 1 and manifest["counts"]["generated"] == 1
