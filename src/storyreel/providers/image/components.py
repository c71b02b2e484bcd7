"""Offline pictures of a story's components (issue 27 item 6): the component sheet a character, prop or place gets
once, and the shot frames that show the components a shot names — the same sheet in every shot, so the same
component looks the same wherever it appears.

A component's picture is the vendored art (OpenMoji, :mod:`storyreel.providers.image.art`) its name names, else what
its description names within its kind (a character: a person or an animal; a prop: an object; a place: a place or a
plant), else a stand-in of its kind: a person figure for a character (which one follows the name, so two characters
differ), an object token for a prop, a tree for a place. The sheet is that picture whole and centred on a plain light
background with the component's name under it (:func:`component_sheet`). A shot frame (:func:`draw_components`)
shows the shot's component sheets on discs over its background, the first (the story lists characters first) the
largest, where the camera move ends.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from storyreel.media.typography import font

SHEET_BG = (246, 244, 239)
KIND_GROUPS = {"character": ("people-body", "animals-nature"), "product": ("objects", "food-drink", "extras-openmoji", "activities"),
               "prop": ("objects", "food-drink", "extras-openmoji", "activities"),
               "place": ("travel-places", "animals-nature", "extras-openmoji")}
STORY_WORDS = {"crow": "bird", "raven": "bird", "magpie": "bird", "sparrow": "bird", "forest": "evergreen tree", "woods": "evergreen tree",
               "tree": "deciduous tree", "moon": "new moon", "starship": "rocket", "spaceship": "rocket", "ship": "ship",
               "boat": "sailboat", "letter": "envelope", "message": "envelope", "map": "world map", "sea": "water wave",
               "ocean": "water wave", "storm": "cloud with lightning", "cheese": "cheese wedge", "key": "key", "castle": "castle"}
PEOPLE = ("person", "person: red hair", "person: curly hair", "person: blond hair", "older person", "person: white hair", "person: beard")
STAND_INS = {"character": PEOPLE, "product": ("wrapped gift", "package", "gem stone"), "prop": ("wrapped gift", "package", "gem stone"),
             "place": ("evergreen tree", "house", "mountain")}


def component_art(name: str, kind: str, description: str | None, language: str = "en"):  # noqa: ANN201 - an ArtEntry
    """The artwork that pictures a component (see the module); never None — a stand-in of its kind at worst."""
    from storyreel.providers.image.art import art_pack, match_subjects

    pack = art_pack()
    bare = " ".join(w for w in name.split() if w.lower() not in ("the", "a", "an"))
    groups = KIND_GROUPS.get(kind, ())
    for text in (bare, *(w for w in bare.lower().split() if w in STORY_WORDS), description or ""):
        word = STORY_WORDS.get(text.lower(), text)
        exact = pack.by_annotation.get(word.lower())
        if exact is not None and (not groups or exact.group in groups or text == bare):
            return exact
        for subject in match_subjects(word, language, limit=3):
            if not groups or subject.art.group in groups:
                return subject.art
    choices = [pack.by_annotation[a] for a in STAND_INS.get(kind, PEOPLE) if a in pack.by_annotation]
    if not choices:
        choices = [next(iter(pack.by_hex.values()))]
    return choices[int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:6], 16) % len(choices)]


def component_sheet(name: str, kind: str, description: str | None, size: int, out: Path, language: str = "en") -> str:
    """Draw the component sheet of ``size`` × ``size`` px into ``out`` (PNG): its picture whole and centred, the name
    under it. Returns the artwork's annotation (for provenance)."""
    from storyreel.core.atomic import atomic_path
    from storyreel.providers.image.art import art_image

    art = component_art(name, kind, description, language)
    sheet = Image.new("RGBA", (size, size), (*SHEET_BG, 255))
    picture = art_image(art, int(size * 0.68))
    sheet.alpha_composite(picture, ((size - picture.width) // 2, int(size * 0.06)))
    draw = ImageDraw.Draw(sheet)
    label = name if len(name) <= 28 else name[:27] + "…"
    face = font("bold", max(12, size // 14))
    box = draw.textbbox((0, 0), label, font=face)
    draw.text(((size - (box[2] - box[0])) / 2, size * 0.8), label, font=face, fill=(40, 40, 48, 255))
    with atomic_path(out) as tmp:
        sheet.convert("RGB").save(tmp, format="PNG")
    return art.annotation


def draw_components(base: Image.Image, sheets: list[Path], pal, rng: random.Random, camera_move: str,  # noqa: ANN001
                    band: tuple[float, float] | None = None) -> Image.Image:
    """``base`` (RGBA) with the pictures of ``sheets`` (component sheets, the hero first) on discs, laid out like the
    matched art of a b-roll frame (:func:`storyreel.providers.image.broll.draw_subjects`): the hero large where the
    camera move ends, up to two more beside or under it. Returns an RGBA image."""
    from storyreel.providers.image.broll import _disc, disc_spots

    base, spots = disc_spots(base, pal, rng, camera_move, len(sheets), band)
    for path, (x, y, size) in reversed(list(zip(sheets, spots, strict=False))):  # the hero last: on top
        base = _disc(base, pal, x, y, size)
        base.alpha_composite(_picture(path, size), (int(x - size / 2), int(y - size / 2)))
    return base


def _picture(sheet: Path, size: int) -> Image.Image:
    """The picture part of a component sheet (its top, without the name), ``size`` px, background made clear."""
    with Image.open(sheet) as im:
        im = im.convert("RGBA")
    side = im.width
    crop = im.crop((int(side * 0.14), int(side * 0.04), int(side * 0.86), int(side * 0.76)))
    crop = np.asarray(crop.resize((size, size), Image.LANCZOS)).copy()
    plain = (np.abs(crop[..., :3].astype(np.int16) - np.array(SHEET_BG, dtype=np.int16)) < 6).all(axis=2)
    crop[plain, 3] = 0  # the sheet's plain background becomes transparent: the disc shows through
    return Image.fromarray(crop, "RGBA")
