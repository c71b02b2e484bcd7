"""Settings from the environment (``STORYREEL_*``), a ``.env`` file and ``storyreel.toml``.

Precedence (highest first): explicit arguments (CLI flags), environment, ``.env``, ``storyreel.toml``
in the current directory, defaults.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from storyreel.core.locations import default_workspace
from storyreel.core.vocabulary import Resolution


class Settings(BaseSettings):
    """Process-wide settings. Every model/provider name is a setting, never a constant."""

    model_config = SettingsConfigDict(
        env_prefix="STORYREEL_", env_file=".env", extra="ignore", toml_file="storyreel.toml", populate_by_name=True
    )

    workspace: Path = Field(default_factory=default_workspace, description="Folder holding projects and the database.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file storyreel.db in the workspace."
    )
    queue_url: str | None = Field(
        default=None,
        description="Job queue: redis://host:6379/0 (RedisHuey, for workers on several machines); default SqliteHuey in the workspace.",
    )
    storage_url: str | None = Field(
        default=None,
        description="Shared artifact storage: s3://bucket/prefix (credentials and endpoint from the AWS_* variables, "
                    "AWS_ENDPOINT_URL included), so workers with no shared disk share every project's files; default: "
                    "the workspace folder alone.",
    )
    job_lease_s: float = Field(default=30.0, gt=0, description="A running job whose worker has not beaten for this long is interrupted.")
    job_max_attempts: int = Field(
        default=3, ge=1, le=20,
        description="Workers a job may be started on: an interrupted job (its worker died) is queued again until then, then failed.",
    )
    job_retry_backoff_s: float = Field(
        default=2.0, ge=0, description="Wait before an interrupted job is delivered again, seconds; doubled at each attempt.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signing key of the dashboard's CSRF tokens; default a random key kept in the workspace.",
    )
    cookie_secure: bool = Field(default=False, description="Mark the dashboard's cookies Secure (behind an HTTPS proxy).")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses (or networks) of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto the dashboard "
        "believes; none by default, so no caller can pick the address its login attempts are counted against.",
    )
    dashboard_image_providers: list[str] = Field(
        default=["local:cards", "openai:gpt-image-2", "gemini:gemini-2.5-flash-image", "replicate:black-forest-labs/flux-schnell",
                 "together:black-forest-labs/FLUX.1-schnell", "openrouter:google/gemini-2.5-flash-image"],
        description="Image providers the dashboard offers (those whose key is configured are shown).",
    )
    story_llm: str = Field(default="local:story", description="Story mode's writer (--kind story): local:story offline, or an "
                           "LLM VENDOR:MODEL for every step (seed 003: the strongest structured-output model).")
    story_step_llms: dict[str, str] = Field(default_factory=dict, description="Per-step LLM overrides, e.g. "
                                            '{"stage_shot": "openai:gpt-5-mini"} (steps: lore, narrative, scenes, components, stage_shot, shots).')
    story_scene_options: bool = Field(default=False, description="Story mode: the scenes step answers three scene lists to pick "
                                      "from (`storyreel pick PROJECT scenes N`), like lore and narrative.")
    story_thinking: dict[str, str | bool] = Field(
        default_factory=lambda: {"lore": "medium", "narrative": "medium", "scenes": "medium", "components": False, "stage_shot": False,
                                 "shots": False},
        description="Reasoning effort per story step (seed 003's answers: medium for lore, narrative and scenes; none for the rest).")
    dashboard_llms: list[str] = Field(
        default=["local:direct", "openai:gpt-5-mini", "openrouter:openai/gpt-5-mini", "google:gemini-2.5-flash"],
        description="LLMs the dashboard offers for image prompts (those whose key is configured are shown).",
    )
    dashboard_voices: list[str] = Field(
        default=["local", "local:espeak", "elevenlabs:eleven_multilingual_v2", "elevenlabs:eleven_flash_v2_5",
                 "google:gemini-3.8-flash-tts", "google:gemini-3.8-flash-lite-tts"],
        description="Voices the dashboard offers (those whose key is configured are shown).",
    )
    dashboard_clips: list[str] = Field(
        default=["local", "replicate:kwaivgi/kling-v3-video", "replicate:bytedance/seedance-2.0-fast", "runway:gen4_turbo",
                 "fal:fal-ai/kling-video/v2.5-turbo/pro/image-to-video"],
        description="Motion clip providers the dashboard offers (those whose key is configured are shown).",
    )
    max_upload_bytes: int = Field(default=2_000_000, ge=1000, description="Largest input file the dashboard accepts.")
    planner: str = Field(default="local:planner", description="Planner provider (vendor:model).")
    image_provider: str = Field(default="local:cards", description="Image provider (vendor:model).")
    image_fallback: str | None = Field(default=None, description="Image provider asked when the image provider fails a shot, a "
                                       "reference or a stage picture (seed 003: one image model with a fallback model), e.g. "
                                       "gemini:gemini-3-pro-image. Never after a call whose answer was lost (it may have been made).")
    llm: str = Field(default="local:direct", description="LLM of the prompt steps (vendor:model); local:direct renders templates without a model.")
    tts_provider: str = Field(default="local", description="Narration provider (vendor:model): local (a neural Piper "
                              "voice for English, espeak-ng for other languages), local:piper or local:espeak.")
    environ: dict[str, str] = Field(
        default_factory=dict,
        description="Vendor variables (API keys, STORYREEL_<VENDOR>_BASE_URL) given explicitly, e.g. by an embedder: read "
        "before the process environment (see Settings.variable).",
    )
    keys_file: Path | None = Field(
        default=None, description="A file of vendor variables (KEY=value lines, .env syntax), read after the environment and .env.",
    )
    allow_network: bool = Field(default=True, description="False refuses every network call (tests set 0).")
    workers: int = Field(default=2, ge=1, le=64, description="Parallel render workers (x264 threads × workers ≤ cores).")
    resolution: Resolution = Field(default="1080p", description="Output size by its shorter side: 1080p (delivery), 720p, 360p (a fast draft).")
    x264_preset: str = Field(default="veryfast", description="libx264 preset of every segment.")
    crf: int = Field(default=20, ge=0, le=51, description="libx264 constant rate factor (quality value for hardware encoders).")
    video_encoder: str = Field(
        default="auto",
        description="H.264 encoder: auto (first working hardware encoder, else libx264), libx264, h264_nvenc, h264_qsv, h264_videotoolbox.",
    )
    cache_mb: int = Field(
        default=4096, ge=0,
        description="Build cache per project, MB: outputs of earlier versions kept so an undo or a restored version is "
                    "not made again (files the project still uses cost nothing extra; the oldest others are evicted).",
    )
    local_copies_mb: int = Field(
        default=20480, ge=0,
        description="With shared storage (STORYREEL_STORAGE_URL): the most a worker keeps of projects' local copies, MB; "
                    "the least recently used copies whose every file is in the bucket are removed after each job.",
    )
    max_cost_usd: float = Field(default=10.0, ge=0, description="Cost cap per project in USD (paid provider calls).")
    image_poll_s: float = Field(default=1.0, gt=0, description="Polling interval of asynchronous image APIs (Replicate), seconds.")
    image_quality: str = Field(default="medium", description="Image quality asked of the provider (gpt-image-2: low | medium | high).")
    image_long_side: int = Field(default=1536, ge=256, le=3840, description="Long side in pixels asked of the provider (rounded to 16).")
    image_timeout_s: float = Field(default=120.0, gt=0, description="Timeout of one image request, seconds.")
    image_candidates: int = Field(default=1, ge=1, le=8, description="Candidate images per shot; the select stage scores them and picks the best (best-of-N).")
    enhance_prompts: bool = Field(default=False, description="Put the two-agent prompt enhancement in front of the image provider.")
    enhance_threshold: float = Field(default=85.0, ge=0, le=100, description="Enhancement stops once the critic's overall score reaches this.")
    enhance_max_iterations: int = Field(default=3, ge=1, le=10, description="Director/critic rounds at most per prompt.")
    scorer: str = Field(default="local:technical", description="Image scorer of the select stage (vendor:model).")
    judge: str | None = Field(default=None, description="VLM judge of the select stage (vendor:model of a vision-capable LLM, e.g. openai:gpt-5-mini); None: no judge.")
    image_batch: bool = Field(default=True, description="Ask a vendor with a native batch (OpenAI n) for a shot's candidates in one call.")
    image_concurrency: int = Field(default=4, ge=1, le=64, description="Image calls in flight per provider.")
    image_rpm: int | None = Field(default=None, ge=1, description="Image requests per minute per provider (None: unlimited).")
    http_attempts: int = Field(default=4, ge=1, le=10, description="Attempts per provider call (429/5xx/timeouts are retried).")
    http_backoff_s: float = Field(default=1.0, ge=0, description="First retry wait in seconds (exponential, jittered, capped at 30 s).")
    clips_provider: str = Field(default="local", description="Motion clips: local (Ken Burns moves on the stills) or an "
                                "image-to-video vendor VENDOR:MODEL (e.g. replicate:kwaivgi/kling-v3-video) for generated shots.")
    video_attempts: int = Field(default=1, ge=1, le=4, description="Clips asked of the vendor per shot, each with its own seed; "
                                "the best by the offline clip scores is used (a person's pick wins).")
    end_frames: bool = Field(default=True, description="For video models that take an end frame: draw one per shot from its end-state "
                             "description (with the shot's image as a reference where the image provider takes one) and send it.")
    grade_clips: bool = Field(default=True, description="Colour-match each vendor clip to its shot's still (Reinhard transfer in "
                              "L*a*b*, media/grade.py).")
    video_timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one HTTP request to a video vendor, seconds.")
    video_poll_s: float = Field(default=5.0, gt=0, description="Polling interval of a video vendor's job, seconds.")
    video_deadline_s: float = Field(default=1200.0, gt=0, description="Longest wait for one video clip; then the vendor's job "
                                    "is cancelled and the shot fails.")
    speech_rate_wpm: int = Field(default=165, ge=80, le=400, description="Narration speed, words per minute.")
    tts_voice: str | None = Field(default=None, max_length=120, description="The voice: a vendor's voice ID or a Piper voice "
                                  "(default: the storyboard's, else the provider's for the language).")
    tts_style: str | None = Field(default=None, max_length=500, description="How to speak, for voices that take "
                                  "instructions (e.g. 'warm, unhurried documentary narrator').")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``STORYREEL_TRUSTED_PROXIES=10.0.0.5, 10.0.1.0/24`` as well as a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    def variable(self, name: str) -> str | None:
        """A vendor's variable (an API key such as ``OPENAI_API_KEY``, a base URL such as
        ``STORYREEL_OPENAI_BASE_URL``): from :attr:`environ`, else the process environment, else ``.env`` in the
        current directory, else :attr:`keys_file`; None (or empty) when none sets it. Vendors declare which
        variables they read (:class:`storyreel.providers.connection.Connection`), so a vendor added by entry
        point is configured exactly like a built-in one."""
        for source in (self.environ, os.environ, _dotenv(Path(".env")), _dotenv(self.keys_file)):
            value = source.get(name)
            if value:
                return value
        return None

    @classmethod
    def env_names(cls) -> list[str]:
        """Every environment variable the settings read: ``STORYREEL_<FIELD>`` (vendors' variables are read
        when a vendor is used: :meth:`variable`)."""
        return sorted(f"STORYREEL_{name.upper()}" for name in cls.model_fields)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls))


def _dotenv(path: Path | None) -> dict[str, str]:
    """The variables of a ``.env``-syntax file (empty when there is none), parsed once per version of the file."""
    if path is None:
        return {}
    try:
        st = path.stat()
    except OSError:
        return {}
    return _parsed_dotenv(str(path.resolve()), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _parsed_dotenv(path: str, mtime_ns: int, size: int) -> dict[str, str]:
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}
