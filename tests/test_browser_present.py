"""Presentation mode in Debian's Chromium at the projector sizes a Board meets (4:3 and 16:9, from
1024x768 to 1920x1080): every slide fits the screen (nothing to scroll, nothing clipped, the footer on
one line), carries its title, "as at" date, chart and footer, and a clicker's keys move through the
slides, each opening at its top; Esc leaves the presentation for the same view."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, IDLE, serve_app, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

SCREENS = [(1024, 768), (1280, 720), (1366, 768), (1400, 1050), (1920, 1080)]
# The page's own scroll extent, and where each part of the slide sits on the screen.
CAPTION = ".st-key-slide-header [data-testid='stCaptionContainer']"
BODY = ".st-key-slide-chart .js-plotly-plot, .st-key-slide-chart .slide-table-box"  # a chart, or the scorecard's table
MEASURE = """() => {
  const CAPTION = "@CAPTION@", BODY = "@BODY@";
  const main = document.querySelector('[data-testid="stMain"]');
  const box = (sel) => { const e = document.querySelector(sel); if (!e) return null;
    const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; };
  return {scroll: main.scrollHeight - main.clientHeight, page: document.documentElement.scrollHeight - innerHeight,
          top: main.scrollTop, title: box('.st-key-slide-header h1'), caption: box(CAPTION),
          chart: box(BODY), footer: box('.st-key-slide-footer'),
          buttons: box('.st-key-slide-next button'), counter: box('.slide-counter'),
          focused: document.activeElement === document.body || document.activeElement === null};
}""".replace("@CAPTION@", CAPTION).replace("@BODY@", BODY)
# Text of the slide's body that the screen does not show whole: past the body's box (a Plotly table
# scrolls the rows it has no room for out of sight), past the window's edge, or under the footer.
CLIPPED = """() => {
  const body = document.querySelector("@BODY@").getBoundingClientRect();
  const footer = document.querySelector('.st-key-slide-footer').getBoundingClientRect();
  const found = [];
  const walker = document.createTreeWalker(document.querySelector('.st-key-slide-chart'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode; if (!node.textContent.trim()) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    const r = range.getBoundingClientRect(); if (!r.width) continue;
    const below = r.bottom > Math.min(body.bottom, footer.top) + 1, beside = r.right > Math.min(body.right, innerWidth) + 1;
    if (below || beside || r.top < body.top - 1)
      found.push(`${node.textContent.trim()} at ${Math.round(r.left)},${Math.round(r.top)}-${Math.round(r.bottom)}`);
  }
  return found;
}""".replace("@BODY@", BODY)
# Pairs of axis tick labels on the slide's chart whose boxes overlap (Plotly turns crowded labels and
# lets them run into each other), and whether any is turned.
TICKS = r"""() => {
  const found = [];
  for (const axis of ['xtick', 'ytick']) {
    const labels = [...document.querySelectorAll(`.st-key-slide-chart g.${axis} text`)]
      .map(e => [e.textContent, e.getBoundingClientRect(), e.getAttribute('transform') || ''])
      .filter(([t, r]) => t && r.width > 0);
    for (let i = 0; i < labels.length; i++) {
      if (/rotate\((?!0\))/.test(labels[i][2])) found.push(`${labels[i][0]} turned`);
      for (let j = i + 1; j < labels.length; j++) {
        const a = labels[i][1], b = labels[j][1];
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
          found.push(`${labels[i][0]} / ${labels[j][0]}`);
      }
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """`streamlit run serve.py` (as `make run`) on a small demo database (built on the first visit)."""
    work = tmp_path_factory.mktemp("present")
    with serve_app(
        work,
        STARVIZ_DB=str(work / "star.duckdb"),
        STARVIZ_RAW=str(work / "raw"),
        STARVIZ_AUTH_DIR=str(work / "auth"),
        STARVIZ_DEMO_SCALE="0.02",
    ) as url:
        yield url


def _settle(page, slide: int) -> None:
    page.wait_for_function(f"new URLSearchParams(location.search).get('slide') === '{slide}'", timeout=30_000)
    page.wait_for_function(IDLE, timeout=60_000)
    page.locator(BODY).first.wait_for(timeout=30_000)
    page.get_by_text(f"Slide {slide} of", exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(400)  # the chart takes the height the header and footer leave


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_every_slide_fits_the_screen_and_a_clicker_moves_through_them(demo_app, width, height):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        page.goto(demo_app, timeout=120_000)
        sign_in(page)
        page.goto(f"{demo_app}/?present=1&fy=2025-26", timeout=60_000)
        _settle(page, 1)
        count = int(page.get_by_text("Slide 1 of", exact=False).first.inner_text().split(" of ")[1][:2].strip("D"))
        assert count >= 3
        assert page.get_by_text("Demo data.").count() == 0, "the demo banner must not take a slide's space"
        assert page.locator(".slide-tag", has_text="Demo data").first.is_visible()
        for n in range(1, count + 1):
            if n > 1:
                page.keyboard.press("ArrowRight")
                _settle(page, n)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"present-{width}x{height}-slide-{n}.png"))
            m = page.evaluate(MEASURE)
            assert m["scroll"] <= 0 and m["page"] <= 0, f"slide {n} scrolls at {width}x{height}: {m}"
            assert m["top"] == 0 and m["focused"], f"slide {n} did not open at its top: {m}"
            assert m["title"][0] >= 0 and m["caption"][0] >= m["title"][1] - 2, m
            assert "as at" in page.locator(CAPTION).inner_text()
            assert m["chart"][0] >= m["caption"][1] - 2 and m["chart"][1] <= m["footer"][0] + 2, m
            assert m["chart"][1] - m["chart"][0] >= height * 0.5, f"slide {n}: the chart is too small: {m}"
            assert m["footer"][1] <= height and m["footer"][3] <= width, m
            assert m["buttons"][0] <= (m["counter"][0] + m["counter"][1]) / 2 <= m["buttons"][1], (
                f"slide {n}: 'Slide n of N' wrapped under the controls at {width}x{height}: {m}"
            )
            assert page.evaluate(CLIPPED) == [], f"slide {n}: text cut off at {width}x{height}"
            assert page.evaluate(TICKS) == [], f"slide {n}: axis labels turned or overlapping at {width}x{height}"
        # The other keys a clicker or keyboard sends.
        for key, expected in (("Home", 1), ("Space", 2), ("PageDown", 3), ("PageUp", 2), ("ArrowLeft", 1), ("End", count)):
            page.keyboard.press(key)
            _settle(page, expected)
            assert page.evaluate(MEASURE)["top"] == 0
        # Esc leaves the presentation for the same view: the page with its filters and sidebar.
        page.keyboard.press("Escape")
        page.wait_for_function("!new URLSearchParams(location.search).has('present')", timeout=30_000)
        page.wait_for_function(IDLE, timeout=60_000)
        assert "fy=2025-26" in page.url and "slide=" not in page.url
        page.locator('[data-testid="stSidebar"]').first.wait_for(timeout=30_000)
        browser.close()


def test_the_present_to_the_board_page_beside_the_sidebar_shows_each_slide_whole(demo_app):
    """Before the presentation starts, the page shows the slide beside the sidebar: the scorecard's
    table was sized to the window and ran past the page's right edge, the keys' hidden buttons
    showed as a stray button, and nothing on the page started the presentation."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(demo_app, timeout=120_000)
        sign_in(page)
        page.goto(f"{demo_app}/present?fy=2025-26&slide=1", timeout=60_000)
        _settle(page, 1)
        assert page.locator('[data-testid="stSidebar"]').first.is_visible()
        assert page.locator(".slide-table-box").count() == 1, "slide 1 is the scorecard's table"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "present-page-1280x720.png"), full_page=True)
        assert page.evaluate(CLIPPED) == [], "text of the slide past the page's edge"
        assert not page.locator(".st-key-slide-keys").first.is_visible()
        # The page's Present button starts the presentation at the same slide with the same filters.
        start = page.locator("a[href*='present=1']").first.get_attribute("href")
        assert start.startswith("./?") and "fy=2025-26" in start and "slide=1" in start
        page.goto(f"{demo_app}/{start[2:]}", timeout=60_000)
        _settle(page, 1)
        assert not page.locator('[data-testid="stSidebar"]').first.is_visible()
        assert page.locator(".slide-table-box").count() == 1 and page.evaluate(CLIPPED) == []
        browser.close()
