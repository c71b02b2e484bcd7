"""A vendor from another package: one module and one entry point, and the image stage uses it."""

from __future__ import annotations

import importlib
import json

import pytest
from PIL import Image

from storyreel.providers import registry
from storyreel.providers.llm.fake import FakeLlm
from storyreel.stages.pipeline import IMAGE_STAGES
from storyreel.store.ledger import CostLedger

MODULE = '''
import io

from PIL import Image

from storyreel.providers.base import ImageProvider, Received


class AcmeImages(ImageProvider):
    vendor = "acme"
    code_version = "acme-images/1"

    def estimate(self, request):
        return 0.02

    def fetch(self, request, *, jobs=None, key=None) -> Received:
        buf = io.BytesIO()
        Image.new("RGB", (64, 36), (200, 10, 10)).save(buf, "PNG")
        return Received(data=buf.getvalue(), cost_usd=0.02)
'''


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


def test_an_entry_point_adds_an_image_vendor_the_stage_routes_to(acme, project):
    assert "acme" in registry.vendors("image")
    assert registry.provider_class("image", "acme").__module__ == "acme_storyreel"
    project.settings = project.settings.model_copy(update={"image_provider": "acme:studio-1"})
    ctx = project.ctx(llm=FakeLlm())
    assert ctx.image_provider.provider_id == "acme:studio-1" and ctx.image_provider.paid
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
