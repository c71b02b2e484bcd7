"""``storyreel.providers.override``: injected instances win for their modality, nest, and are undone."""

from __future__ import annotations

import threading

from storyreel.providers import override, resolve
from storyreel.providers.image.fake import FakeImages
from storyreel.providers.llm.fake import FakeLlm


def test_override_replaces_the_resolved_provider_and_restores_it():
    fake, inner = FakeImages(), FakeImages("inner")
    assert resolve("image", "local:cards").provider_id == "local:cards"
    with override(image=fake, llm=FakeLlm()):
        assert resolve("image", "openai:gpt-image-2") is fake
        assert resolve("image", "local:cards", overridable=False).provider_id == "local:cards"
        with override(image=inner):
            assert resolve("image", "local:cards") is inner
        assert resolve("image", "local:cards") is fake
        seen = []
        t = threading.Thread(target=lambda: seen.append(resolve("image", "local:cards")))
        t.start()
        t.join()
        assert seen == [fake]  # the executor's worker threads see it too
    assert resolve("image", "local:cards").provider_id == "local:cards"
    assert resolve("llm", "local:direct").provider_id == "local:direct"


def test_override_is_undone_when_the_block_raises():
    fake = FakeImages()
    try:
        with override(image=fake):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert resolve("image", "local:cards") is not fake


def test_fakes_keep_history_and_play_their_queue(tmp_path):
    from storyreel.providers.http import ProviderRejected

    from .test_openai_images import request

    fake = FakeImages(price_usd=0.03).queue((1, 2, 3), ProviderRejected("no"))
    first = fake.generate(request(), tmp_path / "a.png")
    assert first.cost_usd == 0.03
    try:
        fake.generate(request(), tmp_path / "b.png")
        raise AssertionError("the queued rejection was not raised")
    except ProviderRejected:
        pass
    fake.generate(request(), tmp_path / "c.png")
    assert [r.shot_id for r in fake.history] == ["ch02-s01"] * 3
    assert not (tmp_path / "b.png").exists() and (tmp_path / "c.png").exists()
