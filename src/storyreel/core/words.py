"""Word timings of spoken narration, shared by speech providers, subtitles and QC."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WordTiming(BaseModel):
    """One spoken word: ``start_s``/``end_s`` in seconds from the start of the audio; ``char_start``/
    ``char_end`` the word's character offsets in the narration text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    word: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    char_start: int = Field(ge=0, description="Offset of the word in the narration text (characters).")
    char_end: int = Field(ge=0)
