"""The editing operations on the storyboard (issue 28 item 1), without the engine: merge joins narration and keeps the
first visual with both shots' entities, move lands a shot beside another in that shot's chapter, delete drops an
emptied chapter, duplicate names the copy, split cuts at the nearest word boundary by the timings' character offsets."""

from __future__ import annotations

import pytest

from storyreel.core import edits
from storyreel.core.errors import InputError
from storyreel.core.words import WordTiming
from tests.stages.conftest import small_storyboard


def _ids(board) -> list[list[str]]:  # noqa: ANN001
    return [[s.shot_id for s in ch.shots] for ch in board.chapters]


def test_merge_move_delete_duplicate() -> None:
    board = small_storyboard()
    merged, _ = edits.merge(board, "ch02-s01", "ch02-s02", {})
    shot = merged.shot("ch02-s01")[1]
    assert _ids(merged)[1] == ["ch02-s01"] and shot.narration.endswith("Slow but steady wins the race.")
    assert shot.visual.type == "diagram"  # the first shot's visual
    with pytest.raises(InputError, match="in another chapter"):
        edits.merge(board, "ch01-s02", "ch02-s01", {})
    moved, _ = edits.move(board, "ch02-s02", 2)
    assert _ids(moved) == [["ch01-s01", "ch02-s02", "ch01-s02"], ["ch02-s01"]]
    first, _ = edits.move(board, "ch01-s02", 1)
    assert _ids(first)[0] == ["ch01-s02", "ch01-s01"]
    gone, _ = edits.delete(edits.merge(board, "ch02-s01", "ch02-s02", {})[0], "ch02-s01")
    assert _ids(gone) == [["ch01-s01", "ch01-s02"]]  # the emptied chapter is gone
    copy, what = edits.duplicate(board, "ch01-s02")
    assert _ids(copy)[0] == ["ch01-s01", "ch01-s02", "ch01-s02-copy"] and "ch01-s02-copy" in what


def test_split_cuts_at_the_nearest_word_boundary() -> None:
    board = small_storyboard()
    _, shot = board.shot("ch01-s02")
    words, duration = edits.estimated_words(shot, 120)  # 0.5 s a word
    board2, _ = edits.split(board, "ch01-s02", 2.0, words, duration)
    a, b = board2.shot("ch01-s02")[1], board2.shot("ch01-s02-b")[1]
    assert f"{a.narration} {b.narration}" == shot.narration and a.narration == "A Hare one day"
    assert a.transition == "cut" and b.visual == a.visual
    with pytest.raises(InputError, match="outside"):
        edits.split(board, "ch01-s02", duration + 1, words, duration)
    few = [WordTiming(word="Hi", start_s=0, end_s=0.5, char_start=0, char_end=2)]
    with pytest.raises(InputError, match="fewer than two words"):
        edits.split(board, "ch01-s02", 0.3, few, 0.6)


def test_a_trim_of_a_vendor_clip_moves_its_in_point() -> None:
    """A moving shot's trim pins its vendor clip and, trimmed at the start, starts the clip that much later (twice: the
    in-points add up); a still keeps no pin nor in-point; words are dropped by the same rule."""
    board = small_storyboard()
    _, shot = board.shot("ch01-s02")
    words, duration = edits.estimated_words(shot, 120)
    length = duration + 1.0
    pin = "sha256:" + "ab" * 32
    trimmed, what = edits.trim(board, "ch01-s02", 1.5, length, words, 0.45, length, 1.0, footage=pin)
    visual = trimmed.shot("ch01-s02")[1].visual
    assert visual.clip_in_s == 1.5 and visual.clip_pin == pin and "dropping" in what
    again, _ = edits.trim(trimmed, "ch01-s02", 0.5, length - 1.5, *edits.estimated_words(trimmed.shot("ch01-s02")[1], 120)[:1],
                          0.45, length - 1.5, 1.0, footage=pin)
    assert again.shot("ch01-s02")[1].visual.clip_in_s == 2.0
    still, _ = edits.trim(board, "ch01-s02", 1.5, length, words, 0.45, length, 1.0)
    assert still.shot("ch01-s02")[1].visual.clip_in_s is None and still.shot("ch01-s02")[1].visual.clip_pin is None
