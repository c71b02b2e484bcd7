"""Editing verbs as operations on the storyboard (issue 28 item 1; seed 004 epic 6): each takes a storyboard and
returns a new, validated one and a sentence saying what changed — the storyboard stays the single source of truth, and
the engine then re-makes only the nodes of the shots an edit touched.

- :func:`split` — a shot in two at a time from its start: the narration is cut at the word boundary nearest that time
  (word timings from the shot's narration when made, else estimated at the speaking rate); both halves keep the visual,
  its entities, overlays and camera move; the second half is ``<shot>-b`` (or the next free suffix).
- :func:`merge` — two adjacent shots of one chapter into the first: narration joined, the first's visual kept, the
  second's transition carried over.
- :func:`move` — a shot to a position (1-based) in the whole video; it joins the chapter of the shot it lands beside.
- :func:`delete`, :func:`duplicate` (the copy right after, ``<shot>-copy``).

Invalid edits raise :class:`~storyreel.core.errors.InputError` naming the argument and the reason, and change nothing:
a merge of shots that are not adjacent or not in one chapter, a split at 0 or at the end, a half or a merged shot
shorter than :data:`MIN_SHOT_S`, deleting the last shot.
"""

from __future__ import annotations

from storyreel.core.artifact import Shot, Storyboard
from storyreel.core.errors import InputError
from storyreel.core.words import WordTiming

MIN_SHOT_S = 1.0
"""The shortest shot an edit may leave, seconds (issue 28: "shots shorter than one second")."""


def _data(board: Storyboard) -> dict:
    return board.model_dump(mode="json")


def _find(data: dict, shot_id: str, field: str = "SHOT") -> tuple[int, int]:
    for c, chapter in enumerate(data["chapters"]):
        for s, shot in enumerate(chapter["shots"]):
            if shot["shot_id"] == shot_id:
                return c, s
    raise InputError(f"no shot {shot_id!r} in the storyboard", field=field, hint="see `storyreel quality PROJECT` for the shot IDs")


def _free_id(data: dict, base: str, suffixes: tuple[str, ...]) -> str:
    taken = {s["shot_id"] for ch in data["chapters"] for s in ch["shots"]}
    for suffix in suffixes:
        candidate = f"{base[: 64 - len(suffix)]}{suffix}"
        if candidate not in taken:
            return candidate
    n = 2
    while f"{base[:58]}-{n}" in taken:
        n += 1
    return f"{base[:58]}-{n}"


def _board(data: dict) -> Storyboard:
    return Storyboard.model_validate(data)


def split(board: Storyboard, shot_id: str, at_s: float, words: list[WordTiming], duration_s: float) -> tuple[Storyboard, str]:
    """Split ``shot_id`` ``at_s`` seconds after its start; ``words`` are its narration's word timings (seconds from the
    shot's start) and ``duration_s`` its length. Raises :class:`InputError` (``--at``) for a split outside the shot,
    where no word boundary lies, or one leaving a half under :data:`MIN_SHOT_S`."""
    data = _data(board)
    c, s = _find(data, shot_id)
    shot = data["chapters"][c]["shots"][s]
    if not 0 < at_s < duration_s:
        raise InputError(f"a split at {at_s:g} s is outside {shot_id} (0–{duration_s:.2f} s)", field="--at",
                         hint="give a time inside the shot, from its start")
    if len(words) < 2:
        raise InputError(f"{shot_id} has fewer than two words: there is no word boundary to split its narration at", field="--at")
    boundaries = [(i, (words[i - 1].end_s + words[i].start_s) / 2) for i in range(1, len(words))]
    index, cut = min(boundaries, key=lambda b: abs(b[1] - at_s))
    if cut < MIN_SHOT_S or duration_s - cut < MIN_SHOT_S:
        raise InputError(f"a split at {at_s:g} s would leave a shot shorter than {MIN_SHOT_S:g} s (the nearest word boundary is "
                         f"{cut:.2f} s into {duration_s:.2f} s)", field="--at", hint="split nearer the middle of the shot")
    text = shot["narration"]
    offset = words[index].char_start  # the timings point into the narration as written
    first, second = dict(shot), dict(shot)
    first["narration"], second["narration"] = text[:offset].rstrip(), text[offset:].lstrip()
    if not first["narration"] or not second["narration"]:
        raise InputError(f"the word timings of {shot_id} do not match its narration (edited since it was read?)", field="--at",
                         hint="make the video again, then split")
    second["shot_id"] = _free_id(data, shot_id, ("-b", "-c", "-d"))
    first["transition"] = "cut"  # the halves are one continuous moment
    data["chapters"][c]["shots"][s:s + 1] = [first, second]
    return _board(data), f"split {shot_id} at {cut:.2f} s: “{first['narration'][-40:]}” | “{second['narration'][:40]}” ({second['shot_id']})"


