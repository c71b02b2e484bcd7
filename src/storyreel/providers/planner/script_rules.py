"""The rule-based planning of scripts (``local:planner``, no key, no network).

Markdown headings or paragraphs become chapters; sentences are grouped into shots of roughly 4–12 s of
narration (estimated at the configured words per minute). Visual types follow clear rules: the opening
shot is a ``title_card``; a shot whose text enumerates (a run of three or more short parallel phrases,
a numbered/bulleted list) or describes a process ("first … then …") is a ``diagram``; everything else is
``b_roll``.
"""

from __future__ import annotations

import re

from storyreel.core.artifact import (
    Chapter,
    PlanInfo,
    ProjectSettings,
    Shot,
    SourceInfo,
    Storyboard,
    Visual,
    slugify_id,
)
from storyreel.core.text import STOPWORDS, estimate_speech_seconds, guess_language, split_sentences
from storyreel.providers.base import PlannerRequest

SHOT_MIN_S = 4.0
SHOT_TARGET_S = 8.0
SHOT_MAX_S = 12.0
CAMERA_CYCLE = ["zoom_in", "pan_right", "zoom_out", "pan_left", "pan_up", "pan_down"]

_PROCESS_WORDS = re.compile(
    r"\b(first(ly)?|second(ly)?|then|next|finally|step|steps|stage|process|önce|sonra|ardından|son olarak|adım"
    r"|zuerst|dann|danach|schließlich|schritt)\b",
    re.IGNORECASE,
)
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+)$", re.MULTILINE)
_SEGMENT_SPLIT = re.compile(r"\s*(?:,|;|\s--\s|\s—\s|\s–\s)\s*")


def plan_script(req: PlannerRequest, provider_id: str) -> Storyboard:
    """A script → storyboard: chapters from headings or paragraphs, shots of ~4–12 s of narration; the
    opening is a title card, enumerations and processes diagrams, the rest b-roll."""
    title, sections = parse_script(req.text)
    language = req.language or guess_language(req.text)
    title = title or short_title(sections[0][1]) or "Untitled"
    chapters: list[Chapter] = []
    shot_index = 0
    for ci, (heading, body) in enumerate(sections, start=1):
        chapter_id = f"ch{ci:02d}"
        shots: list[Shot] = []
        if ci == 1:
            shots.append(_title_shot(chapter_id, title, subtitle=heading if heading != title else None))
            shot_index += 1
        for group in group_sentences(body, req.words_per_minute):
            shots.append(_shot(f"{chapter_id}-s{len(shots) + 1:02d}", group, body, shot_index))
            shot_index += 1
        chapters.append(Chapter(chapter_id=chapter_id, title=heading or paragraph_title(body, len(chapters) + 1), shots=shots))
    return Storyboard(
        project_id=req.project_id or slugify_id(title),
        settings=ProjectSettings(title=title, language=language, aspect_ratio=req.aspect_ratio or "16:9"),
        source=SourceInfo(kind="script", name=req.name, sha256=req.sha256),
        plan=PlanInfo(provider=provider_id, structure="script"),
        chapters=chapters,
    )


def _title_shot(chapter_id: str, title: str, subtitle: str | None) -> Shot:
    narration = title if title.endswith((".", "!", "?", "…")) else f"{title}."
    return Shot(
        shot_id=f"{chapter_id}-s01",
        narration=narration,
        visual=Visual(type="title_card", description=title if not subtitle else f"{title}: {subtitle}"),
        camera_move="zoom_in",
    )


def _shot(shot_id: str, text: str, context: str, index: int) -> Shot:
    items = enumeration_items(text)
    if items:
        visual = Visual(type="diagram", description="Diagram: " + "; ".join(items))
    else:
        first = split_sentences(text)[0]
        words = first.split()
        visual = Visual(type="b_roll", description=" ".join(words[:30]) + ("…" if len(words) > 30 else ""))
    return Shot(shot_id=shot_id, narration=text, visual=visual, camera_move=CAMERA_CYCLE[index % len(CAMERA_CYCLE)])


def parse_script(text: str) -> tuple[str | None, list[tuple[str | None, str]]]:
    """Split a script into (title, [(chapter heading or None, body text)]).

    Markdown ``#`` headings start chapters (a lone first ``#`` heading is the title); without headings
    each paragraph is a chapter. A short first line without final punctuation followed by a blank line
    is the title.
    """
    lines = text.strip().split("\n")
    title: str | None = None
    if any(re.match(r"^#{1,6}\s+\S", ln) for ln in lines):
        sections: list[tuple[str | None, list[str]]] = []
        for ln in lines:
            m = re.match(r"^(#{1,6})\s+(.*\S)\s*$", ln)
            if m:
                if title is None and m.group(1) == "#" and not sections:
                    title = m.group(2).strip()
                    continue
                sections.append((m.group(2).strip(), []))
            else:
                if not sections:
                    sections.append((None, []))
                sections[-1][1].append(ln)
        result = [(h, _plain("\n".join(body))) for h, body in sections]
        result = [(h, b) for h, b in result if b]
        return title, result or [(title, title or "")]
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    first = paragraphs[0]
    if len(paragraphs) > 1 and "\n" not in first and len(first) <= 100 and not first.endswith((".", "!", "?", ":")):
        title, paragraphs = first, paragraphs[1:]
    return title, [(None, _plain(p)) for p in paragraphs]


def _plain(text: str) -> str:
    items = _LIST_LINE.findall(text)
    if items and len(items) >= 2:
        text = _LIST_LINE.sub(lambda m: m.group(1).rstrip(".;") + ";", text)
    text = re.sub(r"[*_`]{1,3}", "", text)
    return re.sub(r"\s+", " ", text).strip()


