"""Reading a short prompt offline: what is advertised, by whom, for whom, why, and how it should look.

Rules over the prompt's own words (en, de, tr), with ``yake`` keyphrases (Campos et al., "YAKE! Keyword
extraction from single documents using multiple local features", Information Sciences 509, 2020) as the
fallback for the product and ``simplemma`` lemmas for matching — no model. Every field is ``None`` / empty
when the prompt does not state it; nothing is invented except the defaults the copy falls back on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storyreel.core.text import guess_language

_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
_QUOTED = re.compile(r"[\"“„«‘'’]([^\"“”„«»‘’']{2,60})[\"”“»’']")
FORMAT_WORDS = {  # words about the video, never the product
    "ad", "ads", "advert", "advertisement", "commercial", "promo", "promotion", "video", "spot", "clip", "campaign",
    "second", "seconds", "minute", "minutes", "square", "vertical", "horizontal", "portrait", "landscape", "reel", "reels",
    "story", "stories", "short", "shorts", "tiktok", "color", "colors", "colour", "colours", "brand", "tone", "audience",
    "werbung", "werbespot", "werbevideo", "sekunden", "sekündiger", "farben", "reklam", "reklamı", "saniyelik", "renkler",
    "tanıtım", "kare", "dikey",
}
PEOPLE = re.compile(
    r"\b(people|person|users?|customers?|commuters?|students?|parents?|families|kids|children|teens?|gamers?|developers?|"
    r"designers?|runners?|cyclists?|travell?ers?|professionals?|owners?|workers?|athletes?|cooks?|chefs?|musicians?|"
    r"readers?|writers?|moms?|dads?|mothers?|fathers?|seniors?|beginners?|fans?|lovers?|buyers?|shoppers?|drivers?|"
    r"pendler\w*|studierende\w*|eltern|kinder|familien|nutzer\w*|kunden|sportler\w*|"
    r"\w+(?:lar|ler)|öğrenci\w*|çalışan\w*|aile\w*)\b", re.I)
TONES = ("calm", "playful", "bold", "premium", "luxurious", "friendly", "energetic", "warm", "minimalist", "fun", "serious",
         "elegant", "upbeat", "cozy", "modern", "ruhig", "verspielt", "hochwertig", "freundlich", "sakin", "eğlenceli", "şık")
CTAS = (r"shop now", r"order (?:now|today)", r"buy (?:now|today)", r"sign up(?: today)?", r"download (?:the app|now)",
        r"try it (?:free|today)", r"book (?:now|today)", r"visit \S+", r"jetzt (?:kaufen|bestellen|entdecken)",
        r"hemen (?:al|sipariş ver|keşfet)")


@dataclass
class Brief:
    """Facts read from a short prompt (``None`` / empty where the prompt does not say)."""

    language: str = "en"
    product: str | None = None  # what is advertised, in the prompt's words ("desk lamp")
    brand: str | None = None  # its name when the prompt gives one ("Tide & Stone")
    description: str | None = None  # the product with its qualifiers ("refillable stainless-steel water bottle")
    features: list[str] = field(default_factory=list)  # "with adjustable warmth"
    benefit: str | None = None  # what it does for the audience ("keeps drinks cold for 24 hours")
    audience: str | None = None
    tone: str | None = None
    cta: str | None = None
    aspect_ratio: str | None = None
    palette: list[str] = field(default_factory=list)
    duration_s: float | None = None

    @property
    def name(self) -> str | None:
        """How the copy names it: the brand, else the product."""
        return self.brand or self.product

    @property
    def title(self) -> str | None:
        """The video's title: the brand, else the product with a capital."""
        name = self.name
        return name[:1].upper() + name[1:] if name else None


def read_brief(text: str, language: str | None = None) -> Brief:
    """Read ``text`` (a prompt of 10–500 characters) into a :class:`Brief`."""
    lang = (language or guess_language(text)).split("-")[0]
    b = Brief(language=lang if lang in ("en", "de", "tr") else "en")
    _format(text, b)
    _names(text, b)
    _audience(text, b)
    _tone_and_cta(text, b)
    if b.product is None and b.brand is None:
        b.product = _keyphrase(text, b.language)
    return b


def _format(text: str, b: Brief) -> None:
    m = re.search(r"\b(16:9|9:16|1:1)\b", text)
    if m:
        b.aspect_ratio = m.group(1)
    elif re.search(r"\b(vertical|portrait|reels?|shorts|tiktok|stories|hochformat|dikey)\b", text, re.I):
        b.aspect_ratio = "9:16"
    elif re.search(r"\b(square|quadratisch\w*|kare)\b", text, re.I):
        b.aspect_ratio = "1:1"
    b.palette = list(dict.fromkeys(h.upper() for h in _HEX.findall(text)))[:8]
    m = re.search(r"\b(\d{1,3})\s*-?\s*(?:second|sec|s\b|sek[uü]nd\w*|saniye\w*)", text, re.I)
    if m:
        b.duration_s = float(m.group(1))
    else:
        m = re.search(r"\b(\d{1,2})\s*-?\s*(?:minutes?|minuten?|dakika\w*)\b", text, re.I)
        if m:
            b.duration_s = 60.0 * float(m.group(1))
    if b.duration_s is not None and not 5 <= b.duration_s <= 600:
        b.duration_s = None


