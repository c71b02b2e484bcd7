"""Pixel helpers every image adapter shares: decode what a vendor returned, fit it to the exact output
size, write it atomically; and the aspect-ratio string vendors ask for."""

from __future__ import annotations

import base64
import binascii
import io
from math import gcd
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from storyreel.core.atomic import atomic_path
from storyreel.providers.http import MalformedResponse


def aspect_ratio(width: int, height: int) -> str:
    """``width:height`` reduced, e.g. 1920×1080 → ``16:9`` (the form Gemini, Replicate and OpenRouter take)."""
    g = gcd(width, height)
    return f"{width // g}:{height // g}"


def decode_base64(text: object, what: str) -> bytes:
    """Strict base64 → bytes. Raises :class:`MalformedResponse` naming ``what`` when it is not base64."""
    try:
        return base64.b64decode(text, validate=True)  # type: ignore[arg-type]
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


def save_fitted(data: bytes, width: int, height: int, out_path: Path) -> None:
    """:func:`fit_image` then :func:`save_png`."""
    save_png(fit_image(data, width, height), out_path)