def group_sentences(text: str, words_per_minute: float = 165.0) -> list[str]:
    """Group sentences into shots of ~4–12 s of narration (aiming at 8 s). Over-long sentences are split
    at clause boundaries (, ; --)."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        if estimate_speech_seconds(sentence, words_per_minute) <= SHOT_MAX_S:
            pieces.append(sentence)
        else:
            pieces.extend(_split_long(sentence, words_per_minute))
    groups: list[str] = []
    current: list[str] = []
    for piece in pieces:
        candidate = " ".join([*current, piece])
        if current and (
            estimate_speech_seconds(candidate, words_per_minute) > SHOT_MAX_S
            or estimate_speech_seconds(" ".join(current), words_per_minute) >= SHOT_TARGET_S
        ):
            groups.append(" ".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current:
        tail = " ".join(current)
        if groups and estimate_speech_seconds(tail, words_per_minute) < SHOT_MIN_S:
            merged = f"{groups[-1]} {tail}"
            if estimate_speech_seconds(merged, words_per_minute) <= SHOT_MAX_S + 2:
                groups[-1] = merged
                return groups
        groups.append(tail)
    return groups


def _split_long(sentence: str, wpm: float) -> list[str]:
    clauses = re.split(r"(?<=[,;:])\s+|\s+(?=--\s)", sentence)
    out: list[str] = []
    current = ""
    for clause in clauses:
        candidate = f"{current} {clause}".strip()
        if current and estimate_speech_seconds(candidate, wpm) > SHOT_TARGET_S:
            out.append(current)
            current = clause
        else:
            current = candidate
    if current:
        out.append(current)
    return [piece.lstrip("-–— ") for piece in out if piece.strip("-–— ")]


def enumeration_items(text: str) -> list[str] | None:
    """Items of an enumeration or process in ``text``, or None.

    A run of ≥ 3 consecutive parallel phrases (≤ 6 words each, opening or closing with the same word) separated
    by ',', ';' or '--' is an enumeration ("of the people, by the people, for the people"); two or more process markers ("first … then …")
    make each sentence a step.
    """
    for sentence in split_sentences(text):
        segments = [s.strip(" .!?\"'") for s in _SEGMENT_SPLIT.split(sentence) if s.strip(" .!?\"'")]
        best: list[str] = []
        for i in range(len(segments)):
            run = [segments[i]]
            for seg in segments[i + 1 :]:
                if _parallel(run[-1], seg):
                    run.append(seg)
                else:
                    break
            if len(run) > len(best):
                best = run
        if len(best) >= 3:
            return [re.sub(r"^(and|or|ve|veya|und|oder)\s+", "", item, flags=re.I) for item in best[:6]]
    sentences = split_sentences(text)
    if len(sentences) >= 2 and len(_PROCESS_WORDS.findall(text)) >= 2:
        return [s.rstrip(".") for s in sentences[:6]]
    return None


def _parallel(a: str, b: str) -> bool:
    """Two short phrases (≤ 6 words) that open or close with the same word: 'by the people' / 'for the people'."""
    wa, wb = a.lower().split(), re.sub(r"^(and|or|ve|veya|und|oder)\s+", "", b.lower()).split()
    if not (1 <= len(wa) <= 6 and 1 <= len(wb) <= 6):
        return False
    return wa[0] == wb[0] or wa[-1] == wb[-1]


TITLE_MAX_CHARS = 80


_HEAD = re.compile(r"\s*(?::|\s[–—-])\s")
"""What ends a headline's head: a colon, or a dash between spaces ("Why bees dance: how …")."""

_TRAILING = {w for words in STOPWORDS.values() for w in words} | {
    "a", "an", "at", "as", "by", "from", "into", "of", "or", "but", "so", "than", "their", "its", "our", "your", "his", "her",
}
"""Words a cut title must not end on: "How a lighthouse keeper on a…" reads as a stumble."""


def paragraph_title(text: str, number: int) -> str:
    """The title of a chapter made from a paragraph without a heading: its first sentence when that is a whole
    sentence of at most 8 words ("Slow but steady wins the race"), else ``Part <number>`` — never a sentence
    cut short ("A Hare one day ridiculed…")."""
    first = split_sentences(text)[0].strip() if text.strip() else ""
    words = first.rstrip(".!?").split()
    return " ".join(words) if 0 < len(words) <= 8 and len(first) <= TITLE_MAX_CHARS else f"Part {number}"


def short_title(text: str) -> str:
    """A title from the first sentence: its head before a colon or a spaced dash when that is 2–8 words;
    else all of it up to 8 words; else its first 6 words, less the articles, prepositions and conjunctions
    they end on, and "…". Never more than :data:`TITLE_MAX_CHARS` characters (a long run without spaces is
    cut)."""
    first = split_sentences(text)[0] if text.strip() else "Untitled"
    head = _HEAD.split(first, maxsplit=1)[0]
    words = first.rstrip(".!?").split()
    if head != first and 2 <= len(head.split()) <= 8:
        title = head.strip()
    elif len(words) <= 8:
        title = " ".join(words)
    else:
        cut = words[:6]
        while len(cut) > 2 and cut[-1].lower().strip(",;:") in _TRAILING:
            cut.pop()
        title = " ".join(cut).rstrip(",;:") + "…"
    return title if len(title) <= TITLE_MAX_CHARS else title[: TITLE_MAX_CHARS - 1].rstrip() + "…"
