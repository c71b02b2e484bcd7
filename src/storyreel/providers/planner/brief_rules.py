"""The rule-based planning of short prompts (``local:planner``, no key, no network).

An advertising brief (mentions an ad, product or brand) becomes an ad storyboard built on the framework
chosen by rule (seed 004 FR-007/FR-008): an explicitly named framework wins; a stated problem or pain
picks PAS; a before/after transformation picks BAB; otherwise AIDA. Any other prompt becomes a short
explainer. The brief is read by :mod:`~storyreel.providers.planner.brief_reading` (product, brand, audience,
benefit, tone, call to action, aspect, palette, length) and the copy written by
:mod:`~storyreel.providers.planner.ad_copy` in the prompt's language.
"""

from __future__ import annotations

import re

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
from storyreel.core.text import guess_language
from storyreel.providers.base import PlannerRequest
from storyreel.providers.planner.ad_copy import ad_scenes, sentence
from storyreel.providers.planner.brief_reading import Brief, read_brief  # noqa: F401 - Brief re-exported
from storyreel.providers.planner.script_rules import (
    CAMERA_CYCLE,
    enumeration_items,
    group_sentences,
    short_title,
)

_AD_WORDS = re.compile(r"\b(ad|ads|advert\w*|commercial|promo\w*|campaign|product|brand|launch|sale|buy|werbung|werbespot\w*|"
                       r"reklam\w*|tanıtım\w*)\b", re.I)
_PAS_WORDS = re.compile(
    r"\b(problem\w*|pain\w*|tired of|struggl\w*|frustrat\w*|hassle|annoy\w*|worr\w*|waste\w*|fix\w*|solv\w*)\b", re.I
)
_BAB_WORDS = re.compile(r"\b(transform\w*|before|after|upgrade\w*|switch\w*|imagine|makeover|turns? \w+ into)\b", re.I)


def plan_prompt(req: PlannerRequest, provider_id: str) -> Storyboard:
    """A short prompt → storyboard: an ad brief on the AIDA, PAS or BAB framework chosen by rule (seed 004
    FR-007/FR-008), any other prompt a short explainer."""
    text = req.text.strip()
    language = req.language or guess_language(text)
    brief = read_brief(text, language)
    aspect = req.aspect_ratio or brief.aspect_ratio
    style = StyleGuide(palette=brief.palette or list(DEFAULT_PALETTE))
    if _AD_WORDS.search(text):
        framework, reason = choose_framework(text)
        scenes = ad_scenes(framework, brief)
        structure = "ad"
        title = brief.title or "Advertisement"
        aspect = aspect or "9:16"  # ad-mint-ai MVP default: vertical (seed 004 Story 3.2)
    else:
        framework, reason = None, None
        title, scenes = explainer_scenes(without_format(text))
        structure = "explainer"
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
            provider=provider_id,
            structure=structure,
            framework=framework,
            framework_reason=reason,
            target_duration_s=target,
        ),
        chapters=chapters,
    )


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


_EXPLAINER_ASK = re.compile(
    r"^\s*(?:(?:a|an|the|one)\s+)?(?:\d{1,3}\s*-?\s*(?:seconds?|sec|s|minutes?|min)\b\s*(?:long\s+)?)?"
    r"(?:(?:short|quick|brief|simple|animated|vertical|square|narrated)\s+)*"
    r"(?:explainer|explanation|video|clip|tutorial|overview|presentation|introduction|intro|guide|story)"
    r"(?:\s+video)?\s+(?:for|about|on|of|explaining|introducing|that explains)\s+", re.I)
"""The request around an explainer's topic ("A 30-second explainer for …"): what the video is, not what it says."""

_FORMAT = re.compile(
    r"(?:[,;]\s*|\s+in\s+|\s*\(\s*)(?:16:9|9:16|1:1)(?:\s+(?:format|aspect(?:\s+ratio)?))?\s*\)?"
    r"|[,;]\s*(?:vertical|portrait|landscape|widescreen|square)(?:\s+(?:format|video))?\s*$", re.I)
"""The video's format stated in a prompt (", 16:9", " in 9:16", "(1:1)", ", vertical"): read by the brief
reader as the aspect ratio, never part of the topic, a title or the narration."""


def without_format(text: str) -> str:
    """The prompt without the statement of its format: "A short explainer on why bees dance, 16:9" → "A short
    explainer on why bees dance"."""
    spaced = re.sub(r"\s{2,}", " ", _FORMAT.sub(" ", text))
    return re.sub(r"\s+([,.;:!?])", r"\1", spaced).strip()


_POINT_SPLIT = re.compile(r"\s*(?:;|,\s*(?:and\s+)?|\s\band\s+(?=(?:why|how|what|when|where|who|which)\b))\s*", re.I)


def explainer_topic(text: str) -> tuple[str, list[str]] | None:
    """``A 30-second explainer for a password manager app: why reusing passwords is risky and how the app
    fixes it`` → (``password manager app``, [``why reusing passwords is risky``, ``how the app fixes it``]);
    None when the prompt does not ask for a video about a topic."""
    m = _EXPLAINER_ASK.match(text)
    if not m:
        return None
    rest = text[m.end():].strip()
    parts = re.split(r"\s*[:—–]\s*|\.\s+", rest, maxsplit=1)
    topic, detail = parts[0], (parts[1] if len(parts) > 1 else "")
    topic = re.sub(r"^(?:a|an|the|our|my|your)\s+", "", topic.strip(" .!?"), flags=re.I)
    points = [p.strip(" .!?") for p in _POINT_SPLIT.split(detail) if p and p.strip(" .!?")]
    return (topic, points) if topic else None


def explainer_scenes(text: str) -> tuple[str, list[tuple[str, str, str, str, str | None]]]:
    """(title, scenes) for a non-ad prompt: a title card, then one shot per point the prompt asks to cover
    ("…: why A and how B") — or, for a prompt that is itself the text, one shot per sentence group. The
    request around the topic ("a 30-second explainer for …") is never narrated."""
    asked = explainer_topic(text)
    if asked:
        topic, points = asked
        title = topic[:1].upper() + topic[1:]
        if not points:  # nothing more to say than the topic: one picture of it, not the same line twice
            return title, [(title, "b_roll", sentence(title), topic, None)]
        scenes: list[tuple[str, str, str, str, str | None]] = [("Introduction", "title_card", sentence(title), title, None)]
        for point in points:
            scenes.append((point[:1].upper() + point[1:], "b_roll", sentence(point), f"{topic}: {point}", None))
        return title, scenes
    title = short_title(text)
    scenes = [("Introduction", "title_card", sentence(title), title, None)]
    for i, group in enumerate(group_sentences(text), start=1):
        items = enumeration_items(group)
        vtype, desc = ("diagram", "Diagram: " + "; ".join(items)) if items else ("b_roll", group)
        scenes.append((f"Part {i}", vtype, group, desc, None))
    return title, scenes
