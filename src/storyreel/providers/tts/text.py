"""What a neural voice is given to read: the narration split into words, each with what is said for it.

The voice reads letters as it finds them, so a few written forms are spelled out first (English only; other
languages go to espeak-ng, whose own rules read numbers):

- numbers: ``1863`` as a year ("eighteen sixty-three") when it is four digits from 1100 to 2099, other whole
  numbers as cardinals (``2,000,000`` → "two million"), decimals (``3.5`` → "three point five"), ordinals
  (``21st`` → "twenty-first"), decades (``1960s`` → "nineteen sixties"), percentages (``5%`` → "five percent"),
  money (``$5.50`` → "five dollars and fifty cents"; ``€``, ``£`` likewise) — via ``num2words``;
- abbreviations that end in a period a voice would take for a sentence end: ``Dr.`` ``Mr.`` ``Mrs.`` ``Ms.``
  ``Prof.`` ``St.`` (Saint before a name) ``Jr.`` ``Sr.`` ``vs.`` ``etc.`` ``e.g.`` ``i.e.`` ``No.`` (before a
  number) ``Mt.``;
- everything else stays as written, punctuation included (it gives the voice its pauses).

Each :class:`Token` keeps the word's place in the original text, so word timings point at what the viewer
reads in the subtitles, not at the spelled-out form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from num2words import num2words

WORD = re.compile(r"\S+")
EDGE = "\"'“”‘’«»()[]{}.,;:!?…—–-*_"
ABBREVIATIONS = {"Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor", "Jr.": "Junior",
                 "Sr.": "Senior", "vs.": "versus", "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is",
                 "Mt.": "Mount", "approx.": "approximately"}
MONEY = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence")}


@dataclass(frozen=True)
class Token:
    """One written word: ``word`` as written (its edge punctuation off), at ``start``–``end`` (characters) in the
    text; ``say``: what the voice is given for the whole written token (``raw_start``–``raw_end``), punctuation
    included."""

    word: str
    start: int
    end: int
    say: str
    raw_start: int
    raw_end: int


def _cardinal(digits: str) -> str:
    return num2words(int(digits.replace(",", "")))


def _number(core: str) -> str | None:
    """The spoken form of a number-like ``core`` (no edge punctuation), or None when it is not one."""
    if m := re.fullmatch(r"([$€£])(\d[\d,]*)(?:\.(\d\d))?", core):
        one, many, sub_one, sub_many = MONEY[m.group(1)]
        whole = int(m.group(2).replace(",", ""))
        said = f"{num2words(whole)} {one if whole == 1 else many}"
        if m.group(3) and int(m.group(3)):
            sub = int(m.group(3))
            said += f" and {num2words(sub)} {sub_one if sub == 1 else sub_many}"
        return said
    if m := re.fullmatch(r"(\d[\d,]*(?:\.\d+)?)%", core):
        return f"{_number(m.group(1))} percent"
    if m := re.fullmatch(r"(\d+)(st|nd|rd|th)", core):
        return num2words(int(m.group(1)), to="ordinal")
    if m := re.fullmatch(r"(1[1-9]|20)(\d0)s", core):
        year = num2words(int(m.group(1) + m.group(2)), to="year")
        return year[:-1] + "ies" if year.endswith("y") else year + "s"
    if re.fullmatch(r"\d{4}", core) and 1100 <= int(core) <= 2099:
        return num2words(int(core), to="year")
    if re.fullmatch(r"\d{1,3}(,\d{3})+|\d+", core):
        return _cardinal(core)
    if re.fullmatch(r"\d+\.\d+", core):
        return num2words(float(core)) if len(core) < 12 else None
    return None


def tokens(text: str, language: str) -> list[Token]:
    """The words of ``text`` with what to say for each (see the module's rules; only English is spelled out)."""
    found = []
    matches = list(WORD.finditer(text))
    english = language.split("-")[0].lower() == "en"
    for i, m in enumerate(matches):
        raw = m.group()
        lead = len(raw) - len(raw.lstrip(EDGE))
        core = raw.strip(EDGE)
        if not core:  # a dash or a quote mark standing alone: said with its neighbour, not a word
            continue
        start = m.start() + lead
        say = raw
        if english:
            following = matches[i + 1].group().lstrip(EDGE) if i + 1 < len(matches) else ""
            if raw.rstrip("\"'”’)") in ABBREVIATIONS or (raw == "No." and following[:1].isdigit()):
                key = raw.rstrip("\"'”’)")
                said = ABBREVIATIONS.get(key, "number")
                ends = key == "etc." and (not following or following[:1].isupper())
                say = said + ("." if ends else "") + raw[len(key):]
            elif raw == "St." and following[:1].isupper():
                say = "Saint"
            else:
                spoken = _number(core)
                if spoken is not None:
                    say = raw[:lead] + spoken + raw[lead + len(core):]
        found.append(Token(word=core, start=start, end=start + len(core), say=say, raw_start=m.start(), raw_end=m.end()))
    return found


def spoken(text: str, words: list[Token]) -> str:
    """``text`` with each word replaced by what is said for it (dashes, quotes and spacing kept)."""
    parts, at = [], 0
    for t in words:
        parts += [text[at:t.raw_start], t.say]
        at = t.raw_end
    return "".join(parts) + text[at:]
