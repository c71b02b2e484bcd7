"""Best-of-N in headless Chromium against a real ``storyreel serve``: a video made with three candidates per
shot, the candidate grid and the side-by-side comparison, a pick by click (HTMX swap, the stale panel offers
the update), "Update video", and the quality page. Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import re

import pytest

from tests.conftest import INPUTS
from tests.web.browsing import browser, server, shoot, wait_job_end  # noqa: F401 - fixtures and helpers

pytestmark = pytest.mark.e2e


def test_a_person_compares_candidates_picks_one_and_updates_the_video(server, browser) -> None:  # noqa: ANN001, F811
    base, _ = server
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/register")
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password]", "a long passphrase")
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/new")
    page.set_input_files("input[name=file]", str(INPUTS / "ad-brief.txt"))
    page.fill("input[name=candidates]", "3")
    page.click("text=Make the video")
    page.wait_for_url(re.compile(r".*/projects/[a-z0-9-]+$"))
    project_url = page.url
    assert wait_job_end(page) == "done"

    shot = page.locator("#shot-ch02-s01")
    assert shot.locator("li.cand").count() == 3 and shot.locator("li.cand.chosen").count() == 1
    shot.scroll_into_view_if_needed()  # the thumbnails load lazily, once in view
    for img in shot.locator("li.cand img").all():  # every thumbnail loads (not a broken image)
        img.evaluate("i => new Promise(r => i.complete ? r() : i.addEventListener('load', r, {once: true}))")
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    shot.locator("summary", has_text="Compare side by side").click()
    assert shot.locator(".compare-grid figure").count() == 3 and shot.locator(".compare-grid meter").count() >= 15
    shot.scroll_into_view_if_needed()
    shoot(page, "candidates")

    chosen = int(shot.locator("li.cand.chosen span").inner_text().split("·")[0].strip().lstrip("#"))
    other = next(i for i in (1, 2, 3) if i != chosen)
    shot.locator("li.cand").nth(other - 1).locator("button", has_text="Use this").click()
    page.locator("#shot-ch02-s01 [role=status]", has_text=f"next update uses {other}").wait_for()
    panel = page.locator("text=Update video")
    panel.wait_for()
    page.locator("#stale .changes li", has_text="another image picked").wait_for()
    assert page.locator("#stale .changes li").all_inner_texts() == [page.locator("#stale .changes li").first.inner_text()]
    shoot(page, "candidates-picked")
    panel.click()
    assert wait_job_end(page) == "done"
    chosen_now = page.locator("#shot-ch02-s01 li.cand.chosen span").inner_text()
    assert chosen_now.startswith(f"#{other}") and "picked by you" in page.locator("#shot-ch02-s01 .candidates p").first.inner_text()

    page.goto(project_url + "/quality")
    assert "Override rate" in page.content() and page.locator("table.dist meter").count() >= 5
    shoot(page, "quality")
    assert not errors, errors
