"""``openai:gpt-image-2`` against a loopback server speaking the OpenAI Images API wire format."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image
from werkzeug import Response

from storyreel.core.errors import ProviderError, UncertainCall
from storyreel.core.settings import Settings
from storyreel.providers.base import ImageRequest
from storyreel.providers.http import MalformedResponse, ProviderRejected, RateLimiter
from storyreel.providers.image.openai_images import OpenAIImages, provider_size

KEY = "sk-test-0123456789abcdef"
PATH = "/v1/images/generations"


def png_b64(w: int = 1536, h: int = 864, colour=(200, 120, 40)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def ok_body(**usage) -> dict:
    return {"created": 1_790_000_000, "data": [{"b64_json": png_b64()}],
            "usage": usage or {"input_tokens": 50, "output_tokens": 1000, "total_tokens": 1050}}


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(environ={"STORYREEL_OPENAI_BASE_URL": httpserver.url_for("/v1"), "OPENAI_API_KEY": KEY}, http_backoff_s=0.01,
                    http_attempts=3, image_timeout_s=0.8, allow_network=False, image_quality="medium")


def request(w: int = 1920, h: int = 1080) -> ImageRequest:
    return ImageRequest(shot_id="ch02-s01", visual_type="diagram", description="Two arrows from one coin",
                        prompt="Flat illustration: one coin, two arrows to two wallets, no text", chapter_title="Double spend",
                        project_title="Bitcoin", narration="", palette=["#101820", "#F7931A"], width=w, height=h, seed=7)


def test_size_follows_the_aspect_in_multiples_of_16():
    assert provider_size(1920, 1080) == (1536, 864)
    assert provider_size(1080, 1920) == (864, 1536)
    assert provider_size(1080, 1080) == (1536, 1536)
    assert provider_size(1920, 1080, 1920) == (1920, 1088)


def test_request_is_the_documented_payload_and_the_image_is_fitted(httpserver, settings, tmp_path):
    httpserver.expect_request(
        PATH, method="POST", headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "gpt-image-2", "prompt": request().prompt, "size": "1536x864", "quality": "medium", "n": 1, "output_format": "png"},
    ).respond_with_json(ok_body(input_tokens=50, output_tokens=1000))
    out = tmp_path / "img.png"
    result = OpenAIImages("gpt-image-2", settings).generate(request(), out)
    with Image.open(out) as im:
        assert im.size == (1920, 1080)
        assert im.getpixel((960, 540)) == (200, 120, 40)
    assert result.cost_usd == pytest.approx(50 * 5e-6 + 1000 * 30e-6)
    assert result.provider_details["cost_source"] == "usage"
    assert KEY not in json.dumps(result.provider_details)
    httpserver.check_assertions()


def test_without_usage_the_price_table_estimates(httpserver, settings, tmp_path):
    body = ok_body()
    del body["usage"]
    httpserver.expect_request(PATH, method="POST").respond_with_json(body)
    result = OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    # 1536x864 is 84 % of the 1536x1024 reference ($0.041 at medium)
    assert result.cost_usd == pytest.approx(0.041 * (1536 * 864) / (1536 * 1024), rel=1e-3)
    assert "price table" in result.provider_details["cost_source"]


def test_429_waits_for_retry_after_then_succeeds(httpserver, settings, tmp_path):
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(
        {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}, status=429,
        headers={"Retry-After": "1"})
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(ok_body())
    t0 = time.monotonic()
    OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert time.monotonic() - t0 >= 1.0
    assert len(httpserver.log) == 2


def test_5xx_is_retried_a_bounded_number_of_times(httpserver, settings, tmp_path):
    httpserver.expect_request(PATH).respond_with_json({"error": {"message": "boom", "type": "server_error"}}, status=500)
    with pytest.raises(ProviderError, match="gave up after 3 attempts"):
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert len(httpserver.log) == 3


def test_a_500_before_any_work_is_retried_then_succeeds(httpserver, settings, tmp_path):
    httpserver.expect_ordered_request(PATH).respond_with_data("overloaded", status=500)
    httpserver.expect_ordered_request(PATH).respond_with_json(ok_body())
    OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert (tmp_path / "i.png").exists()


def test_a_gateway_error_after_the_create_is_uncertain_and_not_sent_again(httpserver, settings, tmp_path):
    """OpenAI documents no idempotency for image creates: a 502 may come after the image was made (and billed),
    so the create is not repeated, even though it carries an Idempotency-Key header."""
    httpserver.expect_request(PATH).respond_with_data("upstream", status=502)
    with pytest.raises(UncertainCall):
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert len([r for r, _ in httpserver.log if r.path == PATH]) == 1
    assert OpenAIImages.deduplication is None and not OpenAIImages("gpt-image-2", settings).repeatable_create


def test_a_hang_past_the_timeout_is_uncertain_and_not_sent_again(httpserver, settings, tmp_path):
    calls = []

    def hang(_req):
        calls.append(time.monotonic())
        time.sleep(1.0)  # past the 0.8 s timeout
        return Response(json.dumps(ok_body()), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(hang)
    with pytest.raises(UncertainCall, match="timeout"):
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert len(calls) == 1  # the answer was lost after the request was sent: it may have been made, so it is not repeated
    assert not (tmp_path / "i.png").exists()


def test_moderation_rejection_is_not_retried(httpserver, settings, tmp_path):
    httpserver.expect_request(PATH).respond_with_json(
        {"error": {"message": "Your request was rejected by the safety system.", "type": "image_generation_user_error",
                   "code": "moderation_blocked", "param": None}}, status=400)
    with pytest.raises(ProviderRejected) as info:
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert "safety system" in info.value.reason
    assert sum(resp.status_code == 400 for _, resp in httpserver.log) == 1  # (late replies of other tests may linger)
    assert not (tmp_path / "i.png").exists()


@pytest.mark.parametrize("body", [
    {"created": 1, "data": []},
    {"created": 1, "data": [{"url": "https://example.invalid/x.png"}]},
    {"created": 1, "data": [{"b64_json": "%%%not-base64%%%"}]},
    {"created": 1, "data": [{"b64_json": base64.b64encode(b"GIF89a but not really").decode()}]},
])
def test_malformed_bodies_are_clear_errors(httpserver, settings, tmp_path, body):
    httpserver.expect_request(PATH).respond_with_json(body)
    with pytest.raises(MalformedResponse):
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert len(httpserver.log) == 1  # not retried


def test_non_json_body_is_malformed(httpserver, settings, tmp_path):
    httpserver.expect_request(PATH).respond_with_data("<html>proxy error</html>", status=200, content_type="text/html")
    with pytest.raises(MalformedResponse, match="not JSON"):
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")


def test_the_key_never_appears_in_errors(httpserver, settings, tmp_path):
    httpserver.expect_request(PATH).respond_with_json({"error": {"message": f"Incorrect API key provided: {KEY}"}}, status=401)
    with pytest.raises(ProviderError) as info:
        OpenAIImages("gpt-image-2", settings).generate(request(), tmp_path / "i.png")
    assert KEY not in str(info.value) and "***" in str(info.value)


def test_missing_key_and_network_guard(tmp_path):
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        OpenAIImages("gpt-image-2", Settings(environ={}, allow_network=False)).generate(request(), tmp_path / "i.png")
    with pytest.raises(ProviderError, match="network calls are disabled"):
        OpenAIImages("gpt-image-2", Settings(environ={"OPENAI_API_KEY": KEY}, allow_network=False)).generate(request(), tmp_path / "i.png")


def test_rate_limiter_spaces_calls_to_the_rpm(monkeypatch):
    clock = {"t": 0.0}
    slept = []
    monkeypatch.setattr("storyreel.providers.http.time.monotonic", lambda: clock["t"])

    def sleep(s):
        slept.append(s)
        clock["t"] += s

    monkeypatch.setattr("storyreel.providers.http.time.sleep", sleep)
    limiter = RateLimiter(rpm=3)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(clock["t"])
    assert starts[:3] == [0.0, 0.0, 0.0]
    assert starts[3] >= 60.0 and starts[6] >= 120.0
    # never more than 3 starts in any 60 s window
    assert all(sum(1 for s in starts if w <= s < w + 60) <= 3 for w in starts)
