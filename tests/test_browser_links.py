"""A link reopens the same view, page by page, in Debian's Chromium (issue 17): change the page's state
as a user would (a tab, a breakdown, a grouping, a toggle, a clicked cell), copy the address, open it in
a fresh browser context (nothing shared but the sign-in cookie, so a new Streamlit session) and compare
what is shown: the page's text and the state of every switch, radio and segmented button.

One app and one browser for all pages; a context per link."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, screenshot, serve_app, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# What a reader sees: the main area's text, the sidebar's and main area's switches and radios, and
# which segmented buttons are chosen (charts drawn as SVG text are part of the text).
SHOWN = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebar"]');
  const states = (root) => root ? [...root.querySelectorAll('input[type=checkbox], input[type=radio]')]
    .map(e => e.checked ? '1' : '0').join('') : '';
  const chosen = [...main.querySelectorAll('[data-testid="stBaseButton-segmented_controlActive"]')]
    .map(e => e.innerText.trim());
  return {text: main.innerText.replace(/\\s+/g, ' ').trim(), main: states(main), side: states(side), chosen};
}"""


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):
    """The app on a small demo database, one Chromium, and the storage (sign-in cookie) of a director."""
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("links")
    with (
        serve_app(
            work,
            STARVIZ_DB=str(work / "star.duckdb"),
            STARVIZ_RAW=str(work / "raw"),
            STARVIZ_AUTH_DIR=str(work / "auth"),
            STARVIZ_DEMO_SCALE="0.02",
        ) as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        page = context.new_page()
        page.goto(url, timeout=180_000)
        sign_in(page)
        yield url, browser, context.storage_state()
        browser.close()


def _settle(page) -> None:
    page.wait_for_function(IDLE, timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE, timeout=60_000)


def _until(page, expression: str) -> None:
    page.wait_for_function(expression, timeout=30_000)
    _settle(page)


def _click_first_pivot_cell(page) -> None:
    """The pivot is a canvas: click where its first row meets its first council column."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.42, box["y"] + 35 + 17)


def _segment(page, label: str) -> None:
    page.locator('[data-testid="stMain"] button').filter(has_text=label).first.click()


# page address, what a user does there, what the link must then say
PAGES = {
    "overview": (
        "",  # the default page's address
        lambda p: p.get_by_text("Addressable spend only").first.click(),
        "addressable=0",
    ),
    "spend-cell": ("spend?fy=all", _click_first_pivot_cell, "cell_row="),
    "spend-tab": ("spend?fy=all", lambda p: _segment(p, "Excluded spend"), "tab=Excluded"),
    "benchmarking": (
        "benchmarking",
        lambda p: p.get_by_text("Addressable spend only").first.click(),
        "addressable=0",
    ),
    "benchmarking-tab": ("benchmarking?fy=all", lambda p: _segment(p, "Category mix"), "tab=Category"),
    "collaboration": ("collaboration?fy=all", lambda p: _segment(p, "Expiry alignment"), "tab=Expiry"),
    "collaboration-grouping": (
        "collaboration?fy=all&tab=Expiry+alignment",
        lambda p: p.get_by_text("Group by sub-category").first.click(),
        "by_sub=1",
    ),
    "pipeline": ("pipeline?fy=all", lambda p: _segment(p, "Work planning"), "tab=Work"),
    "social-value": ("social_value?fy=all", lambda p: _segment(p, "TOMs theme"), "by=theme"),
    "social-value-every": (
        "social_value?fy=all",
        lambda p: p.get_by_text("Show every contract in delivery").first.click(),
        "every=1",
    ),
    "kpis": ("kpis", lambda p: _segment(p, "Responsible Procurement"), "by=objective"),
    "maturity": ("maturity", lambda p: _segment(p, "Trafford"), "council=trafford"),
    "data-quality": ("data_quality?fy=all", lambda p: _segment(p, "Rejected rows"), "tab=Rejected"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_a_link_reopens_the_same_view_in_a_fresh_browser(signed_in, name):
    url, browser, storage = signed_in
    address, act, says = PAGES[name]
    first = browser.new_context(viewport={"width": 1600, "height": 1200}, storage_state=storage)
    fresh = browser.new_context(viewport={"width": 1600, "height": 1200}, storage_state=storage)
    try:
        page = first.new_page()
        page.goto(f"{url}/{address}", timeout=60_000)
        page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
        _settle(page)
        before = page.evaluate(SHOWN)
        act(page)
        _until(page, f"decodeURIComponent(location.search).replaceAll('+', ' ').includes({says.replace('+', ' ')!r})")
        shown = page.evaluate(SHOWN)
        assert shown != before, "the action changed nothing on the page"
        link = page.url

        other = fresh.new_page()
        other.goto(link, timeout=60_000)
        other.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
        _settle(other)
        again = other.evaluate(SHOWN)
        for _ in range(20):  # charts and widgets may still be drawing after the script has finished
            if again == shown:
                break
            other.wait_for_timeout(500)
            again = other.evaluate(SHOWN)
        assert again == shown
        assert says.split("=")[0] in other.url
        screenshot(other, f"link-{name}.png")
    finally:
        first.close()
        fresh.close()
