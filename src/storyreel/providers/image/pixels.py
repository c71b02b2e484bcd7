"""Pixel helpers every image adapter shares: decode what a vendor returned, fit it to the exact output
size, write it atomically; and the aspect-ratio string vendors ask for."""

from __future__ import annotations

import binascii
import io
import os
from math import gcd
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from storyreel.core.atomic import atomic_path
from storyreel.core.errors import MalformedResponse


def aspect_ratio(width: int, height: int) -> str:
    """``width:height`` reduced, e.g. 1920×1080 → ``16:9`` (the form Gemini, Replicate and OpenRouter take)."""
    g = gcd(width, height)
    return f"{width // g}:{height // g}"


def decode_base64(text: object, what: str) -> bytes:
    """Strict base64 → bytes (``binascii`` strict mode: ≈ 30 % faster than ``b64decode(validate=True)``'s
    regular expression, which held the GIL ≈ 7 ms per 1.7 MB image). Raises :class:`MalformedResponse`
    naming ``what`` when it is not base64."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)  # type: ignore[arg-type]
    except (TypeError, ValueError, binascii.Error):
        raise MalformedResponse(f"{what} is not valid base64") from None


def fit_image(data: bytes, width: int, height: int) -> Image.Image:
    """Decode image bytes and cover-fit them to exactly ``width × height`` (Lanczos, centre crop).
    Raises :class:`MalformedResponse` if the bytes are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return ImageOps.fit(im.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise MalformedResponse(f"the returned image cannot be decoded: {exc}") from None


REFERENCE_SIDE = 1024
"""Longest side of a reference image as sent to a vendor (JPEG, quality 90)."""


def reference_jpeg(path: str | Path) -> bytes:
    """A reference image as sent: RGB, longest side at most :data:`REFERENCE_SIDE`, JPEG quality 90."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    rgb.thumbnail((REFERENCE_SIDE, REFERENCE_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def reference_placeholder(sha256: str) -> str:
    """What a payload holds in place of a reference image's bytes (the call sends the bytes)."""
    return f"<reference image {sha256}>"


def save_png(image: Image.Image, out_path: Path) -> None:
    """Write ``image`` as PNG atomically (fast zlib level 3: these are intermediate frames)."""
    with atomic_path(out_path) as tmp:
        image.save(tmp, format="PNG", compress_level=3)


def save_as_received(data: bytes, out_path: Path, stored: Path | None = None) -> tuple[int, int]:
    """Write a vendor's image without resampling and return its ``(width, height)``: PNG bytes as they are
    (checked first: the header, the decompression-bomb limit and every chunk's CRC, without inflating the
    pixels), any other format (JPEG, WebP) decoded and written as PNG at its own size. A best-of-N
    candidate is kept so — only the one the ``select`` stage picks is fitted to the frame
    (:func:`save_fitted`), so N images cost one fit. ``stored``: a file already holding exactly ``data``
    (the received journal's): the PNG is hard-linked from it instead of written a second time (copied
    where the file system has no links). Raises :class:`MalformedResponse` if the bytes are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            size = im.size
            if im.format == "PNG":
                im.verify()
                with atomic_path(out_path) as tmp:
                    if stored is None or not _link(stored, tmp):
                        tmp.write_bytes(data)
                return size
            im.load()
            save_png(im.convert("RGB"), out_path)
            return size
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MalformedResponse(f"the returned image cannot be decoded: {exc}") from None


def _link(source: Path, tmp: Path) -> bool:
    """Replace the (empty) temp file ``tmp`` by a hard link to ``source``; False when linking fails."""
    try:
        tmp.unlink()
        os.link(source, tmp)
        return True
    except OSError:
        return False


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image file from its header (nothing is decoded)."""
    with Image.open(path) as im:
        return im.size


def save_fitted(data: bytes, width: int, height: int, out_path: Path) -> None:
    """Decode, cover-fit (centre crop) to exactly ``width × height`` and write the PNG atomically.

    OpenCV decodes and resizes (bicubic up, area down; both release the GIL, so a best-of-N batch's images
    finish side by side) and Pillow writes the PNG (zlib level 3; OpenCV's encoder is 2× slower): ≈ 30 ms
    per 1080p image against ≈ 65 ms through Pillow alone. Bytes OpenCV cannot read go through
    :func:`fit_image` (Pillow), which names what is wrong. Raises :class:`MalformedResponse` if the bytes are
    not an image."""
    import cv2
    import numpy as np

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if bgr is None:
        save_png(fit_image(data, width, height), out_path)
        return
    h, w = bgr.shape[:2]
    scale = max(width / w, height / h)
    sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
    resized = cv2.resize(bgr, (sw, sh), interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    rgb = cv2.cvtColor(resized[y0:y0 + height, x0:x0 + width], cv2.COLOR_BGR2RGB)
    save_png(Image.fromarray(rgb), out_path)
