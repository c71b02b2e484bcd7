"""Settings from the environment (``STORYREEL_*``), a ``.env`` file and ``storyreel.toml``.

Precedence (highest first): explicit arguments (CLI flags), environment, ``.env``, ``storyreel.toml``
in the current directory, defaults.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def default_workspace() -> Path:
    """Per-user data directory, e.g. ``~/.local/share/storyreel`` on Linux."""
    return user_data_path("storyreel", appauthor=False)


class Settings(BaseSettings):
    """Process-wide settings. Every model/provider name is a setting, never a constant."""

    model_config = SettingsConfigDict(
        env_prefix="STORYREEL_", env_file=".env", extra="ignore", toml_file="storyreel.toml"
    )

    workspace: Path = Field(default_factory=default_workspace, description="Folder holding projects and the database.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file storyreel.db in the workspace."
    )
    planner: str = Field(default="local:planner", description="Planner provider (vendor:model).")
    image_provider: str = Field(default="local:cards", description="Image provider (vendor:model).")
    tts_provider: str = Field(default="local:espeak", description="Narration provider (vendor:model).")
    allow_network: bool = Field(default=True, description="False refuses every network call (tests set 0).")
    workers: int = Field(default=2, ge=1, le=64, description="Parallel render workers (x264 threads × workers ≤ cores).")
    x264_preset: str = Field(default="veryfast", description="libx264 preset of every segment.")
    crf: int = Field(default=20, ge=0, le=51, description="libx264 constant rate factor (quality value for hardware encoders).")
    video_encoder: str = Field(
        default="auto",
        description="H.264 encoder: auto (first working hardware encoder, else libx264), libx264, h264_nvenc, h264_qsv, h264_videotoolbox.",
    )
    speech_rate_wpm: int = Field(default=165, ge=80, le=400, description="Narration speed, words per minute.")

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
