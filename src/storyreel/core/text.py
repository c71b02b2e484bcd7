"""Plain-text helpers for narration: sentence splitting, word counts and language guessing."""

from __future__ import annotations

import re

_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 and C1 controls but tab and newline; DEL
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates ("Trojan Source", CVE-2021-42574)
    "\ufeff\ufff9-\ufffb]"  # BOM inside text, interlinear annotation controls
)


def strip_controls(text: str) -> str:
    """``text`` without control characters: C0/C1 controls (tab becomes a space; newlines stay), DEL,
    bidi embedding/override/isolate characters and stray BOMs are *removed* — they would reach subtitle
    files, burned-in frames and file contents. Carriage returns are normalized to newlines first."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROLS.sub("", text)


_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "no", "prof", "inc", "ltd", "bzw", "z.b", "vb"}
_SENTENCE_END = re.compile(r"""([.!?…]+["'”’)\]]*)\s+(?=["'“‘(\[]?[A-ZÀ-ÖØ-ÞİÇĞÖŞÜÄ0-9])""")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences on ., ! and ? followed by a capital letter; keeps the punctuation.

    Common abbreviations ("Mr.", "e.g.") do not end a sentence. Whitespace is collapsed.
    """
    text = re.sub(r"\s+", " ", text.strip())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.end(1)]
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".").lower()
        if last_word in _ABBREVIATIONS:
            continue
        sentences.append(candidate.strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def word_count(text: str) -> int:
    """Number of words (runs of letters/digits, apostrophes inside words allowed)."""
    return len(re.findall(r"\w+(?:['’]\w+)*", text))


def estimate_speech_seconds(text: str, words_per_minute: float = 165.0) -> float:
    """Narration length estimate in seconds at ``words_per_minute`` (plus 0.25 s per sentence pause)."""
    return word_count(text) * 60.0 / words_per_minute + 0.25 * max(1, len(split_sentences(text)))


STOPWORDS = {
    "tr": {"ve", "bir", "bu", "için", "ile", "da", "de", "çok", "ne", "olarak", "daha", "gibi", "nasıl"},
    "de": {"und", "der", "die", "das", "ist", "nicht", "ein", "eine", "mit", "zu", "den", "auf", "für"},
    "fr": {"le", "la", "les", "et", "est", "une", "des", "pour", "dans", "que", "pas", "avec"},
    "es": {"el", "la", "los", "las", "y", "es", "una", "para", "con", "que", "por", "del"},
    "en": {"the", "and", "is", "of", "to", "a", "in", "that", "it", "for", "with", "on", "we"},
}
"""The most frequent function words of each language :func:`guess_language` tells apart."""


def guess_language(text: str) -> str:
    """Best-guess ISO 639-1 code among en, tr, de, fr, es from letters and stopwords; 'en' if unsure."""
    lowered = text.lower()
    if re.search(r"[ğış]", lowered):
        return "tr"
    words = re.findall(r"\w+", lowered)
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in STOPWORDS.items()}
    if "ß" in lowered or re.search(r"[äöü]", lowered):
        scores["de"] += 3
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "en"
