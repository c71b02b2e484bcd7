"""A project's options (``options.json``): providers, candidates per shot, cost cap, resolution, encoder preset, CRF and the music bed.

Choices given once (``make``'s providers and cap, ``render``'s preset, CRF and music) are stored so that
every later verb on the project — ``status``, ``render``, ``imagegen``, ``cost`` — uses the same ones;
unset values fall back to the process settings (``STORYREEL_*``). Values arrive validated by the
facade's request models (:mod:`storyreel.api.requests`); this module only stores them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from storyreel.core.atomic import atomic_write_text
from storyreel.core.errors import InputError
from storyreel.store.files import ProjectPaths

FILE = "options.json"


class ProjectOptions(BaseModel):
    image_provider: str | None = Field(default=None, description="Image provider VENDOR:MODEL.")
    llm: str | None = Field(default=None, description="LLM of the prompt steps VENDOR:MODEL.")
    max_cost_usd: float | None = Field(default=None, ge=0, description="Cost cap in USD.")
    candidates: int | None = Field(default=None, ge=1, le=8, description="Candidate images per shot (best-of-N).")
    judge: str | None = Field(default=None, description="VLM judge of the candidates VENDOR:MODEL.")
    enhance: bool | None = Field(default=None, description="Two-agent enhancement of the image prompts.")
    resolution: str | None = Field(default=None, description="Output size: 1080p, 720p or 360p.")
    preset: str | None = Field(default=None, description="x264 preset.")
    crf: int | None = Field(default=None, ge=0, le=51, description="x264 constant rate factor.")
    music: str | None = Field(default=None, description="Music bed, relative to the project folder.")
    voice: str | None = Field(default=None, description="Narration provider (local, local:piper, local:espeak, VENDOR:MODEL).")
    voice_name: str | None = Field(default=None, max_length=120, description="The voice ID (vendor's, or a Piper voice).")
    voice_style: str | None = Field(default=None, max_length=500, description="How to speak, where the voice takes instructions.")
    speech_rate: int | None = Field(default=None, ge=80, le=400, description="Narration speed, words per minute.")
    clips: str | None = Field(default=None, description="Motion clips: local (Ken Burns) or an image-to-video VENDOR:MODEL.")
    attempts: int | None = Field(default=None, ge=1, le=4, description="Vendor clips per shot; the best-scored is used.")

    @classmethod
    def load(cls, paths: ProjectPaths) -> ProjectOptions:
        """The stored options (defaults when the file is absent). Raises :class:`InputError` when the
        file is not valid."""
        path = paths.options
        if not path.exists():
            return cls()
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"{FILE} is not valid: {exc}", field=FILE, hint="fix or delete the file") from exc

    def settings_overrides(self) -> dict:
        """The stored choices that override process settings."""
        chosen = {"image_provider": self.image_provider, "llm": self.llm, "max_cost_usd": self.max_cost_usd,
                  "image_candidates": self.candidates, "judge": self.judge, "enhance_prompts": self.enhance,
                  "resolution": self.resolution, "tts_provider": self.voice, "tts_voice": self.voice_name,
                  "tts_style": self.voice_style, "speech_rate_wpm": self.speech_rate,
                  "clips_provider": self.clips, "video_attempts": self.attempts}
        return {k: v for k, v in chosen.items() if v is not None}

    def music_path(self, paths: ProjectPaths) -> Path | None:
        return paths.root / self.music if self.music else None


def update_options(paths: ProjectPaths, *, music: Path | None = None, no_music: bool = False, **values: object) -> ProjectOptions:
    """Store the given option ``values`` (None = keep the stored one). ``music`` is copied into
    ``assets/`` so the project stays self-contained; ``no_music`` removes the bed. Writes only when
    something changed. A new ``voice`` without a ``voice_name`` forgets the stored voice name: a voice name
    belongs to the voice provider it was chosen for (an ElevenLabs voice ID means nothing to Piper)."""
    opts = ProjectOptions.load(paths)
    before = opts.model_dump()
    changes = {k: v for k, v in values.items() if v is not None}
    if changes.get("voice") not in (None, opts.voice) and "voice_name" not in changes:
        changes["voice_name"] = None
    if changes:
        opts = opts.model_copy(update=changes)  # voice_name=None is kept: it clears the stored name
    if music is not None:
        target = paths.root / "assets" / f"music{music.suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob("music.*"):
            old.unlink()
        shutil.copyfile(music, target)
        opts = opts.model_copy(update={"music": paths.rel(target)})
    if no_music:
        opts = opts.model_copy(update={"music": None})
    if opts.model_dump() != before or not (paths.options).exists():
        atomic_write_text(paths.options, opts.model_dump_json(indent=2, exclude_none=True) + "\n")
    return opts
