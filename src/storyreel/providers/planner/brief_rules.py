"""The rule-based planning of short prompts (``local:planner``, no key, no network).

An advertising brief (mentions an ad, product or brand) becomes an ad storyboard built on the framework
chosen by rule (seed 004 FR-007/FR-008): an explicitly named framework wins; a stated problem or pain
picks PAS; a before/after transformation picks BAB; otherwise AIDA. Any other prompt becomes a short
explainer. Aspect ratio ("9:16", "vertical"), palette (``#0F5257``) and target length ("20-second")
are read from the prompt when it states them.
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
from storyreel.providers.planner.script_rules import (
    CAMERA_CYCLE,
    enumeration_items,
    group_sentences,
    short_title,
)

_AD_WORDS = re.compile(r"\b(ad|ads|advert\w*|commercial|promo\w*|campaign|product|brand|launch|sale|buy)\b", re.I)
_PAS_WORDS = re.compile(
    r"\b(problem\w*|pain\w*|tired of|struggl\w*|frustrat\w*|hassle|annoy\w*|worr\w*|waste\w*|fix\w*|solv\w*)\b", re.I
)
_BAB_WORDS = re.compile(r"\b(transform\w*|before|after|upgrade\w*|switch\w*|imagine|makeover|turns? \w+ into)\b", re.I)
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")


def plan_prompt(req: PlannerRequest, provider_id: str) -> Storyboard:
    """A short prompt → storyboard: an ad brief on the AIDA, PAS or BAB framework chosen by rule (seed 004
    FR-007/FR-008), any other prompt a short explainer."""
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
        title = short_title(text)
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
    title = short_title(text)
    scenes: list[tuple[str, str, str, str, str | None]] = [("Introduction", "title_card", _sentence(title), title, None)]
    for i, group in enumerate(group_sentences(text), start=1):
        items = enumeration_items(group)
        vtype, desc = ("diagram", "Diagram: " + "; ".join(items)) if items else ("b_roll", group)
        scenes.append((f"Part {i}", vtype, group, desc, None))
    return scenes
