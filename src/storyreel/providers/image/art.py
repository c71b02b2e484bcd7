"""Open artwork for the offline renderer: OpenMoji (https://openmoji.org, CC BY-SA 4.0), vendored as package
data (``art/openmoji.json.gz``, built by ``scripts/build_art_pack.py``), matched to what a shot's narration
and description name, and rasterized at run time with resvg (``resvg-py``, no system libraries).

Matching: the text is tokenized and lemmatized (``simplemma``, en / tr / de); Turkish and German lemmas go
through a small dictionary to English, English ones through a small synonym table where the art lacks the
word (hare → rabbit, tortoise → turtle, bitcoin → coin); then the lemmas and two-word phrases are looked up
in an index of the art's annotations (strongest), their head nouns, tags and OpenMoji tags (weakest).
Only concrete groups (animals and nature, food, places and travel, activities, objects, people) are used.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ART_DIR = Path(__file__).with_name("art")
PACK = ART_DIR / "openmoji.json.gz"
GROUPS = {"animals-nature": 1.0, "food-drink": 1.0, "travel-places": 1.0, "activities": 0.9, "objects": 1.0,
          "people-body": 0.8, "flags": 0.9, "extras-openmoji": 1.0, "extras-unicode": 1.0}
SUBGROUPS = {  # within these groups only pictures of things (no brand logos, UI glyphs, country flags)
    "flags": {"flag"},
    "extras-openmoji": {"technology", "climate-environment", "travel-places", "food-drink", "objects", "animals-nature",
                        "gardening", "healthcare", "people"},
    "extras-unicode": {"technology", "climate-environment", "travel-places", "food-drink", "objects", "animals-nature",
                       "gardening", "healthcare", "people"},
}
WEIGHTS = {"annotation": 3.0, "head": 2.0, "tag": 1.0, "openmoji_tag": 0.5}
MIN_SCORE = 1.8
"""A subject must match an artwork's name or its head noun; a tag alone is too loose ("test" → test tube)."""

STOP = {
    "en": set("""a an the and or but of to in on at by for with from as is are was were be been being it its this that these those
        there here we you he she they them his her our your their i me my not no nor so too very can could will would shall should
        may might must do does did done have has had having one two three four five six seven eight nine ten first last new old
        other some any all each every more most less many much such own same than then now only just also well far long little
        great good day days time times way ways thing things part kind sort get got make made say said see seen come came go went
        gone take took give gave know knew think thought way while which who whom whose what when where why how up down out over
        under again further once before after above below between into through during about against because until who simple
        proper larger sense move start together fast slow short note die""".split()),
}

