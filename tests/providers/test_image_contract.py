"""One contract, every image adapter: each against a loopback server speaking its vendor's wire format.

What every adapter must do: send exactly its ``payload()`` with the key in the vendor's auth header,
write an image of the exact requested size, report a cost that follows the vendor's documented usage or
the price table, turn a content rejection into ``ProviderRejected`` (one request, no retry) and a body
off the documented shape into ``MalformedResponse``; declare its capabilities; and name the variable to
set when its key is missing.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from PIL import Image

from storyreel.core.errors import ConfigError
from storyreel.core.settings import Settings
from storyreel.providers.http import MalformedResponse, ProviderRejected
from storyreel.providers.registry import resolve

from .test_openai_images import request

KEY = "sk-contract-0123456789"


def png(w: int = 1024, h: int = 576) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (30, 140, 90)).save(buf, "PNG")
    return buf.getvalue()


B64 = base64.b64encode(png()).decode()


@dataclass
class Wire:
    provider_id: str
    path: str
    settings: Callable[[str], dict]  # base URL of the loopback server → settings fields
    auth: tuple[str, str]
    ok: Callable[[Any], dict]  # httpserver → success body
    rejection: tuple[int, dict]
    malformed: dict
    cost: float


WIRES = [
    Wire("openai:gpt-image-2", "/v1/images/generations",
         lambda url: {"STORYREEL_OPENAI_BASE_URL": f"{url}/v1", "OPENAI_API_KEY": KEY}, ("Authorization", f"Bearer {KEY}"),
         lambda s: {"data": [{"b64_json": B64}], "usage": {"input_tokens": 50, "output_tokens": 1000}},
         (400, {"error": {"code": "moderation_blocked", "message": "rejected by the safety system"}}),
         {"data": []}, 50 * 5e-6 + 1000 * 30e-6),
    Wire("gemini:gemini-2.5-flash-image", "/v1beta/models/gemini-2.5-flash-image:generateContent",
         lambda url: {"STORYREEL_GEMINI_BASE_URL": f"{url}/v1beta", "GEMINI_API_KEY": KEY}, ("x-goog-api-key", KEY),
         lambda s: {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": B64}}]}, "finishReason": "STOP"}],
                    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1290}},
         (200, {"promptFeedback": {"blockReason": "SAFETY"}}),
         {"candidates": []}, 10 * 0.30e-6 + 1290 * 30e-6),
    Wire("replicate:black-forest-labs/flux-schnell", "/v1/models/black-forest-labs/flux-schnell/predictions",
         lambda url: {"STORYREEL_REPLICATE_BASE_URL": f"{url}/v1", "REPLICATE_API_TOKEN": KEY}, ("Authorization", f"Bearer {KEY}"),
         lambda s: {"id": "p1", "status": "succeeded", "output": [s.url_for("/files/out.png")]},
         (201, {"id": "p1", "status": "failed", "error": "NSFW content detected. Try running it again."}),
         {"id": "p1", "status": "succeeded", "output": None}, 0.003),
    Wire("together:black-forest-labs/FLUX.1-schnell", "/v1/images/generations",
         lambda url: {"STORYREEL_TOGETHER_BASE_URL": f"{url}/v1", "TOGETHER_API_KEY": KEY}, ("Authorization", f"Bearer {KEY}"),
         lambda s: {"id": "t1", "model": "black-forest-labs/FLUX.1-schnell", "object": "list", "data": [{"index": 0, "b64_json": B64}]},
         (400, {"error": {"message": "NSFW content detected in the prompt", "type": "invalid_request_error"}}),
         {"data": [{"url": "https://example.invalid/x.png"}]}, round(0.0027 * 1024 * 576 / 1024**2, 6)),
    Wire("openai-compatible:google/gemini-2.5-flash-image", "/api/v1/chat/completions",
         lambda url: {"STORYREEL_IMAGE_BASE_URL": f"{url}/api/v1", "STORYREEL_IMAGE_API_KEY": KEY}, ("Authorization", f"Bearer {KEY}"),
         lambda s: {"choices": [{"finish_reason": "stop", "message": {"images": [{"image_url": {"url": f"data:image/png;base64,{B64}"}}]}}],
                    "usage": {"cost": 0.039}},
         (400, {"error": {"code": 400, "message": "Input was flagged by moderation"}}),
         {"choices": [{"finish_reason": "stop", "message": {"content": "Here is a description instead."}}]}, 0.039),
    Wire("openrouter:google/gemini-2.5-flash-image", "/or/v1/chat/completions",
         lambda url: {"STORYREEL_OPENROUTER_BASE_URL": f"{url}/or/v1", "OPENROUTER_API_KEY": KEY}, ("Authorization", f"Bearer {KEY}"),
         lambda s: {"choices": [{"finish_reason": "stop", "message": {"images": [{"image_url": {"url": f"data:image/png;base64,{B64}"}}]}}],
                    "usage": {"cost": 0.04}},
         (200, {"choices": [{"finish_reason": "content_filter", "message": {"refusal": "I can't draw that."}}]}),
         {"choices": "not a list"}, 0.04),
]


def provider(wire: Wire, httpserver):  # noqa: ANN001, ANN201
    fields = wire.settings(httpserver.url_for("").rstrip("/"))
    settings = Settings(allow_network=False, http_attempts=2, http_backoff_s=0.01, image_poll_s=0.01, image_timeout_s=5, environ=fields)
    return resolve("image", wire.provider_id, settings)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider_id.split(":")[0])
def test_sends_its_payload_and_writes_the_exact_size_at_the_documented_cost(wire, httpserver, tmp_path):
    p = provider(wire, httpserver)
    httpserver.expect_request(wire.path, method="POST").respond_with_json(wire.ok(httpserver), status=201 if "replicate" in wire.provider_id else 200)
    httpserver.expect_request("/files/out.png").respond_with_data(png(), content_type="image/png")
    out = tmp_path / "shot.png"
    result = p.generate(request(), out)
    with Image.open(out) as im:
        assert im.size == (1920, 1080) and im.getpixel((960, 540)) == (30, 140, 90)
    call = httpserver.log[0][0]
    assert json.loads(call.data) == p.payload(request())
    assert call.headers[wire.auth[0]] == wire.auth[1]
    assert result.cost_usd == pytest.approx(wire.cost, rel=1e-6)
    assert result.provider == wire.provider_id and KEY not in json.dumps(result.provider_details)
    assert p.estimate(request()) > 0


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider_id.split(":")[0])
def test_a_content_rejection_is_reported_once_not_retried(wire, httpserver, tmp_path):
    status, body = wire.rejection
    httpserver.expect_request(wire.path, method="POST").respond_with_json(body, status=status)
    with pytest.raises(ProviderRejected):
        provider(wire, httpserver).generate(request(), tmp_path / "shot.png")
    assert len(httpserver.log) == 1
    assert not (tmp_path / "shot.png").exists()


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider_id.split(":")[0])
def test_a_malformed_body_is_a_malformed_response(wire, httpserver, tmp_path):
    httpserver.expect_request(wire.path, method="POST").respond_with_json(wire.malformed)
    with pytest.raises(MalformedResponse):
        provider(wire, httpserver).generate(request(), tmp_path / "shot.png")
    assert not (tmp_path / "shot.png").exists()


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider_id.split(":")[0])
def test_capabilities_are_declared_and_a_missing_key_names_its_variable(wire, httpserver):
    p = provider(wire, httpserver)
    assert p.paid and not p.offline and p.max_candidates >= 1 and isinstance(p.accepts_reference_images, bool)
    fields = {k: v for k, v in wire.settings(httpserver.url_for("").rstrip("/")).items() if "KEY" not in k and "TOKEN" not in k}
    keyless = resolve("image", wire.provider_id, Settings(allow_network=False, _env_file=None, environ=fields))
    if keyless.needs_key:
        with pytest.raises(ConfigError, match=keyless.key_env_var):
            keyless.preflight()
    else:
        keyless.preflight()  # a keyless server (e.g. a local one) is fine
    assert p.identity() == p.identity() and "key" not in json.dumps(p.identity()).lower()


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.provider_id.split(":")[0])
def test_workers_reaching_the_client_together_share_one(wire, httpserver, monkeypatch):
    """The image stage's workers reach ``provider.http`` at once on the first calls: they must share one
    client (a client each would each have its own cap on calls in flight)."""
    import threading
    import time

    p = provider(wire, httpserver)
    made = type(p.connection).client

    def slow_client(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - widen the window a race needs
        time.sleep(0.05)
        return made(self, *args, **kwargs)

    monkeypatch.setattr(type(p.connection), "client", slow_client)
    start, seen = threading.Barrier(8), []
    threads = [threading.Thread(target=lambda: (start.wait(), seen.append(p.http))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and len({id(c) for c in seen}) == 1


def test_offline_engines_declare_themselves_free():
    for modality, pid in (("image", "local:cards"), ("tts", "local:espeak"), ("llm", "local:direct"), ("planner", "local:planner")):
        p = resolve(modality, pid)
        assert p.offline and not p.paid and not p.needs_key, pid
        p.preflight()
