"""``doctor``: is this machine ready to make videos, and if not, what to do (issue 29 item 5). Each check says what it
found or what is missing and how to fix it: ffmpeg and the H.264 encoder, the fonts, the voice, the database (and its
migrations), the job queue, the workspace folder (writable, free space), and every provider the settings name — its
key and base URL, and with ``online`` the vendor's free preflight call (no paid request is ever sent)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from storyreel.core.errors import ConfigError, InputError
from storyreel.core.settings import Settings
from storyreel.store.db import describe_database
from storyreel.store.storage import storage_for

LOW_DISK_BYTES = 2 * 1024**3
"""Below this much free space in the workspace a warning: a 10-minute 1080p project with its build cache takes ≈ 1 GB."""


class Check(BaseModel):
    """One check: ``ok``, what was found (``detail``), and for a failure or a warning the ``fix``."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    warning: bool = Field(default=False, description="Passed, with something worth knowing (e.g. little free disk).")


class DoctorReport(BaseModel):
    """Every check in order; ``ok`` when none failed."""

    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checks": [c.model_dump() for c in self.checks]}


def doctor(workspace: Path | None = None, *, online: bool = True,
           extra: Sequence[tuple[str, Callable[[Settings], str]]] = ()) -> DoctorReport:
    """Run every check against the workspace's settings (``online``: the providers' free preflight calls too). Never
    raises for what it checks: a failure is a check that says so. ``extra``: (name, probe) checks of the floors above
    the facade, run after the database — the CLI adds the job queue's (``storyreel.jobs.queue.describe_queue``); a
    name in :data:`FIXES` gets that fix when its probe fails."""
    settings = Settings(workspace=workspace) if workspace is not None else Settings()
    checks: list[Check] = []

    def run(name: str, probe: Callable[[], Check | str]) -> None:
        try:
            found = probe()
            checks.append(found if isinstance(found, Check) else Check(name=name, ok=True, detail=found))
        except ConfigError as exc:
            checks.append(Check(name=name, ok=False, detail=exc.message, fix=exc.hint))
        except InputError as exc:
            checks.append(Check(name=name, ok=False, detail=exc.message, fix=exc.hint or f"check {exc.field}"))
        except Exception as exc:  # noqa: BLE001 - a doctor reports what is wrong, whatever raised it (a driver's error too)
            checks.append(Check(name=name, ok=False, detail=f"{type(exc).__name__}: {str(exc)[:300]}", fix=FIXES.get(name)))

    run("ffmpeg", _ffmpeg)
    run("video encoder", lambda: _encoder(settings))
    run("fonts", _fonts)
    run("workspace", lambda: _workspace(settings))
    run("database", lambda: describe_database(settings))
    if settings.storage_url:
        run("artifact storage", lambda: storage_for(settings.storage_url).check())
    for name, probe in extra:
        run(name, lambda p=probe: p(settings))
    for name, modality, provider_id in _providers(settings):
        run(name, lambda m=modality, p=provider_id, n=name: _provider(settings, n, m, p, online))
    return DoctorReport(checks=checks)


FIXES = {
    "ffmpeg": "pip install imageio-ffmpeg (storyreel's dependency ships ffmpeg), or put ffmpeg on PATH",
    "video encoder": "set STORYREEL_VIDEO_ENCODER=libx264 (always there) or auto",
    "fonts": "reinstall matplotlib (storyreel draws text with its DejaVu fonts): pip install --force-reinstall matplotlib",
    "workspace": "set STORYREEL_WORKSPACE to a folder this user can write, on a disk with room",
    "database": "check STORYREEL_DATABASE_URL (postgresql+psycopg://user@host:5432/db) and that the server is up",
    "artifact storage": "check STORYREEL_STORAGE_URL (s3://bucket/prefix), the AWS_* credentials and AWS_ENDPOINT_URL, "
                        "and that the bucket exists",
    "job queue": "check STORYREEL_QUEUE_URL (redis://host:6379/0) and that Redis is up, or unset it for the workspace's queue",
}


def _ffmpeg() -> str:
    from storyreel.media.ffmpeg import ffmpeg_exe

    exe = ffmpeg_exe()
    first = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20, check=True).stdout.splitlines()[0]
    return f"{first.split(' Copyright')[0]} ({exe})"


def _encoder(settings: Settings) -> str:
    from storyreel.media.ffmpeg import choose_encoder

    return f"H.264 by {choose_encoder(settings.video_encoder, settings.workspace)} (setting: {settings.video_encoder})"


def _fonts() -> str:
    from storyreel.media.typography import FONT_FILES, font, font_dir

    missing = [name for name in FONT_FILES.values() if not (font_dir() / name).is_file()]
    if missing:
        raise OSError(f"missing in {font_dir()}: {', '.join(missing)}")
    for kind in FONT_FILES:
        font(kind, 24)
    return f"{len(FONT_FILES)} DejaVu faces in {font_dir()}"


def _workspace(settings: Settings) -> Check:
    root = Path(settings.workspace)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
        pass
    free = shutil.disk_usage(root).free
    detail = f"{root} is writable; {free / 1024**3:.1f} GB free"
    if free < LOW_DISK_BYTES:
        return Check(name="workspace", ok=True, warning=True, detail=detail,
                     fix="free some disk, or lower STORYREEL_CACHE_MB (the build cache keeps earlier versions' files)")
    return Check(name="workspace", ok=True, detail=detail)


def _providers(settings: Settings) -> list[tuple[str, str, str]]:
    """(check name, modality, provider ID) of every provider the settings name."""
    from storyreel.providers.tts.local import for_language

    found = [("images", "image", settings.image_provider), ("planner and prompts", "llm", settings.llm)]
    if settings.tts_provider in ("local", "local:auto"):  # the offline default: Piper for English, espeak-ng for the rest
        found += [("voice (English)", "tts", for_language(settings.tts_provider, "en")), ("voice (other languages)", "tts", "local:espeak")]
    else:
        found.append(("voice", "tts", settings.tts_provider))
    if settings.image_fallback:
        found.append(("images (fallback)", "image", settings.image_fallback))
    if settings.clips_provider != "local":
        found.append(("motion clips", "video", settings.clips_provider))
    if settings.judge:
        found.append(("image judge", "judge", settings.judge))
    return found


def _provider(settings: Settings, name: str, modality: str, provider_id: str, online: bool) -> Check:
    from storyreel.providers.registry import resolve

    provider = resolve(modality, provider_id, settings, overridable=False)
    paid = bool(getattr(provider, "paid", False))
    asked = online and paid
    provider.preflight(online=asked)
    how = "key and address checked, the vendor answered its free check" if asked else \
        "key and address checked (offline: no call made)" if paid else "offline engine, ready"
    return Check(name=name, ok=True, detail=f"{provider_id}: {how}")
