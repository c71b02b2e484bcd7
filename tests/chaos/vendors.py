"""A loopback server speaking four image vendors' wire formats that keeps the vendor's bill and misbehaves
on purpose.

Wire formats: OpenAI Images (``POST /openai/v1/images/generations``; the ``Idempotency-Key`` header is
ignored, as OpenAI documents no deduplication — ``honour_idempotency=True`` answers a repeated key from the
first result without billing it again; ``GET /openai/v1/models/{m}``),
Gemini (``POST /gemini/v1beta/models/{m}:generateContent``), Replicate (create, poll, list, download) and
chat-completions image output (``POST /chat/api/v1/chat/completions``).

Billing follows what each vendor does: an image is billed when the vendor *made* it — also when its
answer never reached the client. Faults (probability ``fault_rate`` per answer, seeded): 429 with
``Retry-After: 0``, 500 and 503 before any work (not billed); 502 after the work (billed); a *timeout*
— the work is done and billed, the answer comes only after the client gave up; a *reset* — the work is
done and billed, then the connection is closed without an answer. ``first_faults`` are the faults of the
first creates (POSTs), in order, before the random ones. ``latency_s`` slows every answer.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from storyreel.providers import prices

PRICE = {"openai": 0.0, "gemini": 0.039, "replicate": 0.003, "chat": 0.039}  # openai: the list price of the size (below)
FAULTS = ("429", "500", "503", "502", "timeout", "reset")


def png(prompt: str, size: tuple[int, int] = (768, 432)) -> bytes:
    colour = tuple(int(hashlib.sha256(prompt.encode()).hexdigest()[i:i + 2], 16) for i in (0, 2, 4))
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


@dataclass
class Bill:
    items: list[tuple[str, str, float]] = field(default_factory=list)  # (vendor, prompt, usd)
    returned: list[tuple[str, str]] = field(default_factory=list)  # images whose answer was fully sent
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return round(sum(usd for _, _, usd in self.items), 6)


class FakeVendors:
    """Start with :meth:`start`; ``url`` is the base (``http://127.0.0.1:PORT``); ``bill`` the vendor's side."""

    def __init__(self, *, fault_rate: float = 0.0, seed: int = 7, latency_s: float = 0.0, timeout_s: float = 1.5,
                 faults: tuple[str, ...] = FAULTS, first_faults: tuple[str, ...] = (), honour_idempotency: bool = False) -> None:
        self.fault_rate, self.latency_s, self.timeout_s, self.faults = fault_rate, latency_s, timeout_s, faults
        self.scripted = list(first_faults)
        self.honour_idempotency = honour_idempotency
        self.creates = 0  # POSTs received (counted when they arrive)
        self.rng = random.Random(seed)
        self.bill = Bill()
        self.lock = threading.Lock()
        self.idempotent: dict[str, bytes] = {}
        self.predictions: dict[str, dict] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that went away mid-answer is the point
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeVendors:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings_env(self, vendor: str) -> dict[str, str]:
        """The environment that points storyreel at this server for ``vendor``."""
        base = {"STORYREEL_HTTP_BACKOFF_S": "0.01", "STORYREEL_IMAGE_TIMEOUT_S": str(self.timeout_s), "STORYREEL_IMAGE_POLL_S": "0.05",
                "STORYREEL_HTTP_ATTEMPTS": "8", "STORYREEL_ALLOW_NETWORK": "0"}
        return {**base, **{
            "openai": {"STORYREEL_OPENAI_BASE_URL": f"{self.url}/openai/v1", "OPENAI_API_KEY": "sk-chaos",
                       "STORYREEL_IMAGE_PROVIDER": "openai:gpt-image-2"},
            "gemini": {"STORYREEL_GEMINI_BASE_URL": f"{self.url}/gemini/v1beta", "GEMINI_API_KEY": "g-chaos",
                       "STORYREEL_IMAGE_PROVIDER": "gemini:gemini-2.5-flash-image"},
            "replicate": {"STORYREEL_REPLICATE_BASE_URL": f"{self.url}/replicate/v1", "REPLICATE_API_TOKEN": "r-chaos",
                          "STORYREEL_IMAGE_PROVIDER": "replicate:black-forest-labs/flux-schnell"},
            "chat": {"STORYREEL_IMAGE_BASE_URL": f"{self.url}/chat/api/v1", "STORYREEL_IMAGE_API_KEY": "c-chaos",
                     "STORYREEL_IMAGE_PROVIDER": "openai-compatible:google/gemini-2.5-flash-image"},
        }[vendor]}

    # ------------------------------------------------------------------------------------------ server
    def _fault(self, create: bool = False) -> str | None:
        with self.lock:
            self.bill.requests += 1
            if create and self.scripted:
                kind = self.scripted.pop(0)
                self.bill.faults[kind] = self.bill.faults.get(kind, 0) + 1
                return kind
            if self.rng.random() >= self.fault_rate:
                return None
            kind = self.rng.choice(self.faults)
            self.bill.faults[kind] = self.bill.faults.get(kind, 0) + 1
            return kind

    def _charge(self, vendor: str, prompt: str, usd: float) -> None:
        with self.lock:
            self.bill.items.append((vendor, prompt, round(usd, 6)))

    def _handler(self):  # noqa: ANN202
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def _json(self, status: int, obj: dict, headers: dict | None = None) -> None:
                self._send(status, json.dumps(obj).encode(), headers=headers)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:  # noqa: N802
                fake_latency()
                fault = fake._fault()
                if fault in ("429", "500", "503"):
                    return self._json(int(fault), {"error": {"message": f"injected {fault}"}}, {"Retry-After": "0"})
                if fault == "reset":
                    return self._reset()
                if fault == "timeout":
                    time.sleep(fake.timeout_s + 0.5)
                if m := re.fullmatch(r"/replicate/v1/predictions/(\w+)", self.path):
                    return self._json(200, fake.predictions[m.group(1)])
                if self.path == "/replicate/v1/predictions":
                    return self._json(200, {"results": list(fake.predictions.values())[::-1], "next": None})
                if m := re.fullmatch(r"/files/(\w+)\.png", self.path):
                    return self._send(200, png(fake.predictions[m.group(1)]["input"]["prompt"]), "image/png")
                return self._json(200, {"id": self.path.rsplit("/", 1)[-1], "object": "model"})

            def _reset(self) -> None:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                with fake.lock:
                    fake.creates += 1
                fake_latency()
                fault = fake._fault(create=True)
                if fault in ("429", "500", "503"):  # refused before any work: not billed
                    return self._json(int(fault), {"error": {"message": f"injected {fault}"}}, {"Retry-After": "0"})
                status, answer, vendor, prompt = self._work(body)  # the vendor does (and bills) the work
                if fault == "502":
                    return self._json(502, {"error": "bad gateway"})
                if fault == "reset":
                    return self._reset()
                if fault == "timeout":
                    time.sleep(fake.timeout_s + 0.5)
                self._send(status, answer)
                with fake.lock:
                    fake.bill.returned.append((vendor, prompt))

            def _work(self, body: dict) -> tuple[int, bytes, str, str]:
                if self.path.startswith("/openai/"):
                    key = self.headers.get("Idempotency-Key") if fake.honour_idempotency else None
                    if key and key in fake.idempotent:
                        return 200, fake.idempotent[key], "openai", body["prompt"]
                    w, h = (int(v) for v in body["size"].split("x"))
                    answer = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(png(body["prompt"], (w // 2, h // 2))).decode()}]}).encode()
                    # billed at the list price of its size (the price table storyreel estimates from); no usage in the
                    # answer, so the adapter books that price too and an uncertain create counts exactly what was billed
                    fake._charge("openai", body["prompt"], prices.image_price(prices.OPENAI, body["model"], body["quality"], w, h)[0])
                    if key:
                        fake.idempotent[key] = answer
                    return 200, answer, "openai", body["prompt"]
                if self.path.startswith("/gemini/"):
                    prompt = body["contents"][0]["parts"][0]["text"]
                    fake._charge("gemini", prompt, PRICE["gemini"])
                    answer = {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                                                    "data": base64.b64encode(png(prompt)).decode()}}]}}],
                              "usageMetadata": {"promptTokenCount": 0, "candidatesTokenCount": 1300}}
                    return 200, json.dumps(answer).encode(), "gemini", prompt
                if self.path.startswith("/replicate/"):
                    prompt = body["input"]["prompt"]
                    pid = f"p{len(fake.predictions) + 1}"
                    prediction = {"id": pid, "model": "black-forest-labs/flux-schnell", "status": "succeeded", "input": body["input"],
                                  "output": [f"{fake.url}/files/{pid}.png"], "metrics": {"predict_time": 0.1}}
                    fake.predictions[pid] = prediction
                    fake._charge("replicate", prompt, PRICE["replicate"])
                    return 201, json.dumps(prediction).encode(), "replicate", prompt
                prompt = body["messages"][0]["content"]
                fake._charge("chat", prompt, PRICE["chat"])
                answer = {"choices": [{"finish_reason": "stop", "message": {"images": [
                    {"image_url": {"url": "data:image/png;base64," + base64.b64encode(png(prompt)).decode()}}]}}],
                    "usage": {"cost": PRICE["chat"]}}
                return 200, json.dumps(answer).encode(), "chat", prompt

        def fake_latency() -> None:
            if fake.latency_s:
                time.sleep(fake.latency_s)

        return Handler
