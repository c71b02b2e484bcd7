"""A vendor from another package: one module and one entry point, and the image stage uses it. Its connection
declares its default base URL, its key variable and its prices — read from the environment and its own price
table exactly as a built-in vendor's are."""

from __future__ import annotations

import importlib
import json

import pytest
from PIL import Image

from storyreel.core.errors import ConfigError
from storyreel.providers import registry
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.ledger import CostLedger

MODULE = '''
import base64

from storyreel.providers.base import HttpImageProvider, Received
from storyreel.providers.connection import Connection
from storyreel.providers.prices import ImagePrice, PriceTable, image_price

PRICES = PriceTable(images=(ImagePrice("studio", "auto", (1024, 1024), 0.02, as_of="2026-12-01", source="acme.example/pricing"),))


class AcmeImages(HttpImageProvider):
    vendor = "acme"
    code_version = "acme-images/1"
    connection = Connection("acme", "https://api.acme.example/v1", ("ACME_API_KEY",), prices=PRICES)

    def payload(self, request):
        return {"model": self.model, "prompt": request.prompt}

    def estimate(self, request):
        return image_price(self.prices, self.model, "auto", 1024, 1024)[0]

    def fetch(self, request, *, jobs=None, key=None) -> Received:
        body = self.create("/images", self.payload(request), jobs=jobs, key=key)
        return Received(data=base64.b64decode(body["image"]), cost_usd=self.estimate(request))
'''


def _red_png() -> str:
    import base64
    import io

    buf = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 10, 10)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def acme(tmp_path, monkeypatch):
    site = tmp_path / "site"
    dist = site / "acme_storyreel-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "acme_storyreel.py").write_text(MODULE)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-storyreel\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[storyreel.providers]\nimage:acme = acme_storyreel:AcmeImages\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setattr(registry, "_classes", {})
    yield
    importlib.invalidate_caches()


def test_an_entry_point_adds_an_image_vendor_the_stage_routes_to(acme, project, httpserver, monkeypatch):
    assert "acme" in registry.vendors("image")
    assert registry.provider_class("image", "acme").__module__ == "acme_storyreel"
    project.settings = project.settings.model_copy(update={"image_provider": "acme:studio-1"})
    monkeypatch.delenv("ACME_API_KEY", raising=False)
    monkeypatch.setenv("STORYREEL_ACME_BASE_URL", httpserver.url_for("/v1"))
    with pytest.raises(ConfigError, match="ACME_API_KEY"):  # its key variable, named like a built-in vendor's
        project.ctx(llm=FakeLlm()).preflight()
    monkeypatch.setenv("ACME_API_KEY", "acme-secret")
    httpserver.expect_request("/v1/images", method="POST", headers={"Authorization": "Bearer acme-secret"}).respond_with_json(
        {"image": _red_png()})
    ctx = project.ctx(llm=FakeLlm())
    assert ctx.image_provider.provider_id == "acme:studio-1" and ctx.image_provider.paid and ctx.image_provider.needs_key
    ctx.preflight()
    project.run(list(IMAGE_STAGES), ctx)
    manifest = json.loads((ctx.paths.images / "manifest.json").read_text())
    made = [e for e in manifest["images"] if e["provider"] == "acme:studio-1"]
    assert len(made) == 3 and all(e["status"] == "generated" for e in made)
    with Image.open(ctx.paths.images / f"{made[0]['shot_id']}.png") as im:
        assert im.getpixel((10, 10)) == (200, 10, 10)
    assert CostLedger(project.store.sessions, "hare", 1.0).summary().committed_usd == pytest.approx(0.06)


def test_an_unknown_vendor_lists_the_entry_point_ones_too(acme):
    from storyreel.core.errors import InputError

    with pytest.raises(InputError, match="acme:…"):
        registry.resolve("image", "nope:x")
