"""``local:story`` — the offline story engine of story mode (issue 27 item 6): deterministic answers to each step of
:mod:`storyreel.core.story`, built from the prompt's own words.

The prompt's things come from what the vendored art can draw (:func:`~storyreel.providers.image.art.match_subjects`:
"a fox", "a bottle", "a lighthouse") and its people from its names and person words ("keeper", "girl"); what is not
named is filled from small tables (a protagonist's name chosen by the prompt's hash, a place). Each multi-option
step answers three options that really differ: three worlds with their own tone and look (a gentle fable at dawn, a
moody night adventure, a bright comedy), three plots (a storm that cuts the hero off, a rival who wants the same
thing, a loss that must be undone). Scenes follow the narrative's beginning, middle and end; every scene has a stage
shot that places its components, and two to three shots whose pictures name the components (so the offline cards
draw them) and whose narration tells the story. Same prompt and picks, same story, byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, ClassVar

from pydantic import BaseModel

from storyreel.core.story import STEPS

NAMES = ("Mira", "Tobin", "Ilse", "Anouk", "Rafi", "Wren", "Otto", "Lena", "Basil", "Nell")
PERSON_WORDS = {"keeper", "girl", "boy", "woman", "man", "child", "daughter", "son", "sister", "brother", "king", "queen",
                "princess", "prince", "sailor", "fisher", "fisherman", "farmer", "baker", "knight", "witch", "wizard", "robot",
                "inventor", "painter", "musician", "teacher", "student", "detective", "pilot", "astronaut", "explorer", "hunter",
                "captain", "doctor", "nurse", "soldier", "scientist", "engineer", "grandmother", "grandfather", "boy", "girl"}
PLACES = ("harbour", "forest", "village", "mountain", "city", "island", "desert", "garden", "castle", "lighthouse", "river",
          "station", "school", "library", "market", "farm", "meadow", "beach", "cave", "tower", "moon", "planet", "ocean", "sea",
          "kitchen", "workshop", "museum", "jungle", "valley", "lake")
WORLDS = (
    {"tone": "warm, gentle fable", "look": "soft watercolour illustration, warm dawn light, muted greens and golds",
     "world": "a quiet {place} where everyone knows everyone and small things matter", "when": "at dawn"},
    {"tone": "tense, moody adventure", "look": "painterly night scene, deep blues and lamplight, strong shadows",
     "world": "a {place} at the edge of the map, where the weather decides who gets home", "when": "on a stormy night"},
    {"tone": "bright, playful comedy", "look": "flat bright cartoon, saturated primary colours, clean outlines",
     "world": "a busy, noisy {place} where nothing ever goes to plan", "when": "on a market day"},
)
PLOTS = (
    {"conflict": "a storm cuts {hero} off from home", "try": "{hero} shelters the {thing} and waits out the storm",
     "turn": "the wind tears the {thing} away", "end": "{hero} finds the {thing} again at first light and carries it home. The storm has passed, and the {place} is quiet again"},
    {"conflict": "a rival wants the {thing} too", "try": "{hero} races the rival across the {place}",
     "turn": "the rival gets there first", "end": "{hero} shares the {thing}, and the rival becomes a friend. Together they walk home through the {place}"},
    {"conflict": "{hero} loses the {thing} on the way", "try": "{hero} retraces every step through the {place}",
     "turn": "the trail goes cold", "end": "{hero} finds it where the journey began, and understands why it mattered. The {thing} stays close from then on"},
)
MOVES = ("zoom_in", "pan_right", "zoom_out", "pan_left")
DETERMINERS = {"a", "an", "the", "of", "his", "her", "their", "its", "some", "my", "our", "your"}
ADJECTIVES = {"young", "old", "little", "small", "big", "great", "tiny", "giant", "lonely", "brave", "clever", "lost", "broken",
              "crippled", "golden", "silver", "secret", "strange", "magic", "ancient", "new", "red", "blue", "green", "black", "white"}
ANIMALS = {"fox", "crow", "cat", "dog", "owl", "hare", "tortoise", "bear", "wolf", "horse", "bird", "fish", "mouse", "rabbit",
           "lion", "dragon", "whale", "frog", "goat", "sheep", "duck", "goose", "pig", "cow", "deer", "squirrel", "turtle"}
STOP = {"way", "day", "night", "time", "story", "world", "piece", "thing", "lot", "kind", "storm", "race", "start", "end"}


class LocalStory:
    """``answer(step, context) -> output``: the step's output DTO (:data:`storyreel.core.story.STEPS`) filled offline.
    Free and instant; ``provider_id`` ``local:story``."""

    provider_id: ClassVar[str] = "local:story"
    code_version: ClassVar[str] = "local-story/1"
    paid: ClassVar[bool] = False

    def identity(self, step: str) -> str:
        return self.provider_id

    def estimate(self, step: str, context: BaseModel) -> float:
        return 0.0

    def reply(self, step: str, context: BaseModel) -> tuple[BaseModel, dict[str, int], float]:
        """:meth:`answer` as the story stages ask every writer: (output, tokens, USD) — free, no tokens."""
        return self.answer(step, context), {}, 0.0

    def answer(self, step: str, context: BaseModel) -> BaseModel:
        """The output of ``step`` for ``context`` (an instance of the step's context DTO), validated by the step's
        output DTO. Raises ``KeyError`` for an unknown step."""
        _, output = STEPS[step]
        data = getattr(self, f"_{step}")(context.model_dump())
        return output.model_validate(data)

    # ----------------------------------------------------------------------------------- steps
    def _lore(self, c: dict) -> dict:
        cast = _cast(c["prompt"])
        options = []
        for w in WORLDS:
            world = w["world"].format(place=cast["place"])
            options.append({"title": _title(cast, w), "world": f"{cast['premise'].capitalize()}, in {world}, {w['when']}.",
                            "tone": w["tone"], "visual_style": w["look"]})
        return {"options": options}

    def _narrative(self, c: dict) -> dict:
        cast = _cast(c["prompt"])
        hero, thing, place, other = cast["hero"], cast["thing"], cast["place"], cast["other"]
        options = []
        for p in PLOTS:
            f = {k: v.format(hero=hero, thing=thing, place=place) for k, v in p.items()}
            options.append({
                "logline": f"{hero} wants to keep the {thing} safe, but {f['conflict']}.",
                "protagonist": hero,
                "beginning": f"In {c['lore']['world'].rstrip('.').split(', in ', 1)[-1]}, {hero}, a {cast['person']}, finds the {thing}"
                             f"{f', while the {other} watches' if other else ''}. {hero} decides to keep it safe until its story is known.",
                "middle": f"{_cap(f['conflict'])}. {_cap(f['try'])}, but {f['turn']}.",
                "end": f"{_cap(f['end'])}.",
            })
        return {"options": options}

    def _scenes(self, c: dict) -> dict:
        n = c["narrative"]
        place = _cast_from(n)["place"]
        beats = [("The find", n["beginning"]), ("The trouble", n["middle"]), ("Home", n["end"])]
        return {"scenes": [{"name": name, "description": text,
                            "sketch": f"The {place}, {('early morning' if i == 0 else 'dusk' if i == 1 else 'morning light')}; "
                                      f"{n['protagonist']} in the foreground."}
                           for i, (name, text) in enumerate(beats)]}

    def _scenes_options(self, c: dict) -> dict:
        """Three scene lists: the three acts; the acts with a journey between the trouble and the end; the story told
        from its turning point (the trouble first, then how it began, then the end)."""
        acts = self._scenes(c)["scenes"]
        n = c["narrative"]
        journey = {"name": "The journey", "description": f"{n['protagonist']} sets out across the {_cast_from(n)['place']}. "
                   "Every step takes longer than it should.", "sketch": f"A long path, late afternoon; {n['protagonist']} small in the frame."}
        return {"options": [{"scenes": acts}, {"scenes": [acts[0], acts[1], journey, acts[2]]},
                            {"scenes": [acts[1], {**acts[0], "name": "How it began"}, acts[2]]}]}

    def _components(self, c: dict) -> dict:
        n = c["narrative"]
        cast = _cast_from(n)
        names = [s["name"] for s in c["scenes"]]
        comps = [{"name": n["protagonist"], "kind": "character", "description": f"{n['protagonist']}, a {cast['person']} in a "
                  f"red coat and a yellow scarf, with short dark hair", "scenes": names},
                 {"name": f"the {cast['thing']}", "kind": "prop", "description": f"the {cast['thing']}, small enough to carry in two hands",
                  "scenes": names},
                 {"name": f"the {cast['place']}", "kind": "place", "description": f"the {cast['place']}, seen wide, with open sky above",
                  "scenes": names}]
        if cast.get("other"):
            comps.insert(1, {"name": f"the {cast['other']}", "kind": "character", "description": f"the {cast['other']}, "
                             "curious and watchful", "scenes": names[1:]})
        return {"components": comps}

    def _stage_shot(self, c: dict) -> dict:
        scene, comps = c["scene"], c["components"]
        place = next((x["name"] for x in comps if x["kind"] == "place"), "the place")
        others = [x["name"] for x in comps if x["kind"] != "place"]
        return {"description": f"Wide establishing shot of {place}: {scene['sketch']} "
                               f"{', '.join(others[:-1]) + ' and ' + others[-1] if len(others) > 1 else (others or ['nothing'])[0]} "
                               f"in view."}

    def _shots(self, c: dict) -> dict:
        scene, comps = c["scene"], c["components"]
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", scene["description"]) if s.strip()] or [scene["description"]]
        chars = [x["name"] for x in comps if x["kind"] == "character"]
        props = [x["name"] for x in comps if x["kind"] == "prop"]
        place = next((x["name"] for x in comps if x["kind"] == "place"), "the place")
        shots = [{"name": f"{scene['name'].lower()} opens", "description": c["stage_setting_shot"]["description"],
                  "narration": sentences[0], "camera_move": "zoom_out", "components": [x["name"] for x in comps]}]
        for i, sentence in enumerate(sentences[1:3] or [f"{chars[0] if chars else 'Everyone'} keeps going."]):
            who = chars[i % len(chars)] if chars else "someone"
            what = props[0] if props else place
            shots.append({"name": f"{scene['name'].lower()} {i + 2}", "description": f"Close view of {who} with {what} at {place}",
                          "narration": sentence, "camera_move": MOVES[(i + len(scene['name'])) % len(MOVES)],
                          "components": [who, what]})
        return {"shots": shots}


# ------------------------------------------------------------------------------------------ the prompt's words
def _cast(prompt: str) -> dict[str, Any]:
    """The prompt's hero, other character, thing and place, and its premise (the prompt as a clause). Nouns are the
    words after a determiner ("a fox", "the cheese", "of glass"); the thing is the first that is not a person, an
    animal, a place or a word too vague to draw ("piece", "way")."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", prompt)
    lower = [w.lower() for w in words]
    names = [w for i, w in enumerate(words) if w[0].isupper() and i > 0 and lower[i - 1] not in DETERMINERS
             and lower[i] not in PERSON_WORDS and lower[i] not in DETERMINERS]
    nouns = []
    for i, w in enumerate(lower[:-1]):
        if w in DETERMINERS:
            j = i + 1
            while j + 1 < len(lower) and lower[j] in ADJECTIVES:
                j += 1
            if lower[j] not in DETERMINERS and len(lower[j]) >= 3:
                nouns.append(lower[j])
    person = next((w for w in lower if w.rstrip("s") in PERSON_WORDS), None)
    animals = [n for n in nouns if n in ANIMALS] + [w for w in lower if w in ANIMALS and w not in nouns]
    place = next((w for w in lower if w in PLACES), None)
    things = [n for n in nouns if n not in ANIMALS and n.rstrip("s") not in PERSON_WORDS and n not in PLACES and n not in STOP]
    digest = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8], 16)
    hero = names[0] if names else NAMES[digest % len(NAMES)]
    if person is None:
        person = animals.pop(0) if animals else "traveller"
    return {"hero": hero, "person": person, "thing": (things or ["lantern"])[0], "other": animals[0] if animals else None,
            "place": place or PLACES[digest % len(PLACES)], "premise": prompt.strip().rstrip(".!?")[:300]}


def _cast_from(narrative: dict) -> dict[str, Any]:
    """The cast as the narrative names it (its logline keeps the thing; its beginning the hero's role and the place)."""
    thing = re.search(r"keep the (.+?) safe", narrative["logline"])
    place = next((p for p in PLACES if p in (narrative["beginning"] + narrative["middle"]).lower()), "village")
    role = re.search(r", an? ([a-z' -]+?), finds", narrative["beginning"])
    person = role.group(1) if role else "traveller"
    other = re.search(r"while the ([a-z' -]+?) watches", narrative["beginning"])
    return {"hero": narrative["protagonist"], "thing": thing.group(1) if thing else "lantern", "place": place, "person": person,
            "other": other.group(1) if other else None}


def _title(cast: dict, world: dict) -> str:
    return {"warm, gentle fable": f"{cast['hero']} and the {cast['thing'].title()}",
            "tense, moody adventure": f"The Night of the {cast['thing'].title()}",
            "bright, playful comedy": f"{cast['hero']}'s Very Busy Day"}[world["tone"]]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