def merge(board: Storyboard, first_id: str, second_id: str, durations: dict[str, float]) -> tuple[Storyboard, str]:
    """Merge ``second_id`` into ``first_id``: adjacent shots of one chapter, in that order. Raises :class:`InputError`
    (``SHOT_B``) otherwise."""
    data = _data(board)
    c1, s1 = _find(data, first_id, "SHOT_A")
    c2, s2 = _find(data, second_id, "SHOT_B")
    if c1 != c2 or s2 != s1 + 1:
        where = "in another chapter" if c1 != c2 else "not right after it"
        raise InputError(f"{second_id} is {where}: only a shot and the one right after it, in one chapter, can be merged",
                         field="SHOT_B", hint="move the shots next to each other first (`storyreel edit PROJECT move`)")
    shots = data["chapters"][c1]["shots"]
    a, b = shots[s1], shots[s2]
    merged = {**a, "narration": f"{a['narration'].rstrip()} {b['narration'].lstrip()}".strip(), "transition": b["transition"]}
    merged["visual"] = {**a["visual"], "entities": list(dict.fromkeys(a["visual"]["entities"] + b["visual"]["entities"]))}
    if a.get("min_duration_s") or b.get("min_duration_s"):
        merged["min_duration_s"] = round((a.get("min_duration_s") or durations.get(first_id, 0)) + (b.get("min_duration_s") or durations.get(second_id, 0)), 3) or None
    shots[s1:s2 + 1] = [merged]
    return _board(data), f"merged {second_id} into {first_id}"


def move(board: Storyboard, shot_id: str, position: int) -> tuple[Storyboard, str]:
    """Move ``shot_id`` to ``position`` (1-based, over the whole video); it joins the chapter of the shot it lands
    beside (the one before it, or the first chapter at position 1). Raises :class:`InputError` (``--to``)."""
    data = _data(board)
    order = [(c, s["shot_id"]) for c, ch in enumerate(data["chapters"]) for s in ch["shots"]]
    if not 1 <= position <= len(order):
        raise InputError(f"position {position} is outside the video (1–{len(order)})", field="--to")
    c, s = _find(data, shot_id)
    if [sid for _, sid in order].index(shot_id) + 1 == position:
        raise InputError(f"{shot_id} is already at position {position}", field="--to")
    if len(data["chapters"][c]["shots"]) == 1:
        raise InputError(f"{shot_id} is the only shot of its chapter {data['chapters'][c]['chapter_id']!r}: moving it would leave "
                         "an empty chapter", field="SHOT", hint="move the other shots to it instead, or delete the chapter's shot")
    shot = data["chapters"][c]["shots"].pop(s)
    rest = [(ci, sh["shot_id"]) for ci, ch in enumerate(data["chapters"]) for sh in ch["shots"]]
    if position == 1:
        target_c, target_s = 0, 0
    else:
        before_c, before_id = rest[position - 2]
        target_c = before_c
        target_s = [sh["shot_id"] for sh in data["chapters"][before_c]["shots"]].index(before_id) + 1
    data["chapters"][target_c]["shots"].insert(target_s, shot)
    return _board(data), f"moved {shot_id} to position {position}"


def delete(board: Storyboard, shot_id: str) -> tuple[Storyboard, str]:
    """Delete ``shot_id`` (its chapter too when it was its only shot). Raises :class:`InputError` for the last shot."""
    data = _data(board)
    c, s = _find(data, shot_id)
    if sum(len(ch["shots"]) for ch in data["chapters"]) == 1:
        raise InputError(f"{shot_id} is the video's only shot", field="SHOT", hint="a video needs at least one shot")
    data["chapters"][c]["shots"].pop(s)
    if not data["chapters"][c]["shots"]:
        data["chapters"].pop(c)
    return _board(data), f"deleted {shot_id}"


