"""Ad copy from a read brief: the scenes of an AIDA, PAS or BAB ad (seed 004 FR-007/FR-008) in the prompt's
language (en, de, tr), naming what the prompt names — never "our product" when it gives one.

A scene is (chapter name, visual type, narration, visual description, caption or None). Every narration
sentence starts with a capital and ends with punctuation; the title card shows the brand, else the product.
"""

from __future__ import annotations

from storyreel.providers.planner.brief_reading import Brief

Scene = tuple[str, str, str, str, "str | None"]

WORDS = {
    "en": {"thing": "product", "cta": "Get yours today.", "meet_brand": "Meet {brand}, {a_desc}.", "meet": "Meet your new {desc}.",
           "for": "Made for {audience}.", "daily": "Your {product}, ready every day.", "with": "With {features}.",
           "problem": "{Audience}: the day never waits, and neither should you.", "agitate": "Small frustrations add up, one day at a time.",
           "before": "Before: {audience} making do.", "after": "After: {benefit}", "names": ("Attention", "Interest", "Desire", "Action"),
           "pas": ("Problem", "Agitate", "Solution", "Action"), "bab": ("Before", "After", "Bridge", "Action"), "you": "you",
           "in_use": "{name} in use", "everyday": "everyday frustration"},
    "de": {"thing": "Produkt", "cta": "Jetzt entdecken!", "meet_brand": "Das ist {brand}: {desc}.", "meet": "Entdecke: {Desc}.",
           "for": "Für {audience}.", "daily": "{Product}, jeden Tag für dich da.", "with": "Mit {features}.",
           "problem": "{Audience}: Der Tag wartet nicht.", "agitate": "Kleine Ärgernisse summieren sich, Tag für Tag.",
           "before": "Vorher: {audience} behelfen sich.", "after": "Nachher: {benefit}", "names": ("Aufmerksamkeit", "Interesse", "Wunsch", "Handlung"),
           "pas": ("Problem", "Zuspitzung", "Lösung", "Handlung"), "bab": ("Vorher", "Nachher", "Brücke", "Handlung"), "you": "dich",
           "in_use": "{name} im Einsatz", "everyday": "Alltagsärger"},
    "tr": {"thing": "ürün", "cta": "Hemen keşfedin!", "meet_brand": "Karşınızda {brand}: {desc}.", "meet": "Tanışın: {Desc}.",
           "for": "{Audience} için tasarlandı.", "daily": "{Product}, her gün yanınızda.", "with": "{Features} ile.",
           "problem": "{Audience}: Gün beklemez.", "agitate": "Küçük dertler her gün birikir.",
           "before": "Önce: {audience} idare ediyor.", "after": "Sonra: {benefit}", "names": ("Dikkat", "İlgi", "İstek", "Eylem"),
           "pas": ("Sorun", "Kışkırtma", "Çözüm", "Eylem"), "bab": ("Önce", "Sonra", "Köprü", "Eylem"), "you": "siz",
           "in_use": "{name} kullanımda", "everyday": "günlük dertler"},
}


def sentence(text: str) -> str:
    """``text`` with a capital first letter and final punctuation (an ellipsis counts: a cut title is not
    given a full stop after it)."""
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def ad_scenes(framework: str, b: Brief) -> list[Scene]:
    """The 4 scenes of an ad on ``framework`` for brief ``b`` (FR-008: 3–5 scenes)."""
    w = WORDS.get(b.language, WORDS["en"])
    product = b.product or w["thing"]
    name = b.name or product
    title = b.title or _cap(product)
    desc = b.description or product
    audience = b.audience or ""
    article = ("an " if desc[:1].lower() in "aeiou" else "a ") if b.language == "en" else ""
    values = {"brand": b.brand or "", "desc": desc, "Desc": _cap(desc), "a_desc": article + desc, "product": product, "Product": _cap(product),
              "audience": audience or w["you"], "Audience": _cap(audience or w["you"]), "name": name,
              "features": ", ".join(b.features), "Features": _cap(", ".join(b.features)),
              "benefit": sentence(b.benefit) if b.benefit else ""}
    meet = (w["meet_brand"] if b.brand else w["meet"]).format(**values)
    made_for = w["for"].format(**values) if audience else ""
    benefit = b.benefit
    if benefit and b.language == "en" and benefit.split()[0].lower().endswith("s"):
        benefit = f"it {benefit}"  # "keeps drinks cold" → "It keeps drinks cold."
    desire = sentence(benefit) if benefit else (w["with"].format(**values) if b.features else w["daily"].format(**values))
    tone = sentence(b.tone) if b.tone else ""
    cta = sentence(b.cta) if b.cta else w["cta"]
    action = ("title_card", f"{title}. {cta}", f"{title}: {cta}", cta.rstrip(".!"))
    caption = _cap(b.benefit).rstrip(".") if b.benefit else None
    if framework == "PAS":
        n = w["pas"]
        return [
            (n[0], "b_roll", sentence(w["problem"].format(**values)), f"{values['Audience']}, {w['everyday']}", None),
            (n[1], "b_roll", sentence(w["agitate"]), f"{values['Audience']}, {w['everyday']}", None),
            (n[2], "b_roll", f"{meet} {desire}", ", ".join(dict.fromkeys((name, desc))), title),
            (n[3], *action),
        ]
    if framework == "BAB":
        n = w["bab"]
        after = w["after"].format(**values) if b.benefit else desire
        return [
            (n[0], "b_roll", sentence(w["before"].format(**values)), f"{values['Audience']}", None),
            (n[1], "b_roll", sentence(after), f"{values['Audience']}, {name}", None),
            (n[2], "b_roll", meet, ", ".join(dict.fromkeys((name, desc))), title),
            (n[3], *action),
        ]
    n = w["names"]
    return [
        (n[0], "title_card", " ".join(x for x in (f"{title}.", made_for) if x), title, None),
        (n[1], "b_roll", meet, ", ".join(dict.fromkeys(x for x in (name, desc, audience) if x)), None),
        (n[2], "b_roll", " ".join(x for x in (desire, tone) if x), w["in_use"].format(**values) + (f": {b.benefit}" if b.benefit else ""), caption),
        (n[3], *action),
    ]
