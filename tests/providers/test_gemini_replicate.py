"""``gemini:`` and ``replicate:`` image adapters against loopback servers speaking their wire formats."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from storyreel.core.errors import ProviderError
from storyreel.core.settings import Settings
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.image.gemini_images import GeminiImages
from storyreel.providers.image.replicate_images import ReplicateImages

from .test_openai_images import request

GKEY, RTOKEN = "gem-test-key-123", "r8_test_token_456"


def png(w=1344, h=768, colour=(20, 160, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_GEMINI_BASE_URL": httpserver.url_for("/v1beta"), "GEMINI_API_KEY": GKEY, "STORYREEL_REPLICATE_BASE_URL": httpserver.url_for("/v1"), "REPLICATE_API_TOKEN": RTOKEN}, http_backoff_s=0.01,
                    http_attempts=3, image_timeout_s=2.0, image_poll_s=0.05, allow_network=False)


GPATH = "/v1beta/models/gemini-2.5-flash-image:generateContent"


def test_gemini_request_and_inline_image(httpserver, settings, tmp_path):
    httpserver.expect_request(GPATH, method="POST", headers={"x-goog-api-key": GKEY}, json={
        "contents": [{"role": "user", "parts": [{"text": request().prompt}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}},
    }).respond_with_json({
        "candidates": [{"content": {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png()).decode()}}]},
                        "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 1290, "totalTokenCount": 1320}, "modelVersion": "gemini-2.5-flash-image"})
    result = GeminiImages("gemini-2.5-flash-image", settings).generate(request(), tmp_path / "g.png")
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (1920, 1080) and im.getpixel((10, 10)) == (20, 160, 90)
    assert result.cost_usd == pytest.approx(30 * 0.30e-6 + 1290 * 30e-6)


@pytest.mark.parametrize("body", [
    {"promptFeedback": {"blockReason": "SAFETY"}},
    {"candidates": [{"content": {"parts": []}, "finishReason": "IMAGE_SAFETY", "finishMessage": "Unable to show the generated image."}]},
    {"candidates": [{"finishReason": "PROHIBITED_CONTENT"}]},
])
def test_gemini_safety_blocks_are_rejections(httpserver, settings, tmp_path, body):
    httpserver.expect_request(GPATH).respond_with_json(body)
    with pytest.raises(ProviderRejected):
        GeminiImages("gemini-2.5-flash-image", settings).generate(request(), tmp_path / "g.png")


def test_gemini_malformed_and_429(httpserver, settings, tmp_path):
    httpserver.expect_ordered_request(GPATH).respond_with_json({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, status=429,
                                                               headers={"Retry-After": "0"})
    httpserver.expect_ordered_request(GPATH).respond_with_json({"candidates": [{"content": {"parts": [{"text": "no image, sorry"}]}, "finishReason": "STOP"}]})
    with pytest.raises(MalformedResponse, match="no inlineData"):
        GeminiImages("gemini-2.5-flash-image", settings).generate(request(), tmp_path / "g.png")


def _prediction(pid: str, status: str, **extra) -> dict:
    return {"id": pid, "model": "black-forest-labs/flux-schnell", "status": status,
            "urls": {"get": f"https://api.replicate.com/v1/predictions/{pid}", "cancel": f"https://api.replicate.com/v1/predictions/{pid}/cancel"},
            **extra}


def test_replicate_create_poll_download(httpserver, settings, tmp_path):
    out_url = httpserver.url_for("/files/out-0.png")
    httpserver.expect_ordered_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_json(
        {"detail": "Request was throttled. Expected available in 1 second.", "status": 429}, status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST",
                                      headers={"Authorization": f"Bearer {RTOKEN}"},
                                      json={"input": {"prompt": request().prompt, "aspect_ratio": "16:9", "seed": 7, "output_format": "png"}},
                                      ).respond_with_json(_prediction("p1", "starting"), status=201)
    httpserver.expect_ordered_request("/v1/predictions/p1", method="GET").respond_with_json(_prediction("p1", "processing"))
    httpserver.expect_ordered_request("/v1/predictions/p1", method="GET").respond_with_json(
        _prediction("p1", "succeeded", output=[out_url], metrics={"predict_time": 1.2}))
    httpserver.expect_ordered_request("/files/out-0.png").respond_with_data(png(), content_type="image/png")
    result = ReplicateImages("black-forest-labs/flux-schnell", settings).generate(request(), tmp_path / "r.png")
    assert Image.open(tmp_path / "r.png").size == (1920, 1080)
    assert result.cost_usd == pytest.approx(0.003) and result.provider_details["prediction_id"] == "p1"


@pytest.mark.parametrize(("status", "error", "exc"), [
    ("failed", "NSFW content detected. Try running it again, or try a different prompt.", ProviderRejected),
    ("failed", "CUDA out of memory", ProviderError),
    ("canceled", None, ProviderError),
    ("aborted", None, ProviderError),
])
def test_replicate_terminal_failures(httpserver, settings, tmp_path, status, error, exc):
    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_json(
        _prediction("p2", "starting"), status=201)
    httpserver.expect_request("/v1/predictions/p2").respond_with_json(_prediction("p2", status, error=error))
    with pytest.raises(exc):
        ReplicateImages("black-forest-labs/flux-schnell", settings).generate(request(), tmp_path / "r.png")


def test_replicate_timeout_cancels_the_prediction(httpserver, settings, tmp_path):
    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_json(
        _prediction("p3", "starting"), status=201)
    httpserver.expect_request("/v1/predictions/p3", method="GET").respond_with_json(_prediction("p3", "processing"))
    httpserver.expect_request("/v1/predictions/p3/cancel", method="POST").respond_with_json(_prediction("p3", "canceled"))
    short = settings.model_copy(update={"image_timeout_s": 0.3})
    with pytest.raises(ProviderError, match="cancelled"):
        ReplicateImages("black-forest-labs/flux-schnell", short).generate(request(), tmp_path / "r.png")
    assert any(req.path == "/v1/predictions/p3/cancel" for req, _ in httpserver.log)


def test_a_canceled_job_cancels_the_prediction_it_is_polling(httpserver, settings, tmp_path):
    from storyreel.core.cancel import Canceled, watching

    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_json(
        _prediction("p9", "starting"), status=201)
    httpserver.expect_request("/v1/predictions/p9", method="GET").respond_with_json(_prediction("p9", "processing"))
    httpserver.expect_request("/v1/predictions/p9/cancel", method="POST").respond_with_json(_prediction("p9", "canceled"))
    polls = []

    def stop() -> bool:
        polls.append(1)
        return len(polls) > 3  # the job is canceled while the prediction runs

    with watching(stop), pytest.raises(Canceled) as info:
        ReplicateImages("black-forest-labs/flux-schnell", settings).generate(request(), tmp_path / "r.png")
    assert info.value.call_in_flight  # the ledger keeps its reservation as uncertain
    assert any(req.path == "/v1/predictions/p9/cancel" for req, _ in httpserver.log)
    assert not (tmp_path / "r.png").exists()


def test_replicate_output_elsewhere_is_refused_offline(httpserver, settings, tmp_path):
    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_json(
        _prediction("p4", "succeeded", output="https://replicate.delivery/xyz/out.png"), status=201)
    with pytest.raises(ProviderError, match="not loopback"):
        ReplicateImages("black-forest-labs/flux-schnell", settings).generate(request(), tmp_path / "r.png")


def test_openai_compatible_chat_image_output(httpserver, tmp_path):
    from storyreel.providers.image.chat_images import ChatImages

    settings = Settings(environ={"STORYREEL_IMAGE_BASE_URL": httpserver.url_for("/api/v1"), "STORYREEL_IMAGE_API_KEY": "or-key"}, allow_network=False,
                        http_backoff_s=0.01, http_attempts=2)
    data_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    httpserver.expect_request("/api/v1/chat/completions", method="POST", headers={"Authorization": "Bearer or-key"}, json={
        "model": "google/gemini-2.5-flash-image", "messages": [{"role": "user", "content": request().prompt}],
        "modalities": ["image", "text"], "image_config": {"aspect_ratio": "16:9"}, "usage": {"include": True},
    }).respond_with_json({"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "",
                                                                              "images": [{"type": "image_url", "image_url": {"url": data_url}}]}}],
                          "usage": {"prompt_tokens": 20, "completion_tokens": 1290, "cost": 0.0387}})
    result = ChatImages("google/gemini-2.5-flash-image", settings).generate(request(), tmp_path / "o.png")
    assert Image.open(tmp_path / "o.png").size == (1920, 1080) and result.cost_usd == pytest.approx(0.0387)


@pytest.mark.parametrize(("status", "body", "exc"), [
    (200, {"choices": [{"finish_reason": "content_filter", "message": {"role": "assistant", "content": None}}]}, ProviderRejected),
    (400, {"error": {"code": 400, "message": "Input flagged by moderation: violence"}}, ProviderRejected),
    (200, {"choices": [{"finish_reason": "stop", "message": {"content": "I cannot draw."}}]}, MalformedResponse),
    (200, {"choices": [{"finish_reason": "stop", "message": {"images": [{"image_url": {"url": "https://x/y.png"}}]}}]}, MalformedResponse),
])
def test_openai_compatible_rejections_and_malformed(httpserver, tmp_path, status, body, exc):
    from storyreel.providers.image.chat_images import ChatImages

    settings = Settings(environ={"STORYREEL_IMAGE_BASE_URL": httpserver.url_for("/api/v1")}, allow_network=False, http_backoff_s=0.01, http_attempts=2)
    httpserver.expect_request("/api/v1/chat/completions").respond_with_json(body, status=status)
    with pytest.raises(exc):
        ChatImages("google/gemini-2.5-flash-image", settings).generate(request(), tmp_path / "o.png")


def test_the_replicate_token_never_reaches_the_output_host(httpserver, settings, tmp_path):
    # the API answers at one host name, the output "CDN" at another of the same loopback server: another
    # origin, so no credentials may go there
    api_url = httpserver.url_for("/delivery/out.png")
    cdn = api_url.replace("localhost", "127.0.0.1") if "localhost" in api_url else api_url.replace("127.0.0.1", "localhost")
    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_json(
        _prediction("p5", "succeeded", output=[cdn]), status=201)
    httpserver.expect_request("/delivery/out.png").respond_with_data(png(), content_type="image/png")
    ReplicateImages("black-forest-labs/flux-schnell", settings).generate(request(), tmp_path / "r.png")
    api = [req for req, _ in httpserver.log if req.path.startswith("/v1/")]
    download = [req for req, _ in httpserver.log if req.path == "/delivery/out.png"]
    assert api and all(req.headers.get("Authorization", "").startswith("Bearer ") for req in api)
    assert len(download) == 1 and "Authorization" not in download[0].headers


def test_a_lost_create_answer_adopts_the_prediction_instead_of_creating_another(httpserver, settings, tmp_path):
    import time as _time

    from werkzeug import Response

    def slow_create(_req):  # the prediction is made, but its answer comes after the client's timeout
        _time.sleep(settings.image_timeout_s * 0.5 + 0.3)
        return Response(json.dumps(_prediction("p6", "starting")), status=201, content_type="application/json")

    made = _prediction("p6", "succeeded", output=[httpserver.url_for("/files/p6.png")])
    made["input"] = ReplicateImages("black-forest-labs/flux-schnell", settings).payload(request())["input"]
    made["model"] = "black-forest-labs/flux-schnell"
    httpserver.expect_request("/v1/models/black-forest-labs/flux-schnell/predictions", method="POST").respond_with_handler(slow_create)
    httpserver.expect_request("/v1/predictions", method="GET").respond_with_json({"results": [made], "next": None})
    httpserver.expect_request("/v1/predictions/p6", method="GET").respond_with_json(made)
    httpserver.expect_request("/files/p6.png").respond_with_data(png(), content_type="image/png")
    short = settings.model_copy(update={"image_timeout_s": 0.8})  # the create times out at min(60, 0.8) s
    result = ReplicateImages("black-forest-labs/flux-schnell", short).generate(request(), tmp_path / "r.png")
    creates = [req for req, _ in httpserver.log if req.method == "POST"]
    assert len(creates) == 1 and result.provider_details["prediction_id"] == "p6"