def _clean_np(np: str) -> str:
    np = re.split(r"\s*(?:[,.;:!?(]|\s(?:that|which|who|with|so|to|in|on|for|colou?rs?|farben|mit|für|aus|die|der|ki|için|renk\w*)\s)",
                  f" {np.strip()} ")[0]
    words = [w for w in np.split() if w.lower() not in FORMAT_WORDS and not re.fullmatch(r"#?\w*\d\w*", w)]
    return " ".join(words[-4:]).strip(" -–—\"'“”„")


def _names(text: str, b: Brief) -> None:
    quoted = _QUOTED.search(text)
    if quoted:
        b.brand = quoted.group(1).strip()
        rest = text[quoted.end():]
        d = re.match(r"\s*,?\s*(?:(?:a|an|the|ein|eine|einen|die|der|das|bir)\s)?([^.;]+)", rest, re.I)
        if d and d.group(1).strip():
            _describe(d.group(1), b)
    named = re.search(r"\b(?:called|named|namens|adlı|isimli)\s+([A-ZÄÖÜÇĞİŞ][\w&'-]*(?:\s[A-ZÄÖÜÇĞİŞ][\w&'-]*)*)", text)
    if named and not b.brand:
        b.brand = named.group(1)
    if b.product:
        return
    patterns = {
        "en": r"\b(?:ad|ads|advert\w*|commercial|promo\w*|video|spot|campaign|launch)\s+(?:for|about|of|introducing)\s+(?:(?:a|an|the|our|my|new)\s+)*([^.;:!?]+)",
        "de": r"\b(?:werbung|werbespot|werbevideo|spot|video|kampagne)\s+(?:für|über)\s+(?:(?:ein|eine|einen|die|den|das|unsere|unseren|neue|neuen)\s+)*([^.;:!?]+)",
        "tr": r"((?:[\wçğıöşüÇĞİÖŞÜ-]+\s+){1,4})(?:reklam\w*|tanıtım\w*|videosu)\b",
    }
    m = re.search(patterns[b.language], text, re.I)
    if m:
        _describe(m.group(1), b)


def _describe(phrase: str, b: Brief) -> None:
    """``a refillable stainless-steel water bottle that keeps drinks cold`` → description, product, benefit."""
    clause = re.search(r"\b(?:that|which|who|die|der|das|so you can)\s+([^.;]+)", phrase, re.I)
    if clause:
        # the brief's own specification (colours, length, format) is not part of what the product does
        benefit = re.split(r",?\s*\b(?:in\s+)?(?:colou?rs?|farben|renk\w*)\b|\s*#[0-9a-f]{3,8}\b", clause.group(1), flags=re.I)[0]
        b.benefit = benefit.strip(" ,") or None
        phrase = phrase[: clause.start()]
    for feature in re.findall(r"\b(?:with|mit)\s+([^,.;]+?)(?=\s+(?:and|und|for|für)\b|[,.;]|$)", phrase, re.I):
        b.features.append(feature.strip())
    head = _clean_np(phrase)
    if b.language == "tr":  # Turkish puts the product right before "reklamı": keep the last two content words
        head = " ".join([w for w in head.split() if w.lower() not in ("bir", "yeni", "için", "saniyelik") and not w[0].isdigit()][-2:])
    if not head:
        return
    b.description = head
    if b.language == "de":  # the first noun (German capitalizes nouns): "Trinkflasche aus Edelstahl" → Trinkflasche
        b.product = next((w for w in head.split() if w[:1].isupper()), head.split()[-1])
    elif b.language == "en":
        b.product = " ".join(head.split()[-2:])
    else:
        b.product = head


def _audience(text: str, b: Brief) -> None:
    m = re.search(r"\b(?:audience|zielgruppe|hedef kitle)\s*:\s*([^.;\n]+)", text, re.I)
    if m:
        b.audience = m.group(1).strip()
        return
    for m in re.finditer(r"\b(?:for|aimed at|targeting|für)\s+(?!(?:a|an|the|ein|eine|einen|die|den|das|my|our)\b)([^,.;:!?]+)", text, re.I):
        phrase = re.split(r"\s(?:who|that|with|in|mit|colou?rs?)\s", m.group(1))[0].strip()
        if PEOPLE.search(phrase) and len(phrase.split()) <= 5:
            b.audience = phrase
            return
    if b.language == "tr":
        m = re.search(r"([\wçğıöşü]+(?:lar|ler)[\wçğıöşü]*)\s+için", text, re.I)
        if m:
            b.audience = m.group(1)


def _tone_and_cta(text: str, b: Brief) -> None:
    m = re.search(r"\b(?:tone|ton|ton\w*)\s*:\s*([^.;\n]+)", text, re.I)
    if m:
        b.tone = m.group(1).strip()
    else:
        found = [t for t in TONES if re.search(rf"\b{t}\b", text, re.I)]
        b.tone = ", ".join(found[:2]) or None
    for pattern in CTAS:
        m = re.search(rf"\b({pattern})", text, re.I)
        if m:
            b.cta = m.group(1)
            break


def _keyphrase(text: str, language: str) -> str | None:
    """The prompt's strongest keyphrase that is not about the video's format (yake, up to two words)."""
    import yake

    plain = _HEX.sub(" ", text)
    for phrase, _score in yake.KeywordExtractor(lan=language, n=2, top=10).extract_keywords(plain):
        words = [w for w in phrase.split() if w.lower() not in FORMAT_WORDS and not any(ch.isdigit() for ch in w)]
        if words and len(words) == len(phrase.split()):
            return " ".join(words)
    return None
