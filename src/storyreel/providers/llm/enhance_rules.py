"""Offline agents of the prompt-enhancement loop (:mod:`storyreel.prompts.enhance`): a rule-based creative
director and a checklist critic. Deterministic, no model: the loop runs and is tested without a key.

Motion prompts (``brief.kind == "video"``) have their own checklist (:data:`VIDEO_CHECKS`, seed 004 stories 8.3,
9.1: camera move, subject action, pacing, how the shot ends, one continuous shot) and the director adds those.

The critic checks a prompt against the Prompt Scoring Guide of seed 004 (story 8.1): a scene description
(who/what → action → where/when → style), camera cues (shot size, lens), lighting cues, composition,
colour, natural language rather than keyword stuffing, and the brief's brand and palette. Each check it
fails is one line of feedback naming what to add; the director adds exactly those elements, chosen from
the brief (visual type → shot size and lens, camera move → framing, the project's style and palette).
"""

from __future__ import annotations

import re
from typing import ClassVar

from storyreel.prompts.enhance import Brief, Critique, Said

CHECKS: dict[str, re.Pattern[str]] = {
    "framing": re.compile(r"\b(close-?up|wide|medium|establishing|aerial|overhead|macro|full[- ]body|portrait|telephoto|tracking|shot)\b", re.I),
    "lens": re.compile(r"\b(\d{2,3} ?mm|lens|f/\d|wide-angle|telephoto)\b", re.I),
    "lighting": re.compile(r"\b(light|lights|lighting|lit|glow\w*|sunlight|sunset|sunrise|golden hour|backlit|shadow\w*|neon|candle\w*)\b", re.I),
    "composition": re.compile(r"\b(rule of thirds|rule-of-thirds|centred|centered|symmetr\w*|depth of field|bokeh|foreground|background|leading lines|negative space)\b", re.I),
    "setting": re.compile(r"\b(in|at|on|under|inside|outside|across|through|over)\b \w+", re.I),
    "style": re.compile(r"\b(style|illustration|photograph\w*|cinematic|watercolou?r|render\w*|film|painting|flat|editorial|documentary)\b", re.I),
    "colour": re.compile(r"(#[0-9a-f]{6}\b|\b(palette|colou?r\w*|red|orange|yellow|green|blue|teal|purple|pink|gold\w*|amber|navy|black|white|grey|gray)\b)", re.I),
}
"""What a complete image prompt names (seed 004 story 8.1, "Prompt Scoring Guide")."""

VAGUE = re.compile(r"\b(nice|beautiful|good|great|awesome|amazing|stuff|things?|something|cool|very)\b", re.I)
FEEDBACK = {
    "framing": "name the shot size, e.g. 'wide establishing shot' or 'close-up'",
    "lens": "name the lens, e.g. '35mm lens' or '85mm lens at f/1.8'",
    "lighting": "describe the light, e.g. 'soft golden morning light' or 'dramatic side lighting'",
    "composition": "give the composition, e.g. 'rule-of-thirds composition, shallow depth of field'",
    "setting": "say where and when the scene happens",
    "style": "name the style, e.g. 'cinematic photograph' or 'flat editorial illustration'",
    "colour": "name the colours or the palette",
}
SHOT = {  # visual type → shot size and lens the director proposes
    "title_card": ("centred typographic composition", "50mm lens"),
    "diagram": ("clean frontal view", "50mm lens"),
    "b_roll": ("wide establishing shot", "35mm lens"),
    "screen_share": ("close-up of the screen", "50mm lens"),
    "talking_head": ("medium close-up portrait", "85mm lens at f/1.8"),
}
MOVE = {"zoom_in": "the subject at the centre of the frame", "zoom_out": "the subject with room around it",
        "pan_left": "the subject on the left third", "pan_right": "the subject on the right third"}


