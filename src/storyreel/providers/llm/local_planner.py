"""``local:planner`` — the deterministic, rule-based planner (no key, no network).

Scripts: Markdown headings or paragraphs become chapters; sentences are grouped into shots of roughly
4–12 s of narration (estimated at the configured words per minute). Visual types follow clear rules:
the opening shot is a ``title_card``; a shot whose text enumerates (a run of three or more short
parallel phrases, a numbered/bulleted list) or describes a process ("first … then …") is a ``diagram``;
everything else is ``b_roll``.

Prompts: an advertising brief (mentions an ad, product or brand) becomes an ad storyboard built on
the framework chosen by rule (seed 004 FR-007/FR-008): an explicitly named framework wins; a stated
problem or pain picks PAS; a before/after transformation picks BAB; otherwise AIDA. Any other prompt
becomes a short explainer. Aspect ratio ("9:16", "vertical"), palette (``#0F5257``) and target length
("20-second") are read from the prompt when it states them.
"""

from __future__ import annotations

import re
from typing import ClassVar

from storyreel.core.artifact import (
    DEFAULT_PALETTE,
    Chapter,
    Overlay,
    PlanInfo,
    ProjectSettings,
    Shot,
    SourceInfo,
    Storyboard,
    StyleGuide,
    Visual,
    slugify_id,
)
from storyreel.core.text import estimate_speech_seconds, guess_language, split_sentences, word_count
from storyreel.providers.base import PlanRequest

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
_AD_WORDS = re.compile(r"\b(ad|ads|advert\w*|commercial|promo\w*|campaign|product|brand|launch|sale|buy)\b", re.I)
_PAS_WORDS = re.compile(
    r"\b(problem\w*|pain\w*|tired of|struggl\w*|frustrat\w*|hassle|annoy\w*|worr\w*|waste\w*|fix\w*|solv\w*)\b", re.I
)
_BAB_WORDS = re.compile(r"\b(transform\w*|before|after|upgrade\w*|switch\w*|imagine|makeover|turns? \w+ into)\b", re.I)
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")