# Turkish and German lemmas → the English word of the art (concrete nouns of explainers and stories)
TO_ENGLISH = {
    "tr": {
        "tavşan": "rabbit", "kaplumbağa": "turtle", "tilki": "fox", "para": "money", "bozuk para": "coin", "madeni para": "coin",
        "bitcoin": "coin", "altın": "gold", "banka": "bank", "cüzdan": "wallet", "anahtar": "key", "kilit": "lock",
        "zincir": "chain", "blok": "package", "bilgisayar": "computer", "makine": "computer", "madenci": "pick",
        "madencilik": "pick", "telefon": "mobile phone", "dosya": "file folder", "mektup": "envelope", "posta": "envelope",
        "kitap": "book", "defter": "notebook", "kayıt defteri": "ledger", "ağ": "globe with meridians", "dünya": "globe with meridians",
        "ev": "house", "okul": "school", "araba": "car", "güneş": "sun", "ay": "moon", "yıldız": "star", "su": "droplet",
        "şişe": "glass bottle", "lamba": "light bulb", "ışık": "light bulb", "kahve": "hot beverage", "kahve makine": "hot beverage", "çay": "teacup", "saat": "clock",
        "ödül": "trophy", "bulmaca": "puzzle piece", "matematik": "abacus", "kamera": "camera", "veri": "computer",
        "sunucu": "computer", "mağaza": "shop", "market": "shopping cart", "kalp": "heart", "ağaç": "tree", "çiçek": "flower",
        "deniz": "water wave", "dağ": "mountain", "şehir": "cityscape", "yol": "road", "tren": "train", "uçak": "airplane",
        "köpek": "dog", "kedi": "cat", "kuş": "bird", "at": "horse", "balık": "fish", "adam": "man", "kadın": "woman",
        "çocuk": "child", "aile": "family", "insan": "people", "kalem": "pencil", "harita": "map", "imza": "writing hand",
    },
    "de": {
        "hase": "rabbit", "kaninchen": "rabbit", "schildkröte": "turtle", "fuchs": "fox", "geld": "money", "münze": "coin",
        "bitcoin": "coin", "gold": "gold", "bank": "bank", "geldbörse": "purse", "brieftasche": "wallet", "schlüssel": "key",
        "schloss": "lock", "kette": "chain", "computer": "computer", "rechner": "computer", "telefon": "mobile phone",
        "handy": "mobile phone", "buch": "book", "brief": "envelope", "welt": "globe with meridians", "erde": "globe with meridians", "haus": "house",
        "schule": "school", "auto": "car", "fahrrad": "bicycle", "sonne": "sun", "mond": "moon", "stern": "star",
        "wasser": "droplet", "flasche": "glass bottle", "trinkflasche": "glass bottle", "lampe": "light bulb", "schreibtischlampe": "light bulb",
        "licht": "light bulb", "glühbirne": "light bulb", "kaffee": "hot beverage", "kaffeemaschine": "hot beverage", "tee": "teacup", "uhr": "clock", "pokal": "trophy",
        "kamera": "camera", "laden": "shop", "herz": "heart", "baum": "tree", "blume": "flower", "meer": "water wave",
        "berg": "mountain", "stadt": "cityscape", "straße": "road", "zug": "train", "flugzeug": "airplane", "hund": "dog",
        "katze": "cat", "vogel": "bird", "pferd": "horse", "fisch": "fish", "mann": "man", "frau": "woman", "kind": "child",
        "familie": "family", "menschen": "people", "stift": "pencil", "karte": "map", "kopfhörer": "headphone",
        "rucksack": "backpack", "schuh": "shoe", "pflanze": "potted plant", "tasse": "hot beverage",
    },
}
SYNONYMS = {  # English words the art does not use → the art's word
    "hare": "rabbit", "bunny": "rabbit", "tortoise": "turtle", "fox": "fox", "bitcoin": "coin", "crypto": "coin", "cryptocurrency": "coin",
    "lamp": "light bulb", "desk lamp": "light bulb", "bulb": "light bulb", "light": "light bulb", "father": "man", "fathers": "man",
    "nation": "classical building", "government": "classical building", "liberty": "Statue of Liberty",
    "freedom": "dove", "peace": "dove", "war": "crossed swords", "battle": "crossed swords", "battlefield": "crossed swords",
    "battle-field": "crossed swords", "dead": "headstone", "grave": "headstone", "earth": "globe with meridians",
    "world": "globe with meridians", "continent": "globe showing Americas", "fight": "crossed swords", "people": "people holding hands", "race": "chequered flag",
    "goal": "chequered flag", "finish": "chequered flag", "course": "motorway", "wayside": "motorway", "road": "motorway",
    "sleep": "zzz", "asleep": "zzz", "bottle": "glass bottle", "water bottle": "glass bottle", "drink": "tumbler glass",
    "cold": "ice", "win": "trophy", "prize": "trophy", "award": "trophy", "wind": "wind face", "commuter": "bus",
    "city": "cityscape", "miner": "pick", "mining": "pick", "ledger": "ledger", "wallet": "purse", "key": "key",
    "data": "computer", "server": "computer", "machine": "computer", "phone": "mobile phone", "app": "mobile phone",
    "password": "locked", "security": "locked", "secure": "locked", "safe": "locked", "bakery": "bread", "sourdough": "bread",
    "loaf": "bread", "baker": "bread",
}


@dataclass(frozen=True)
class ArtEntry:
    """One artwork: its hex code (OpenMoji's file name), annotation, group and SVG source."""

    hex: str
    annotation: str
    group: str
    svg: str


@dataclass(frozen=True)
class Subject:
    """A matched artwork and the word of the text it stands for (``score``: the match's strength)."""

    art: ArtEntry
    word: str
    score: float


class ArtPack:
    """The vendored set: its credits and a word → scored artworks index."""

    def __init__(self, data: dict) -> None:
        self.name, self.version = data["name"], data["version"]
        self.license, self.license_url, self.url = data["license"], data["license_url"], data["url"]
        self.attribution = data["attribution"]
        self.index: dict[str, list[tuple[float, ArtEntry]]] = {}
        self.by_annotation: dict[str, ArtEntry] = {}
        self.by_hex: dict[str, ArtEntry] = {}
        for e in data["entries"]:
            weight = GROUPS.get(e["group"])
            if weight is None or (e["group"] in SUBGROUPS and e["subgroup"] not in SUBGROUPS[e["group"]]):
                continue
            art = ArtEntry(e["hex"], e["annotation"], e["group"], e["svg"])
            self.by_hex[art.hex] = art
            name = e["annotation"].lower()
            self.by_annotation.setdefault(name, art)  # first wins: the base emoji before its variants
            self._add(name, WEIGHTS["annotation"] * weight, art)
            self._add(name.split()[-1], WEIGHTS["head"] * weight, art)
            for tag in e["tags"]:
                self._add(tag.lower(), WEIGHTS["tag"] * weight, art)
            for tag in e["openmoji_tags"]:
                self._add(tag.lower(), WEIGHTS["openmoji_tag"] * weight, art)
        for entries in self.index.values():
            entries.sort(key=lambda se: (-se[0], len(se[1].annotation)))

    def _add(self, key: str, score: float, art: ArtEntry) -> None:
        bucket = self.index.setdefault(key, [])
        if all(a.hex != art.hex for _, a in bucket):
            bucket.append((score, art))

    def credit(self) -> dict:
        """What the sidecars and the provenance record about the artwork."""
        return {"art": f"{self.name} {self.version}", "license": self.license, "license_url": self.license_url,
                "attribution": self.attribution}