VIDEO_CHECKS: dict[str, re.Pattern[str]] = {
    "camera": re.compile(r"\b(push(es)? in|pull(s)? back|pan\w*|tilt\w*|dolly|tracking|locked-off|static camera|orbit\w*|crane|"
                         r"handheld|zoom\w*|camera)\b", re.I),
    "action": re.compile(r"\b(mov\w+|walk\w*|turn\w*|drift\w*|sway\w*|roll\w*|flow\w*|rise\w*|rising|fall\w*|flicker\w*|"
                         r"ripple\w*|blow\w*|breath\w*|run\w*|fl(y|ies|ying)|spin\w*|open\w*|clos\w+|lift\w*|reach\w*|glid\w+|"
                         r"swirl\w*|shift\w*|motion)\b", re.I),
    "pacing": re.compile(r"\b(slow\w*|steady|gentl\w+|gradual\w*|smooth\w*|quick\w*|brisk\w*|seconds?|pac\w+)\b", re.I),
    "end": re.compile(r"\b(the shot ends|ends on|ends with|ending on|until|by the end|settles? on|comes? to rest)\b", re.I),
    "continuity": re.compile(r"\b(one continuous|continuous shot|no cuts|single take)\b", re.I),
}
"""What a complete motion prompt names (seed 004 stories 8.3 and 9.1: camera move, subject action, pacing, the end
state, one continuous shot)."""
VIDEO_FEEDBACK = {
    "camera": "name the camera move, e.g. 'a slow push in' or 'a locked-off shot'",
    "action": "say what moves in the scene and how (the subject's action, the light, the air)",
    "pacing": "give the pacing, e.g. 'slow and steady over five seconds'",
    "end": "say how the shot ends (the end frame)",
    "continuity": "ask for one continuous shot with no cuts",
}
CAMERA_WORDS = {
    "static": "A locked-off shot, the camera still", "zoom_in": "A slow push in", "zoom_out": "A slow pull back",
    "pan_left": "A slow pan to the left", "pan_right": "A slow pan to the right", "pan_up": "A slow tilt up",
    "pan_down": "A slow tilt down",
}
"""The shot's Ken Burns move as a camera move in words (what a video model is asked to do)."""


def fit_limit(text: str, limit: int | None) -> str:
    """``text`` within ``limit`` characters: whole sentences while they fit, else cut at a word."""
    if not limit or len(text) <= limit:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    return kept or text[:limit].rsplit(" ", 1)[0]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text)


class ChecklistCritic:
    """``critique(prompt, brief)``: scores 0–100 from the checklist (formulas per method), feedback per miss."""

    provider_id: ClassVar[str] = "local:checklist-critic"
    paid: ClassVar[bool] = False

    def estimate(self, prompt: str, brief: Brief) -> float:
        return 0.0

    def critique(self, prompt: str, brief: Brief) -> Said:
        if brief.kind == "video":
            return self._motion(prompt, brief)
        found = {name: bool(pattern.search(prompt)) for name, pattern in CHECKS.items()}
        words = _words(prompt)
        vague = len(VAGUE.findall(prompt))
        fragments = [f for f in re.split(r"[,;]", prompt) if f.strip()]
        stuffing = len(fragments) >= 6 and sum(len(_words(f)) for f in fragments) / len(fragments) < 3
        # completeness: subject (≥ 3 words), setting, lighting, framing, style, colour — each a sixth
        have = [len(words) >= 3, found["setting"], found["lighting"], found["framing"], found["style"], found["colour"]]
        completeness = round(100 * sum(have) / len(have))
        # specificity: distinct words of 4+ letters (concrete detail), minus 15 per vague word
        distinct = len({w.lower() for w in words if len(w) >= 4})
        specificity = max(0, min(100, 3 * distinct) - 15 * vague)
        # professionalism: natural sentences of 8–120 words; keyword stuffing, shouting and '!!' cost
        professionalism = 100 - (40 if stuffing else 0) - (20 if re.search(r"!{2,}", prompt) else 0)
        professionalism -= 20 if sum(w.isupper() and len(w) > 3 for w in words) > 2 else 0
        professionalism -= 25 if not 8 <= len(words) <= 120 else 0
        # cinematography: framing, lens, lighting, composition — a quarter each
        cinematography = 25 * sum(found[k] for k in ("framing", "lens", "lighting", "composition"))
        # brand alignment: the brief's brand name and palette, when it gives them (100 when it gives neither)
        asks = [(brief.brand, brief.brand and brief.brand.lower() in prompt.lower()),
                (brief.palette, brief.palette and any(c.lower() in prompt.lower() for c in brief.palette))]
        asked = [ok for want, ok in asks if want]
        brand = round(100 * sum(bool(ok) for ok in asked) / len(asked)) if asked else 100
        feedback = [FEEDBACK[k] for k in ("framing", "lens", "lighting", "composition", "setting", "style", "colour") if not found[k]]
        if vague:
            feedback.append("replace vague words (nice, beautiful, things) with what the viewer sees")
        if stuffing:
            feedback.append("write one scene in sentences instead of a list of keywords")
        if brief.brand and brief.brand.lower() not in prompt.lower():
            feedback.append(f"name the brand: {brief.brand}")
        if brief.palette and not any(c.lower() in prompt.lower() for c in brief.palette):
            feedback.append(f"use the brand palette: {', '.join(brief.palette)}")
        crit = Critique(completeness=completeness, specificity=specificity, professionalism=max(0, professionalism),
                        cinematography=cinematography, brand_alignment=brand, feedback=feedback)
        return Said(critique=crit)

    @staticmethod
    def _motion(prompt: str, brief: Brief) -> Said:
        """The motion-prompt rubric: completeness = subject, camera move, action, pacing, end state (a fifth each);
        cinematography = camera move, pacing, one continuous shot; brand alignment = continuity (one continuous
        shot, and the end state named when the brief gives one); over the model's limit costs professionalism."""
        found = {name: bool(pattern.search(prompt)) for name, pattern in VIDEO_CHECKS.items()}
        words = _words(prompt)
        vague = len(VAGUE.findall(prompt))
        completeness = round(100 * sum([len(words) >= 4, found["camera"], found["action"], found["pacing"], found["end"]]) / 5)
        specificity = max(0, min(100, 3 * len({w.lower() for w in words if len(w) >= 4})) - 15 * vague)
        professionalism = 100 - (25 if not 8 <= len(words) <= 200 else 0) - (30 if brief.limit and len(prompt) > brief.limit else 0)
        cinematography = round(100 * sum(found[k] for k in ("camera", "pacing", "continuity")) / 3)
        ends = not brief.end_state or found["end"]
        brand = 50 * found["continuity"] + 50 * ends
        feedback = [VIDEO_FEEDBACK[k] for k in VIDEO_CHECKS if not found[k]]
        if brief.limit and len(prompt) > brief.limit:
            feedback.append(f"shorten it to {brief.limit} characters (the model's limit)")
        if vague:
            feedback.append("replace vague words (nice, beautiful, things) with what the viewer sees")
        return Said(critique=Critique(completeness=completeness, specificity=specificity, professionalism=max(0, professionalism),
                                      cinematography=cinematography, brand_alignment=brand, feedback=feedback))


