"""What the image adapters share: a vendor's image kept as received (checked, linked from the journal,
converted when not PNG) and fitted to the frame only when chosen."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from storyreel.providers.http import MalformedResponse
from storyreel.providers.image.pixels import decode_base64, image_size, save_as_received, save_fitted


def _png(w: int = 320, h: int = 180) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((w, h), 30).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def test_a_png_is_kept_byte_for_byte_and_linked_from_the_journal(tmp_path):
    data = _png()
    stored = tmp_path / "received" / "key.bin"
    stored.parent.mkdir()
    stored.write_bytes(data)
    out = tmp_path / "images" / "s1" / "1.png"
    assert save_as_received(data, out, stored=stored) == (320, 180)
    assert out.read_bytes() == data and os.stat(out).st_ino == os.stat(stored).st_ino  # one inode, no second write
    stored.unlink()  # the journal entry is removed once the run is recorded: the candidate stays
    assert out.read_bytes() == data
    # no journal file (or it vanished): written from the bytes
    other = tmp_path / "2.png"
    assert save_as_received(data, other, stored=tmp_path / "missing.bin") == (320, 180) and other.read_bytes() == data
    assert not list(tmp_path.rglob("*.sr-tmp*")), "no temp file left behind"


def test_other_formats_become_png_at_their_size_and_broken_bytes_are_refused(tmp_path):
    buf = io.BytesIO()
    Image.effect_noise((200, 300), 30).convert("RGB").save(buf, "WEBP")
    assert save_as_received(buf.getvalue(), tmp_path / "a.png") == (200, 300)
    with Image.open(tmp_path / "a.png") as im:
        assert im.format == "PNG" and im.size == (200, 300)
    data = _png()
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0xFF  # a flipped byte inside the image data: the chunk's CRC no longer matches
    for bad in (data[: len(data) // 2], bytes(corrupt), b"not an image"):
        with pytest.raises(MalformedResponse, match="cannot be decoded"):
            save_as_received(bad, tmp_path / "b.png")
        assert not (tmp_path / "b.png").exists()


def test_the_chosen_image_is_cover_fitted_to_the_frame(tmp_path):
    save_fitted(_png(1536, 1024), 1920, 1080, tmp_path / "f.png")  # 3:2 into 16:9: scaled to the width, centre-cropped
    assert image_size(tmp_path / "f.png") == (1920, 1080)


def test_base64_is_strict():
    assert decode_base64("aGVsbG8=", "x") == b"hello"
    for bad in ("aGVsbG8", "aGVs bG8=", "aGVsbG8=\n", "!!!!", None):
        with pytest.raises(MalformedResponse, match="x is not valid base64"):
            decode_base64(bad, "x")
