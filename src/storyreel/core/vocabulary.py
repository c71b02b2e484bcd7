"""The storyboard's value sets (ARCHITECTURE.md "Vocabulary"), as ``Literal`` types: importable without
building the storyboard models, so the CLI's request models stay cheap."""

from __future__ import annotations

from typing import Literal

AspectRatio = Literal["16:9", "9:16", "1:1"]
VisualType = Literal["title_card", "diagram", "b_roll", "screen_share", "talking_head"]
CameraMove = Literal["static", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]
Transition = Literal["cut", "crossfade"]
OverlayType = Literal["lower_third", "caption"]
InputKind = Literal["script", "prompt", "chapters"]
Framework = Literal["AIDA", "PAS", "BAB"]