class RuleDirector:
    """``rewrite(prompt, feedback, brief)``: the prompt with the elements the feedback (or, first time, the
    checklist) misses, taken from the brief, appended as one sentence each. Never removes the user's words."""

    provider_id: ClassVar[str] = "local:rule-director"
    paid: ClassVar[bool] = False

    def estimate(self, prompt: str, brief: Brief) -> float:
        return 0.0

    def rewrite(self, prompt: str, feedback: list[str], brief: Brief) -> Said:
        if brief.kind == "video":
            return self._motion(prompt, brief)
        text = " ".join(prompt.split()).rstrip(".")
        missing = {k for k, pattern in CHECKS.items() if not pattern.search(text)}
        shot, lens = SHOT.get(brief.visual_type or "b_roll", SHOT["b_roll"])
        parts = [text + "."]
        if missing & {"framing", "lens"}:
            parts.append(f"{shot.capitalize()}, {lens}.")
        if "composition" in missing:
            parts.append(f"Rule-of-thirds composition with {MOVE.get(brief.camera_move or 'zoom_in', MOVE['zoom_in'])}, shallow depth of field.")
        if "lighting" in missing:
            parts.append("Soft directional morning light with gentle shadows.")
        if "style" in missing or (brief.style and brief.style.lower() not in text.lower()):
            parts.append(f"{(brief.style or 'Cinematic photograph').rstrip('.').capitalize()}.")
        if "colour" in missing or (brief.palette and not any(c.lower() in text.lower() for c in brief.palette)):
            colours = ", ".join(brief.palette[:3]) if brief.palette else "a restrained natural palette"
            parts.append(f"Colour palette: {colours}.")
        if brief.brand and brief.brand.lower() not in text.lower():
            parts.append(f"For {brief.brand}.")
        out = " ".join(parts)
        out = re.sub(VAGUE, "", out) if any("vague" in f for f in feedback) else out
        return Said(text=" ".join(out.split()))

    @staticmethod
    def _motion(prompt: str, brief: Brief) -> Said:
        """A motion prompt with what :data:`VIDEO_CHECKS` finds missing, from the brief: the camera move in words, the
        scene's motion, the pacing over the clip's length, the end state, one continuous shot — within the limit."""
        text = " ".join(prompt.split()).rstrip(".")
        missing = {k for k, pattern in VIDEO_CHECKS.items() if not pattern.search(text)}
        parts: list[tuple[int, str]] = []  # (priority: the lowest is dropped first when over the limit, sentence), in reading order
        if "camera" in missing:
            parts.append((5, f"{CAMERA_WORDS.get(brief.camera_move or '', 'A slow camera move')}."))
        parts.append((9, text + "."))
        if "action" in missing:
            parts.append((1, "Gentle, natural motion in the scene."))
        if "pacing" in missing:
            parts.append((3, f"Slow, steady pacing over {brief.duration_s:.0f} seconds." if brief.duration_s else "Slow, steady pacing."))
        if "end" in missing and brief.end_state:
            state = re.sub(r"^(A|An|The) ", lambda m: m.group(0).lower(), brief.end_state.rstrip("."))
            parts.append((2, f"The shot ends on {state}."))
        if "continuity" in missing:
            parts.append((4, "One continuous shot, no cuts."))
        while brief.limit and len(" ".join(p for _, p in parts)) > brief.limit and len(parts) > 1:
            parts.remove(min((p for p in parts if p[0] < 9), key=lambda p: p[0], default=parts[-1]))
        return Said(text=fit_limit(" ".join(" ".join(p for _, p in parts).split()), brief.limit))
