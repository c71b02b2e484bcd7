"""The video editor in headless Chromium against a real ``storyreel serve`` (issue 28 item 4): on the fable, a split
at the playhead with S, a trim by dragging a shot's edge, a merge of two selected shots with M, a move by dragging a
shot, undo and redo with Ctrl+Z / Ctrl+Shift+Z, the preview refreshed after each edit, an export with its progress,
and the versions compared — screenshots at 1440 and 390 px, no overflow, no serious accessibility violation."""

from __future__ import annotations

import re

import pytest

from tests.conftest import INPUTS
from tests.web.browsing import browser, shoot, tab_to, wait_job_end  # noqa: F401 - fixtures and helpers
from tests.web.conftest import serving

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def draft_server(tmp_path_factory):  # noqa: ANN201
    """``storyreel serve`` making videos at the 360p draft size (the editor's preview is 540p whatever the delivery)."""
    workspace = tmp_path_factory.mktemp("editor") / "ws"
    with serving(workspace, log=workspace.parent / "serve.log", env={"STORYREEL_RESOLUTION": "360p"}) as base:
        yield base, workspace


def _shots(page) -> list[str]:  # noqa: ANN001
    return page.eval_on_selector_all("#tl .shot", "gs => gs.map(g => g.dataset.shot)")


def _saved(page, version: int) -> None:  # noqa: ANN001
    page.locator("#edstatus", has_text=re.compile(rf"version {version}\b")).wait_for(timeout=60_000)
    page.locator("#version-badge", has_text=f"version {version}").wait_for()


def _box(page, selector: str) -> dict:  # noqa: ANN001
    return page.locator(selector).bounding_box()


