"""The storyboard's value sets (ARCHITECTURE.md "Vocabulary"), as ``Literal`` types: importable without
building the storyboard models, so the CLI's request models stay cheap."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from storyreel.core.errors import InputError

AspectRatio = Literal["16:9", "9:16", "1:1"]
VisualType = Literal["title_card", "diagram", "b_roll", "screen_share", "talking_head"]
CameraMove = Literal["static", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]
Transition = Literal["cut", "crossfade"]
OverlayType = Literal["lower_third", "caption"]
InputKind = Literal["script", "prompt", "chapters", "story"]
Framework = Literal["AIDA", "PAS", "BAB"]
Resolution = Literal["1080p", "720p", "540p", "360p"]
"""The output's size by its shorter side: ``1080p`` is the delivery size (1920×1080 at 16:9); ``720p``,
``540p`` (the editor's preview) and ``360p`` render faster and smaller (a draft to review)."""


class ProjectStatus(StrEnum):
    """A project's status word, as the gallery, ``storyreel list`` and the API show it.

    ``planned``: a storyboard, nothing made yet; ``queued`` / ``running``: a job waits for, or a verb holds,
    the project; then the outcome of the last verb that ran on it — ``done`` (every node fresh, nothing
    needing attention), ``partial`` (some node missing, stale or a stand-in), ``failed``, ``cost_limit``,
    ``canceled`` or ``interrupted`` (its process stopped; resume continues from what is done). Verbs settle
    it in one place (:func:`storyreel.api.runner.settle`)."""

    PLANNED = "planned"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"
    COST_LIMIT = "cost_limit"
    CANCELED = "canceled"
    INTERRUPTED = "interrupted"


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""Project, chapter and shot IDs: they become folder and file names (ARCHITECTURE.md "The storyboard")."""
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ID_RULE = "use letters, digits, '_' and '-', 1–64 characters, starting with a letter or digit"


def is_valid_id(value: object) -> bool:
    """True when ``value`` is a whole valid ID (``re.match`` with ``$`` would accept a trailing newline)."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def check_id(value: object, field: str) -> str:
    """``value`` when it is a valid ID, else :class:`InputError` naming ``field`` and the rule."""
    if not is_valid_id(value):
        raise InputError(f"{value!r} is not a valid ID", field=field, hint=ID_RULE)
    return value  # type: ignore[return-value]
