"""What the browser tests share: a real ``storyreel serve`` (module fixture), headless Chromium (Debian's
``chromium`` driven by Playwright), screenshots at the desktop and phone widths with an overflow check and an
axe-core audit of each (0 critical, 0 serious), waiting for a job's end, and keyboard-only moves.

axe-core comes from the npm registry (pinned :data:`AXE_VERSION`), installed once into ``.cache/npm`` of the
checkout by the first test that needs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.web.conftest import serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / ".cache" / "npm"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = ((1440, 900, "desktop"), (390, 844, "phone"))
sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


def _axe_source() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed (.ci/run installs it): the accessibility audit needs axe-core")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}"],
                       check=True, capture_output=True, timeout=300)
    return AXE_JS.read_text(encoding="utf-8")


_AXE: list[str] = []


def audit(page, name: str) -> list[dict]:  # noqa: ANN001
    """axe-core's critical and serious violations of the page as it is now (WCAG 2.x A/AA and best practices)."""
    if not _AXE:
        _AXE.append(_axe_source())
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE[0] + "\n;0")  # evaluated by the test driver: the page's CSP does not apply
    found = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    bad = [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
           for v in found if v["impact"] in ("critical", "serious")]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.axe.json").write_text(json.dumps(found, indent=1)[:200_000], encoding="utf-8")
    return bad


def shoot(page, name: str, *, check_a11y: bool = True) -> None:  # noqa: ANN001
    """Screenshots at the desktop and the phone width; at each no horizontal overflow and (``check_a11y``) no
    critical or serious axe-core violation."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.bring_to_front()  # a background tab is not painted: its screenshot would wait forever
    for width, height, label in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width} px overflows by {overflow} px"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        if check_a11y:
            bad = audit(page, f"{name}-{label}")
            assert not bad, f"{name} at {width} px: {json.dumps(bad, indent=1)}"
    page.set_viewport_size({"width": 1440, "height": 900})


def wait_job_end(page, timeout_s: float = 240) -> str:  # noqa: ANN001
    """Wait for the job panel to show an end state (the page reloads itself then); returns the state."""
    page.wait_for_function("""() => { const j = document.querySelector('#job'), w = document.querySelector('#jobwrap');
        return j && w && w.dataset.eventsUrl === '' && ['done','failed','canceled','interrupted','cost_limit'].includes(j.dataset.state); }""",
                           timeout=timeout_s * 1000)  # the server-rendered page of an ended job: it follows no events
    page.wait_for_load_state("load")
    return page.locator("#job").get_attribute("data-state")


def focused(page) -> str:  # noqa: ANN001
    """The focused element, described: ``tag#id.class "accessible text"``."""
    return page.evaluate("""() => { const e = document.activeElement; if (!e) return '';
        return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')
               + ' "' + (e.getAttribute('aria-label') || e.innerText || e.value || '').replace(/\\s+/g, ' ').trim().slice(0, 80) + '"'; }""")


def tab_to(page, matches: str, limit: int = 80) -> str:  # noqa: ANN001
    """Press Tab until the focused element matches the CSS selector ``matches``; returns its description."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", matches):
            return focused(page)
    raise AssertionError(f"{limit} Tabs never reached {matches}; focus is on {focused(page)}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN201
    """A real ``storyreel serve`` (one job at a time, embedded) on a fresh workspace: (base URL, workspace)."""
    workspace = tmp_path_factory.mktemp("browser") / "ws"
    with serving(workspace, log=workspace.parent / "serve.log") as base:
        yield base, workspace


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM),
                                      args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