def test_a_person_edits_the_fable_on_the_timeline_and_exports_it(draft_server, browser) -> None:  # noqa: ANN001, F811
    base, workspace = draft_server
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/register")
    page.fill("input[name=username]", "edith")
    page.fill("input[name=password]", "a long passphrase")
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/new")
    page.set_input_files("input[name=file]", str(INPUTS / "hare-and-tortoise.txt"))
    page.click("text=Make the video")
    page.wait_for_url(re.compile(r".*/projects/[a-z0-9-]+$"))
    project_url = page.url
    assert wait_job_end(page) == "done"
    page.click("text=Edit video")
    page.wait_for_url(project_url + "/edit")
    page.locator("#tl .shot").first.wait_for()
    first = _shots(page)
    assert len(first) >= 5 and page.locator("#tl .tick-label").count() >= 5
    fitted = float(page.get_attribute("#tl", "width"))
    page.click("#zoom-in")  # zoom: the same shots, wider, the timeline scrolls
    assert float(page.get_attribute("#tl", "width")) > fitted * 1.4 and _shots(page) == first
    page.click("#zoom-out")
    assert float(page.get_attribute("#tl", "width")) == pytest.approx(fitted, rel=0.01)
    shoot(page, "editor")

    # split with S at the playhead, put inside the second shot by a click on the ruler
    second = _box(page, f'#tl .shot[data-shot="{first[1]}"] .block')
    ruler = _box(page, "#tl .ruler-bg")
    page.mouse.click(second["x"] + second["width"] * 0.55, ruler["y"] + ruler["height"] / 2)
    page.keyboard.press("s")
    _saved(page, 2)
    after_split = _shots(page)
    assert len(after_split) == len(first) + 1 and f"{first[1]}-b" in after_split
    page.locator("#edstatus", has_text="preview up to date").wait_for(timeout=120_000)
    assert page.evaluate("document.getElementById('player').src").split("?")[0].endswith("/preview.mp4")

    # trim the first shot by dragging its end handle a second to the left
    shot = page.locator(f'#tl .shot[data-shot="{first[0]}"]')
    before = float(shot.get_attribute("data-duration"))
    handle = _box(page, f'#tl .shot[data-shot="{first[0]}"] .handle.out')
    pps = page.evaluate(f"""() => {{ const b = document.querySelector('#tl .shot[data-shot="{first[0]}"] .block').getBBox(); return (b.width + 2) / {before}; }}""")
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - pps * 0.6, y, steps=5)
    page.mouse.move(x - pps * 1.2, y, steps=5)
    page.mouse.up()
    _saved(page, 3)
    trimmed = float(page.locator(f'#tl .shot[data-shot="{first[0]}"]').get_attribute("data-duration"))
    assert trimmed < before

    # merge two neighbours of one chapter (the second chapter's first two): click one, Shift+click the next, M
    shots = _shots(page)
    timeline = page.request.get(project_url.replace("/projects/", "/api/projects/") + "/timeline").json()
    chapter = {s["shot_id"]: s["chapter_id"] for s in timeline["shots"]}
    a = next(i for i in range(len(shots) - 1) if chapter[shots[i]] == chapter[shots[i + 1]] != chapter[shots[0]])
    page.locator(f'#tl .shot[data-shot="{shots[a]}"] .block').click()
    page.locator(f'#tl .shot[data-shot="{shots[a + 1]}"] .block').click(modifiers=["Shift"])
    assert page.locator("#tl .shot.selected").count() == 2
    page.keyboard.press("m")
    _saved(page, 4)
    merged = _shots(page)
    assert len(merged) == len(shots) - 1 and shots[a + 1] not in merged

    # move the second shot by dragging it past the fourth
    moving = _box(page, f'#tl .shot[data-shot="{merged[1]}"] .block')
    fourth = _box(page, f'#tl .shot[data-shot="{merged[3]}"] .block')
    page.mouse.move(moving["x"] + moving["width"] / 2, moving["y"] + 10)
    page.mouse.down()
    page.mouse.move(fourth["x"] + fourth["width"] * 0.8, moving["y"] + 10, steps=8)
    page.mouse.up()
    _saved(page, 5)
    moved = _shots(page)
    assert moved[3] == merged[1] and moved[1:3] == merged[2:4]

    # by keyboard alone: Tab to the first shot, → to the second, Alt+→ moves it one place later
    page.locator("#zoom-in").focus()
    tab_to(page, "#tl .shot")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.shot") == moved[1]
    page.keyboard.press("Alt+ArrowRight")
    _saved(page, 6)
    by_keys = _shots(page)
    assert by_keys[2] == moved[1] and by_keys[1] == moved[2]
    page.keyboard.press("Control+z")
    _saved(page, 5)
    assert _shots(page) == moved

    page.locator("#tl").click(position={"x": 2, "y": 5})  # focus back on the page, away from a button
    page.keyboard.press("Control+z")
    _saved(page, 4)
    assert _shots(page) == merged
    page.keyboard.press("Control+Shift+z")
    _saved(page, 5)
    assert _shots(page) == moved
    page.goto(project_url)  # the project page says the video is behind the edits: the stale panel offers the update
    page.locator("text=Update video").wait_for()
    page.goto(project_url + "/edit")
    page.locator("#tl .shot").first.wait_for()
    page.locator("#edstatus", has_text="preview up to date").wait_for(timeout=120_000)
    shoot(page, "editor-edited")

    page.click("#export")
    page.locator("#export-panel").wait_for(state="visible")
    assert page.locator("#export-cancel").is_visible()
    page.locator("#edstatus", has_text="Exported version 5").wait_for(timeout=240_000)
    assert page.locator("#export-panel").is_hidden()

    page.click("text=Versions")
    page.wait_for_url(project_url + "/versions")
    assert page.locator(".compare video").count() == 2  # version 1 as made and version 5, both exported
    changes = page.locator("#changes li").all_inner_texts()
    assert any("added" in c for c in changes) and any("removed" in c for c in changes) and any("moved" in c for c in changes)
    shoot(page, "versions")

    page.click("button[aria-label='Restore version 1']")  # back to the video as made: a new version, nothing made again
    page.wait_for_url(project_url + "/edit")
    page.locator("#tl .shot").first.wait_for()
    assert _shots(page) == first and page.locator("#version-badge").inner_text() == "version 6"
    page.locator("#edstatus", has_text="preview up to date").wait_for(timeout=120_000)
    assert not errors, errors