@lru_cache(maxsize=1)
def art_pack() -> ArtPack:
    """The vendored artwork, loaded once per process (≈ 0.2 s)."""
    with gzip.open(PACK, "rt", encoding="utf-8") as fh:
        return ArtPack(json.load(fh))


def _lemmas(text: str, language: str) -> list[str]:
    """Lower-case lemmas of the words of ``text``; an English word capitalized inside a sentence is a name
    ("Tide & Stone") and is marked with a leading ``^`` unless it names an artwork outright ("the Hare")."""
    import simplemma

    lang = language.split("-")[0].lower()
    lang = lang if lang in ("en", "tr", "de") else "en"
    out: list[str] = []
    sentence_start = True
    for token in simplemma.simple_tokenizer(text):
        if not re.match(r"^\w[\w'-]*$", token) or token.isdigit():
            sentence_start = sentence_start or token in ".!?:;\"“”"
            continue
        lemma = simplemma.lemmatize(token, lang=lang).lower()
        if lang == "en" and token[:1].isupper() and not sentence_start and lemma not in SYNONYMS and lemma not in art_pack().by_annotation:
            lemma = "^" + lemma
        out.append(lemma)
        sentence_start = False
    return out


def _english(lemmas: list[str], language: str) -> list[tuple[int, str]]:
    """(position, English word or phrase) for the lemmas that can name art: two-word phrases first."""
    lang = language.split("-")[0].lower()
    table = TO_ENGLISH.get(lang)
    words: list[tuple[int, str]] = []
    skip = -1
    for i, lemma in enumerate(lemmas):
        if i == skip:  # the second word of a pair already matched ("kahve makine")
            continue
        pair = f"{lemma} {lemmas[i + 1]}" if i + 1 < len(lemmas) else None
        if table is not None:
            if pair and pair in table:
                words.append((i, table[pair]))
                skip = i + 1
            elif lemma in table:
                words.append((i, table[lemma]))
            continue
        if lemma in STOP["en"] or len(lemma) < 3 or lemma.startswith("^"):  # stop words and names show nothing
            continue
        if pair and (pair in SYNONYMS or pair in art_pack().by_annotation):
            words.append((i, SYNONYMS.get(pair, pair)))
        words.append((i, SYNONYMS.get(lemma, lemma)))
    return words


def match_subjects(text: str, language: str, limit: int = 3) -> list[Subject]:
    """Up to ``limit`` distinct artworks for what ``text`` names, the strongest (earliest on ties) first.
    Returns [] when nothing in the text has a picture."""
    return list(_match(text, language, limit))


@lru_cache(maxsize=512)
def _match(text: str, language: str, limit: int) -> tuple[Subject, ...]:
    pack = art_pack()
    found: dict[str, tuple[float, int, Subject]] = {}
    for position, word in _english(_lemmas(text, language), language):
        key = word.lower()
        exact = pack.by_annotation.get(key)
        candidates = [(WEIGHTS["annotation"] * 1.2 * GROUPS[exact.group], exact)] if exact else pack.index.get(key, [])[:1]
        for score, art in candidates:
            if score < MIN_SCORE:
                continue
            if art.hex not in found or found[art.hex][0] < score:
                found[art.hex] = (score, position, Subject(art, word, score))
    ranked = sorted(found.values(), key=lambda t: (-t[0], t[1]))
    return tuple(subject for _, _, subject in ranked[:limit])


_render_lock = threading.Lock()


@lru_cache(maxsize=64)
def rasterize(hex_code: str, size: int) -> bytes:
    """The artwork ``hex_code`` as a ``size × size`` RGBA PNG (resvg: crisp at any size; cached per process)."""
    import resvg_py

    art = art_pack().by_hex[hex_code]
    with _render_lock:
        return bytes(resvg_py.svg_to_bytes(svg_string=art.svg, width=size, height=size))


def art_image(art: ArtEntry, size: int):  # noqa: ANN201 - PIL.Image.Image
    """The artwork as a PIL RGBA image of ``size × size`` pixels."""
    from PIL import Image

    return Image.open(io.BytesIO(rasterize(art.hex, size))).convert("RGBA")