def duplicate(board: Storyboard, shot_id: str) -> tuple[Storyboard, str]:
    """A copy of ``shot_id`` right after it (``<shot>-copy``), its image pick and clip pick kept."""
    data = _data(board)
    c, s = _find(data, shot_id)
    copy = {**data["chapters"][c]["shots"][s], "shot_id": _free_id(data, shot_id, ("-copy", "-copy2", "-copy3"))}
    data["chapters"][c]["shots"].insert(s + 1, copy)
    return _board(data), f"duplicated {shot_id} as {copy['shot_id']}"


def trim(board: Storyboard, shot_id: str, in_s: float, out_s: float, words: list[WordTiming], narration_offset_s: float,
         length_s: float, holds_s: float, footage: str | None = None) -> tuple[Storyboard, str]:
    """Keep ``in_s``–``out_s`` (seconds from the shot's start) of ``shot_id``, ``length_s`` long now, whose narration
    starts ``narration_offset_s`` in (``words``: its timings from the narration's start). Speech is never cut mid-word:
    the words whose middle falls outside the kept part are dropped from the narration (and so from the subtitles), and
    the sentence says which. A kept part longer than the remaining narration and its lead-in and tail (``holds_s``)
    holds the picture (``min_duration_s``). With ``footage`` (the sha256 of the vendor clip the shot plays) the trim is
    within that clip: it is pinned (``visual.clip_pin``: never asked of the vendor anew, whatever the words and length
    become) and its in-point moves ``in_s`` later (``visual.clip_in_s``), so the kept part starts on the picture it had
    there. Raises :class:`InputError` (``--in``/``--out``) for a trim past the shot,
    shorter than :data:`MIN_SHOT_S`, or keeping no word."""
    data = _data(board)
    c, s = _find(data, shot_id)
    shot = data["chapters"][c]["shots"][s]
    if not 0 <= in_s < out_s <= length_s + 1e-6:
        raise InputError(f"a trim {in_s:g}–{out_s:g} s is outside {shot_id} (0–{length_s:.2f} s)", field="--out" if out_s > length_s else "--in",
                         hint="give --in and --out inside the shot, --in before --out")
    if out_s - in_s < MIN_SHOT_S:
        raise InputError(f"a trim to {out_s - in_s:.2f} s leaves {shot_id} shorter than {MIN_SHOT_S:g} s", field="--out")
    kept = [w for w in words if in_s <= narration_offset_s + (w.start_s + w.end_s) / 2 <= out_s]
    if not kept:
        raise InputError(f"a trim {in_s:g}–{out_s:g} s keeps none of {shot_id}'s words", field="--in",
                         hint="keep at least one word (a shot needs narration), or delete the shot")
    text = shot["narration"]
    new_text = text[kept[0].char_start:kept[-1].char_end].strip()
    dropped = [w.word for w in words if w not in kept]
    shot["narration"] = new_text
    spoken = kept[-1].end_s - kept[0].start_s
    hold = round(out_s - in_s, 3)
    shot["min_duration_s"] = hold if hold > spoken + holds_s + 0.05 else None
    if footage:
        shot["visual"]["clip_pin"] = footage
        if in_s > 0:
            shot["visual"]["clip_in_s"] = round((shot["visual"].get("clip_in_s") or 0.0) + in_s, 3)
    what = f"trimmed {shot_id} to {in_s:g}–{out_s:g} s"
    if dropped:
        what += f", dropping {len(dropped)} word(s) from the narration: “{' '.join(dropped)[:80]}”"
    return _board(data), what


def estimated_words(shot: Shot, words_per_minute: int) -> tuple[list[WordTiming], float]:
    """Word timings of a shot whose narration is not made yet, at ``words_per_minute`` (evenly spaced)."""
    import re

    step = 60.0 / max(1, words_per_minute)
    found = list(re.finditer(r"\S+", shot.narration))
    words = [WordTiming(word=m.group(0), start_s=round(i * step, 3), end_s=round((i + 1) * step - 0.05, 3), char_start=m.start(),
                        char_end=m.end()) for i, m in enumerate(found)]
    return words, round(len(found) * step, 3)
