"""The frame layout: regions that cannot collide, a card text area that survives the camera move, and the
``text_layout`` check that fails on each way a layout can break."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from storyreel.media.layout import Box, check_text_layout, frame_layout, motion_safe_area, title_safe
from storyreel.media.subtitles import subtitle_band
from storyreel.media.timeline import KenBurns
from storyreel.providers.base import ImageRequest
from storyreel.providers.image.local_cards import render_card_with_layout

SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}
MOVES = ["static", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]


def record(elements: list[dict], camera: str = "static", size=(1920, 1080), span: int = 120, body=(8, 112)) -> dict:
    return {"shot_id": "ch01-s01", "frame": list(size), "still": list(size), "camera": KenBurns.for_move(camera).__dict__,
            "span": span, "body": list(body), "elements": elements}


def card(text: str, box, role: str = "text") -> dict:
    return {"group": "card", "role": role, "text": text, "box": list(box)}


def framed(group: str, text: str, box, frames=(0, 103)) -> dict:
    return {"group": group, "role": "text", "kind": group, "text": text, "box": list(box), "frames": list(frames)}


# --------------------------------------------------------------------------- regions
@pytest.mark.parametrize("aspect", SIZES)
def test_overlays_subtitles_and_content_never_share_a_pixel(aspect):
    w, h = SIZES[aspect]
    layout = frame_layout(w, h, [("caption", "Özel anahtarınızı kimseyle paylaşmayın!"), ("lower_third", "Bitcoin Eğitim Serisi · Bölüm 42"),
                                 ("caption", "Blok = işlemler + önceki bloğun özeti"), ("lower_third", "Abone olmayı unutmayın")], subtitles=True)
    boxes = [p.box for p in layout.overlays] + [layout.subtitles, layout.content]
    for i, a in enumerate(boxes):
        assert layout.safe.contains(a), (aspect, a)
        for b in boxes[i + 1:]:
            assert not a.overlaps(b, tolerance=0), (aspect, a, b)
    captions = [p.box for p in layout.overlays if p.kind == "caption"]
    thirds = [p.box for p in layout.overlays if p.kind == "lower_third"]
    assert captions[0].y1 < captions[1].y0 < layout.content.y0  # captions stack down, content below them
    assert layout.content.y1 < thirds[1].y0 < thirds[0].y0 < layout.subtitles.y0  # lower thirds stack up from the band
    one_each = frame_layout(w, h, [("caption", "Özel anahtarınızı kimseyle paylaşmayın!"), ("lower_third", "Abone olmayı unutmayın")], subtitles=True)
    assert one_each.content.height > h * 0.3


def test_the_subtitle_band_holds_the_tallest_cue():
    from storyreel.media.subtitles import cue_box

    w, h = SIZES["16:9"]
    top, bottom = subtitle_band(w, h)
    x, y, bw, bh = cue_box("Dijital bir dosyayı kopyalamak çok kolaydır. Peki aynı dijital parayı iki kez harcamayı ne engeller?", w, h)
    assert y == top and y + bh == bottom
    assert frame_layout(w, h, [], subtitles=False).content == title_safe(w, h)  # nothing reserved: the whole safe area


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("aspect", SIZES)
def test_the_text_area_stays_inside_the_content_region_at_both_ends_of_every_move(aspect, move):
    w, h = SIZES[aspect]
    region = frame_layout(w, h, [("caption", "A headline")], subtitles=True).content
    area = motion_safe_area(region, KenBurns.for_move(move), w, h, w, h)
    assert not area.empty and area.width > w * 0.5
    for p in (0.0, 0.5, 1.0):
        z, fx, fy = KenBurns.for_move(move).at(p)
        tx, ty = -(w * z - w) * fx, -(h * z - h) * fy
        mapped = Box(area.x0 * z + tx, area.y0 * z + ty, area.x1 * z + tx, area.y1 * z + ty)
        assert region.contains(mapped, tolerance=1e-6), (move, p, mapped, region)


# --------------------------------------------------------------------------- the check on broken layouts
def test_a_clean_layout_passes():
    ok, measured, failures = check_text_layout([record([card("Dijital Para Sorunu", (300, 150, 1100, 230)),
                                                        framed("subtitle", "Buna çift harcama sorunu denir.", (502, 886, 1418, 972))],
                                                       camera="pan_right")])
    assert ok and failures == [] and measured.startswith("2 boxes in 1 shots")


def test_text_that_a_pan_carries_out_of_the_title_safe_area_fails():
    # the old diagram heading at 8 % of the width: the pan's end window starts right of it ("ijital Para Sorunu")
    ok, _, failures = check_text_layout([record([card("Dijital Para Sorunu", (154, 76, 954, 150))], camera="pan_right")])
    assert not ok and "leaves the title-safe area" in failures[0] and "Dijital Para Sorunu" in failures[0]


def test_text_that_a_zoom_pushes_past_the_edge_fails_only_at_the_end_of_the_move():
    ok, _, failures = check_text_layout([record([card("Özet", (110, 500, 400, 580))], camera="zoom_in")])
    assert not ok and "frame +" in failures[0]
    ok, _, _ = check_text_layout([record([card("Özet", (110, 500, 400, 580))], camera="zoom_out")])
    assert not ok  # zoom_out starts pushed in: the first frame already cuts it
    assert check_text_layout([record([card("Özet", (110, 500, 400, 580))], camera="static")])[0]


def test_a_caption_banner_over_the_heading_fails():
    ok, _, failures = check_text_layout([record([card("Blok Zinciri", (154, 76, 700, 150)),
                                                 framed("overlay", "Blok = işlemler + önceki bloğun özeti", (600, 108, 1320, 190))])])
    assert not ok and "overlaps overlay" in failures[0]


def test_a_lower_third_on_the_subtitles_fails():
    ok, _, failures = check_text_layout([record([framed("overlay", "Abone olmayı unutmayın", (192, 840, 800, 920)),
                                                 framed("subtitle", "Özetle: Bitcoin, merkezi bir kurum olmadan çalışan", (300, 826, 1600, 972))])])
    assert not ok and "overlaps subtitle" in failures[0]


def test_subtitles_over_a_diagram_box_fail_but_a_label_inside_its_own_box_does_not():
    box = card("box 1", (300, 400, 800, 900), role="shape")
    label = card("Dijital bir dosyayı kopyalamak çok kolaydır", (340, 500, 760, 700))
    assert check_text_layout([record([box, label])])[0]  # text inside its own card's shape: by design
    ok, _, failures = check_text_layout([record([box, label, framed("subtitle", "Buna çift harcama", (502, 886, 1418, 972))])])
    assert not ok and "'box 1' overlaps subtitle" in failures[0]


def test_two_card_texts_on_top_of_each_other_fail():
    ok, _, failures = check_text_layout([record([card("BITCOIN NEDİR?", (400, 200, 1500, 260)), card("Bitcoin Nedir?", (450, 240, 1450, 400))])])
    assert not ok and "overlaps card" in failures[0]


def test_a_key_shape_leaving_the_frame_fails():
    ok, _, failures = check_text_layout([record([card("phone", (1500, 60, 1990, 1000), role="shape")])])
    assert not ok and "leaves the frame" in failures[0]


def test_an_overlay_only_collides_while_it_is_shown():
    moving = card("Mobil cüzdan", (800, 200, 1100, 260))  # pan_down carries it up into the banner late in the move
    banner = (700, 108, 1220, 190)
    late = framed("overlay", "Özel anahtarınızı kimseyle paylaşmayın!", banner, frames=(90, 103))
    early = framed("overlay", "Özel anahtarınızı kimseyle paylaşmayın!", banner, frames=(0, 10))
    hits = [check_text_layout([record([moving, o], camera="pan_down")])[0] for o in (early, late)]
    assert hits == [True, False]


# --------------------------------------------------------------------------- the renderer keeps to its area
VISUALS = ["title_card", "diagram", "screen_share", "talking_head", "b_roll"]
WORDS = st.sampled_from("Bitcoin Nedir? Dijital Para Sorunu Blok Zinciri Madencilik Cüzdan Kullanımı Özet The Hare and "
                        "the Tortoise slow steady wins race Trinkflasche Edelstahl Überraschung phone app a→b".split())
TEXT = st.lists(WORDS, min_size=1, max_size=14).map(" ".join)


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@example(aspect="9:16", move="zoom_in", visual="title_card", title="Bitcoin", narrated=False, overlays=[],  # the title's shadow
         description="Bitcoin Bitcoin Bitcoin Trinkflasche Bitcoin Bitcoin Bitcoin Bitcoin Bitcoin Bitcoin slow")  # passed the area
@example(aspect="1:1", move="zoom_in", visual="title_card", title="Bitcoin", narrated=False, overlays=[],  # a bold glyph's ink
         description="Bitcoin Bitcoin Bitcoin Bitcoin Bitcoin Bitcoin Bitcoin Bitcoin Kullanımı Bitcoin steady")  # passed its advance
@given(aspect=st.sampled_from(list(SIZES)), move=st.sampled_from(MOVES), visual=st.sampled_from(VISUALS), title=TEXT,
       description=TEXT, overlays=st.lists(st.tuples(st.sampled_from(["caption", "lower_third"]), TEXT), max_size=2),
       narrated=st.booleans())
def test_every_card_passes_the_check_along_its_move(aspect, move, visual, title, description, overlays, narrated):
    w, h = (v // 3 for v in SIZES[aspect])  # a third of the delivery size: the same layout, drawn faster
    layout = frame_layout(w, h, overlays, subtitles=narrated)
    area = motion_safe_area(layout.content, KenBurns.for_move(move), w, h, w, h)
    req = ImageRequest(shot_id="ch01-s01", visual_type=visual, description=description, prompt=description, chapter_title=title,
                       project_title="Bitcoin Eğitim Serisi", narration=description, palette=["#0B3D2E", "#F2C14E", "#FFFFFF"],
                       width=w, height=h, seed=7, camera_move=move, text_area=area.as_list())
    _, elements = render_card_with_layout(req)
    for el in elements:
        assert area.contains(Box.of(el["box"]), tolerance=1.0), (el, area)
    framed_els = [framed("overlay", p.text, p.box.as_list()) for p in layout.overlays]
    if layout.subtitles:
        framed_els.append(framed("subtitle", "cue", layout.subtitles.as_list()))
    ok, _, failures = check_text_layout([record(elements + framed_els, camera=move, size=(w, h))])
    assert ok, failures


def test_a_shot_without_a_layout_record_fails():
    ok, _, failures = check_text_layout([record([]), {"shot_id": "ch02-s01", "missing": True}])
    assert not ok and failures == ["ch02-s01: no layout record (clips/ch02-s01.layout.json)"]
