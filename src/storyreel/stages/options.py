"""A project's options (``options.json``): providers, cost cap, encoder preset, CRF and the music bed.

Options given on the command line (``make --image-provider/--llm/--max-cost``, ``render --preset/--crf/
--music``) are stored so that every later command on the project — ``status``, ``render``, ``imagegen``,
``cost`` — uses the same choices; unset values fall back to the process settings (``STORYREEL_*``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from storyreel.core.errors import InputError
from storyreel.store.files import ProjectPaths, atomic_write_text

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
MUSIC_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".m4a", ".aac", ".opus")


FILE = "options.json"


class ProjectOptions(BaseModel):
    image_provider: str | None = Field(default=None, description="Image provider VENDOR:MODEL.")
    llm: str | None = Field(default=None, description="LLM of the prompt steps VENDOR:MODEL.")
    max_cost_usd: float | None = Field(default=None, ge=0, description="Cost cap in USD.")
    preset: str | None = Field(default=None, description="x264 preset (see X264_PRESETS).")
    crf: int | None = Field(default=None, ge=0, le=51, description="x264 constant rate factor.")
    music: str | None = Field(default=None, description="Music bed, relative to the project folder.")

    @classmethod
    def load(cls, paths: ProjectPaths) -> ProjectOptions:
        path = paths.root / FILE
        if not path.exists():
            return cls()
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"{FILE} is not valid: {exc}", field=FILE, hint="fix or delete the file") from exc

    def settings_overrides(self) -> dict:
        """The stored choices that override process settings."""
        return {k: v for k, v in {"image_provider": self.image_provider, "llm": self.llm, "max_cost_usd": self.max_cost_usd}.items() if v is not None}

    def music_path(self, paths: ProjectPaths) -> Path | None:
        return paths.root / self.music if self.music else None


def update_options(
    paths: ProjectPaths, *, preset: str | None = None, crf: int | None = None, music: Path | None = None,
    no_music: bool = False, image_provider: str | None = None, llm: str | None = None, max_cost_usd: float | None = None,
) -> ProjectOptions:
    """Validate and store the options given (None = keep). The music file is copied into ``assets/`` so
    the project stays self-contained. Raises :class:`InputError` (exit 2) naming the option, before writing."""
    from storyreel.providers.registry import resolve

    opts = ProjectOptions.load(paths)
    if image_provider is not None:
        resolve("image", image_provider)  # raises InputError for an unknown vendor
        opts.image_provider = image_provider
    if llm is not None:
        resolve("llm", llm)
        opts.llm = llm
    if max_cost_usd is not None:
        if max_cost_usd < 0:
            raise InputError(f"{max_cost_usd} is negative", field="--max-cost", hint="give a cap in USD, e.g. 5")
        opts.max_cost_usd = max_cost_usd
    if preset is not None:
        if preset not in X264_PRESETS:
            raise InputError(f"{preset!r} is not an x264 preset", field="--preset", hint=f"use one of {', '.join(X264_PRESETS)}")
        opts.preset = preset
    if crf is not None:
        if not 0 <= crf <= 51:
            raise InputError(f"{crf} is out of range", field="--crf", hint="use 0 (lossless) … 51; 18–23 is typical")
        opts.crf = crf
    if music is not None and no_music:
        raise InputError("--music and --no-music contradict each other", field="--music", hint="pass one of them")
    if music is not None:
        if not music.is_file():
            raise InputError(f"no such file {music}", field="--music", hint="pass an audio file (mp3, wav, flac, ogg, m4a)")
        if music.suffix.lower() not in MUSIC_SUFFIXES:
            raise InputError(f"{music.name} is not a supported audio file", field="--music", hint=f"use {', '.join(MUSIC_SUFFIXES)}")
        _check_audio(music)
        target = paths.root / "assets" / f"music{music.suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob("music.*"):
            old.unlink()
        shutil.copyfile(music, target)
        opts.music = paths.rel(target)
    if no_music:
        opts.music = None
    atomic_write_text(paths.root / FILE, opts.model_dump_json(indent=2, exclude_none=True) + "\n")
    return opts


def _check_audio(path: Path) -> None:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputError(f"{path.name} has no audio stream", field="--music", hint="pass an audio file")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - PyAV's error family
        raise InputError(f"{path.name} cannot be decoded ({exc})", field="--music", hint="pass a valid audio file") from exc