class LocalPlanner:
    """Rule-based planner. ``plan(PlanRequest) -> Storyboard``; deterministic for a given request."""

    code_version: ClassVar[str] = "local-planner/1"

    def __init__(self, model: str = "planner") -> None:
        self.provider_id = f"local:{model}"

    @classmethod
    def for_model(cls, model: str, settings: object = None) -> LocalPlanner:
        return cls(model)

    def plan(self, request: PlanRequest) -> Storyboard:
        """Plan a script or prompt. Raises ``ValueError`` for a chapters request (imported, not planned)."""
        if request.kind == "script":
            return self._plan_script(request)
        if request.kind == "prompt":
            return self._plan_prompt(request)
        raise ValueError("chapter JSON is imported, not planned")

    # ----------------------------------------------------------------- scripts
    def _plan_script(self, req: PlanRequest) -> Storyboard:
        title, sections = parse_script(req.text)
        language = req.language or guess_language(req.text)
        title = title or _short_title(sections[0][1]) or "Untitled"
        chapters: list[Chapter] = []
        shot_index = 0
        for ci, (heading, body) in enumerate(sections, start=1):
            chapter_id = f"ch{ci:02d}"
            shots: list[Shot] = []
            if ci == 1:
                shots.append(self._title_shot(chapter_id, title, subtitle=heading if heading != title else None))
                shot_index += 1
            for group in group_sentences(body, req.words_per_minute):
                shots.append(self._shot(f"{chapter_id}-s{len(shots) + 1:02d}", group, body, shot_index))
                shot_index += 1
            chapters.append(Chapter(chapter_id=chapter_id, title=heading or _short_title(body), shots=shots))
        return Storyboard(
            project_id=req.project_id or slugify_id(title),
            settings=ProjectSettings(title=title, language=language, aspect_ratio=req.aspect_ratio or "16:9"),
            source=SourceInfo(kind="script", name=req.name, sha256=req.sha256),
            plan=PlanInfo(provider=self.provider_id, structure="script"),
            chapters=chapters,
        )

    def _title_shot(self, chapter_id: str, title: str, subtitle: str | None) -> Shot:
        narration = title if title.endswith((".", "!", "?")) else f"{title}."
        return Shot(
            shot_id=f"{chapter_id}-s01",
            narration=narration,
            visual=Visual(type="title_card", description=title if not subtitle else f"{title}: {subtitle}"),
            camera_move="zoom_in",
        )

    def _shot(self, shot_id: str, text: str, context: str, index: int) -> Shot:
        items = enumeration_items(text)
        if items:
            visual = Visual(type="diagram", description="Diagram: " + "; ".join(items))
        else:
            first = split_sentences(text)[0]
            words = first.split()
            visual = Visual(type="b_roll", description=" ".join(words[:30]) + ("…" if len(words) > 30 else ""))
        return Shot(shot_id=shot_id, narration=text, visual=visual, camera_move=CAMERA_CYCLE[index % len(CAMERA_CYCLE)])

    # ----------------------------------------------------------------- prompts
    def _plan_prompt(self, req: PlanRequest) -> Storyboard:
        text = req.text.strip()
        language = req.language or guess_language(text)
        brief = read_brief(text)
        aspect = req.aspect_ratio or brief.aspect_ratio
        style = StyleGuide(palette=brief.palette or list(DEFAULT_PALETTE))
        if _AD_WORDS.search(text):
            framework, reason = choose_framework(text)
            scenes = ad_scenes(framework, brief)
            structure = "ad"
            title = brief.product or "Advertisement"
            aspect = aspect or "9:16"  # ad-mint-ai MVP default: vertical (seed 004 Story 3.2)
        else:
            framework, reason = None, None
            scenes = explainer_scenes(text)
            structure = "explainer"
            title = _short_title(text)
            aspect = aspect or "16:9"
        target = brief.duration_s
        chapters = []
        for i, (name, vtype, narration, description, overlay) in enumerate(scenes, start=1):
            shot = Shot(
                shot_id=f"ch{i:02d}-s01",
                narration=narration,
                visual=Visual(type=vtype, description=description),
                camera_move=CAMERA_CYCLE[(i - 1) % len(CAMERA_CYCLE)] if vtype != "title_card" else "zoom_in",
                overlays=[Overlay(type="caption", text=overlay)] if overlay else [],
                min_duration_s=round(target / len(scenes), 2) if target else None,
            )
            chapters.append(Chapter(chapter_id=f"ch{i:02d}", title=name, shots=[shot]))
        return Storyboard(
            project_id=req.project_id or slugify_id(title),
            settings=ProjectSettings(title=title, language=language, aspect_ratio=aspect, style=style),
            source=SourceInfo(kind="prompt", name=req.name, sha256=req.sha256),
            plan=PlanInfo(
                provider=self.provider_id,
                structure=structure,
                framework=framework,
                framework_reason=reason,
                target_duration_s=target,
            ),
            chapters=chapters,
        )


# --------------------------------------------------------------------- script parsing
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


def _short_title(text: str) -> str:
    first = split_sentences(text)[0] if text.strip() else "Untitled"
    words = first.rstrip(".!?").split()
    return " ".join(words) if len(words) <= 8 else " ".join(words[:6]) + "…"


# --------------------------------------------------------------------- prompt parsing
class Brief:
    """Facts read from a short prompt. Every field is None when the prompt does not state it."""

    def __init__(self) -> None:
        self.product: str | None = None
        self.description: str | None = None
        self.benefit: str | None = None
        self.audience: str | None = None
        self.tone: str | None = None
        self.aspect_ratio: str | None = None
        self.palette: list[str] = []
        self.duration_s: float | None = None


