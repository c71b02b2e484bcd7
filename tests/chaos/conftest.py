"""Chaos and fault-injection tests: the real CLI against misbehaving loopback vendors."""

from __future__ import annotations

import json
import sqlite3
import wave
from pathlib import Path

import av
from PIL import Image

# Aesop's fable (../shared/inputs/hare-and-tortoise.txt) as a small chapter file: a title card and six
# shots for the image provider, about 20 s of video.
FABLE = {
    "schema_version": "1.0", "episode_id": "hare-chaos", "title": "The Hare and the Tortoise", "language": "en",
    "chapters": [
        {"chapter_id": "ch01", "title": "The Hare and the Tortoise", "narration": {"text": "The Hare and the Tortoise."},
         "visuals": [{"type": "title_card", "description": "The Hare and the Tortoise"}]},
        {"chapter_id": "ch02", "title": "The challenge", "narration": {"text": "A Hare one day ridiculed the slow pace of the Tortoise."},
         "visuals": [{"type": "b_roll", "description": "A hare laughing at a tortoise in a meadow"}]},
        {"chapter_id": "ch03", "title": "The race", "narration": {"text": "The Hare, lying down by the wayside, fell fast asleep."},
         "visuals": [{"type": "b_roll", "description": "A hare asleep under a tree beside a country road"}]},
        {"chapter_id": "ch04", "title": "The goal", "narration": {"text": "The Tortoise went on with a slow but steady pace."},
         "visuals": [{"type": "b_roll", "description": "A tortoise walking along a dusty road at noon"}]},
        {"chapter_id": "ch05", "title": "The waking", "narration": {"text": "At last the Hare woke up and ran as fast as he could."},
         "visuals": [{"type": "b_roll", "description": "A hare sprinting across a field at dusk"}]},
        {"chapter_id": "ch06", "title": "The finish", "narration": {"text": "The Tortoise had reached the goal and was dozing."},
         "visuals": [{"type": "b_roll", "description": "A tortoise resting at a finish line ribbon"}]},
        {"chapter_id": "ch07", "title": "The moral", "narration": {"text": "Slow but steady wins the race."},
         "visuals": [{"type": "diagram", "description": "Diagram: slow; steady; wins"}]},
    ],
}
GENERATED = 6
SHORT = {**FABLE, "chapters": FABLE["chapters"][:2] + FABLE["chapters"][5:]}  # a title and three generated shots, ~8 s
SHORT_GENERATED = 3


def fable_file(tmp_path: Path, fable: dict = FABLE) -> Path:
    path = tmp_path / "hare-chaos.json"
    path.write_text(json.dumps(fable))
    return path


def assert_artifacts_whole(root: Path) -> int:
    """Every final PNG, WAV and MP4 of the project decodes fully; the database passes integrity_check.
    Returns how many files were checked."""
    checked = 0

    def final(pattern: str) -> list[Path]:  # temp files of a writer that was killed start with "."
        return [p for p in root.glob(pattern) if not p.name.startswith(".")]

    for png in final("images/*.png"):
        with Image.open(png) as im:
            im.load()
        checked += 1
    for wav in final("audio/*.wav"):
        with wave.open(str(wav)) as wf:
            assert len(wf.readframes(wf.getnframes())) == wf.getnframes() * wf.getsampwidth() * wf.getnchannels(), wav
        checked += 1
    for mp4 in [*final("clips/*.mp4"), *final("video.mp4")]:
        with av.open(str(mp4)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames > 0, mp4
        checked += 1
    db = root.parents[1] / "storyreel.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return checked
