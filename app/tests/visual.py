"""What the browser test checks on each page beyond its behaviour: axe-core and the look.

`audit` runs axe-core (the copy bundled in axe-playwright-python, so nothing is downloaded) and
fails on any serious or critical violation. `match_screenshot` compares a page with its
committed picture under tests/screenshots/; UPDATE_SCREENSHOTS=1 writes the pictures instead.
"""

from __future__ import annotations

import io
import os

from tests.helpers import APP_DIR

BASELINES = APP_DIR / "tests" / "screenshots"
# Where a changed page's picture and its diff go: next to the browser test's other output.
DIFF_DIR = APP_DIR / ".artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
BLOCKING_IMPACTS = {"serious", "critical"}
# pixelmatch's per-pixel colour threshold (0..1) absorbs a rendering's colour noise; past it, a
# page may differ in this many pixels. Low, and anti-aliased pixels count too (includeAA): the
# cards' borders are faint, so a changed corner radius moves only light grey edge pixels.
PIXEL_THRESHOLD = 0.02
MAX_DIFF_PIXELS = 20
# The fixed text shown where the page would show the run's random user name or the time.
FIXED_USER = "yamada さん"
FIXED_UPDATED = "更新: 2026/01/01 09:00"


def audit(page) -> list[str]:
    """axe-core on the page as it is; the serious and critical violations, one line each.

    page.evaluate runs through the DevTools protocol, which the page's Content-Security-Policy
    (script-src 'self') does not govern, so the CSP stays whole in the test; an injected
    <script> tag (add_script_tag) would be refused like any inline script.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [
        f"{page.url}: {v['id']} ({v['impact']}) on {len(v['nodes'])} element(s): "
        + "; ".join(str(node["target"]) for node in v["nodes"])
        for v in results["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def freeze(page) -> None:
    """Replaces the run's random user name and the current times with fixed text; parks the
    mouse where it hovers nothing and takes the focus away, so no :hover or :focus shows."""
    page.evaluate(
        """([user, updated]) => {
            document.querySelectorAll('.user-name').forEach(e => { e.textContent = user; });
            document.querySelectorAll('.todo-meta').forEach(e => { e.textContent = updated; });
            if (document.activeElement) document.activeElement.blur();
        }""",
        [FIXED_USER, FIXED_UPDATED],
    )
    page.mouse.move(0, 0)


def match_screenshot(page, name: str) -> list[str]:
    """The page at each width of VIEWPORTS against tests/screenshots/<name>-<width>.png.

    Returns one line per picture that changed (with the path of its diff image); with
    UPDATE_SCREENSHOTS=1 writes the pictures and returns nothing."""
    from PIL import Image
    from pixelmatch.contrib.PIL import pixelmatch

    update = os.environ.get("UPDATE_SCREENSHOTS") == "1"
    original = page.viewport_size
    changed: list[str] = []
    freeze(page)
    try:
        for width_name, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            png = page.screenshot(full_page=True, animations="disabled", caret="hide")
            baseline = BASELINES / f"{name}-{width_name}.png"
            if update:
                BASELINES.mkdir(exist_ok=True)
                baseline.write_bytes(png)
                continue
            if not baseline.exists():
                changed.append(f"{baseline} is missing: run the test with UPDATE_SCREENSHOTS=1")
                continue
            actual = Image.open(io.BytesIO(png)).convert("RGBA")
            expected = Image.open(baseline).convert("RGBA")
            DIFF_DIR.mkdir(parents=True, exist_ok=True)
            actual_path = DIFF_DIR / f"{name}-{width_name}.actual.png"
            if actual.size != expected.size:
                actual.save(actual_path)
                changed.append(
                    f"{name}-{width_name}: {actual.size} instead of {expected.size}; "
                    f"now: {actual_path}"
                )
                continue
            diff = Image.new("RGBA", actual.size)
            differing = pixelmatch(
                actual, expected, diff, threshold=PIXEL_THRESHOLD, includeAA=True
            )
            if differing > MAX_DIFF_PIXELS:
                diff_path = DIFF_DIR / f"{name}-{width_name}.diff.png"
                diff.save(diff_path)
                actual.save(actual_path)
                changed.append(
                    f"{name}-{width_name}: {differing} pixels differ; "
                    f"diff: {diff_path}, now: {actual_path}"
                )
    finally:
        page.set_viewport_size(original)
    for line in changed:
        print(line)
    return changed