def read_brief(text: str) -> Brief:
    """Extract product, description, audience, tone, aspect ratio, palette and length from a brief."""
    b = Brief()
    m = re.search(r"\b(16:9|9:16|1:1)\b", text)
    if m:
        b.aspect_ratio = m.group(1)
    elif re.search(r"\b(vertical|portrait|reels?|shorts|tiktok|stories)\b", text, re.I):
        b.aspect_ratio = "9:16"
    elif re.search(r"\bsquare\b", text, re.I):
        b.aspect_ratio = "1:1"
    b.palette = [c.upper() for c in dict.fromkeys(h.upper() for h in _HEX.findall(text))][:8]
    m = re.search(r"\b(\d{1,3})\s*-?\s*(?:second|sec|s)\b", text, re.I)
    if m:
        b.duration_s = float(m.group(1))
    else:
        m = re.search(r"\b(\d{1,2})\s*-?\s*minutes?\b", text, re.I)
        if m:
            b.duration_s = 60.0 * float(m.group(1))
    if b.duration_s is not None and not 5 <= b.duration_s <= 600:
        b.duration_s = None
    m = re.search(r"[\"“”'‘]([^\"“”’]{2,60})[\"“”’]", text)
    if m:
        b.product = m.group(1).strip()
        rest = text[m.end() :]
        d = re.match(r"\s*,\s*((?:a|an|the)\s[^.;]+)", rest, re.I)
        if d:
            b.description = d.group(1).strip()
    if b.description:
        c = re.search(r"\b(?:that|which|who)\s+(.+)$", b.description)
        if c:
            b.benefit = c.group(1).strip()
            b.description = b.description[: c.start()].strip().rstrip(",")
    m = re.search(r"\baudience\s*:\s*([^.;\n]+)", text, re.I)
    if m:
        b.audience = m.group(1).strip()
    m = re.search(r"\btone\s*:\s*([^.;\n]+)", text, re.I)
    if m:
        b.tone = m.group(1).strip()
    return b


def choose_framework(text: str) -> tuple[str, str]:
    """Pick AIDA, PAS or BAB by stated rules (seed 004 FR-007) and say why."""
    named = re.search(r"\b(AIDA|PAS|BAB)\b", text)
    if named:
        return named.group(1), f"the brief names the {named.group(1)} framework"
    pas = _PAS_WORDS.search(text)
    if pas:
        return "PAS", f"the brief states a problem ({pas.group(0)!r}): Problem–Agitate–Solution"
    bab = _BAB_WORDS.search(text)
    if bab:
        return "BAB", f"the brief describes a transformation ({bab.group(0)!r}): Before–After–Bridge"
    return "AIDA", "no stated problem or transformation: Attention–Interest–Desire–Action suits a product introduction"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."


def ad_scenes(framework: str, b: Brief) -> list[tuple[str, str, str, str, str | None]]:
    """Scenes (name, visual type, narration, visual description, caption) for an ad (3–5 scenes, FR-008)."""
    name = b.product or "our product"
    what = b.description or "a product made for you"
    audience = b.audience or "you"
    benefit = _sentence(f"it {b.benefit}") if b.benefit else "It simply works, every day."
    tone = _sentence(b.tone) if b.tone else None
    meet = _sentence(f"meet {name}, {what}")
    cta = f"{name}. Get yours today."
    if framework == "PAS":
        return [
            ("Problem", "b_roll", _sentence(f"{audience}: the day never waits, and neither should you"), f"{audience}, rushed morning", None),
            ("Agitate", "b_roll", "Small frustrations add up, one trip at a time.", f"{audience}, everyday frustration", None),
            ("Solution", "b_roll", f"{meet} {benefit}", f"{name}, {what}", name),
            ("Action", "title_card", cta, f"{name}: get yours today", "Get yours today"),
        ]
    if framework == "BAB":
        return [
            ("Before", "b_roll", _sentence(f"before: {audience} making do"), f"{audience} before", None),
            ("After", "b_roll", f"After: {benefit[0].lower()}{benefit[1:]}", f"{audience} after, with {name}", None),
            ("Bridge", "b_roll", meet, f"{name}, {what}", name),
            ("Action", "title_card", cta, f"{name}: get yours today", "Get yours today"),
        ]
    return [
        ("Attention", "title_card", _sentence(f"for {audience} who never slow down"), name, None),
        ("Interest", "b_roll", meet, f"{name}, {what}, for {audience}", None),
        ("Desire", "b_roll", " ".join(x for x in (benefit, tone) if x), f"{name} in use: {b.benefit or what}", b.benefit and _sentence(b.benefit).rstrip(".")),
        ("Action", "title_card", cta, f"{name}: get yours today", "Get yours today"),
    ]


def explainer_scenes(text: str) -> list[tuple[str, str, str, str, str | None]]:
    """Scenes for a non-ad prompt: a title card, then one shot per sentence group of the prompt."""
    title = _short_title(text)
    scenes: list[tuple[str, str, str, str, str | None]] = [("Introduction", "title_card", _sentence(title), title, None)]
    for i, group in enumerate(group_sentences(text), start=1):
        items = enumeration_items(group)
        vtype, desc = ("diagram", "Diagram: " + "; ".join(items)) if items else ("b_roll", group)
        scenes.append((f"Part {i}", vtype, group, desc, None))
    return scenes
