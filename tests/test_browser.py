"""The real app in Debian's Chromium: first start on a fresh machine, login, a filter, the link."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, IDLE, open_page, screenshot, serve_app, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    """`streamlit run serve.py` (as `make run`) on a machine with no database and no extracts."""
    work = tmp_path_factory.mktemp("fresh")
    with serve_app(
        work,
        STARVIZ_DB=str(work / "star.duckdb"),
        STARVIZ_RAW=str(work / "raw"),
        STARVIZ_AUTH_DIR=str(work / "auth"),
        STARVIZ_DEMO_SCALE="0.02",
    ) as url:
        yield url, work


def test_fresh_start_login_filter_and_reload_gives_the_same_view(fresh_app, page):
    url, work = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page)  # the first visit builds the demo database, then shows the login form
    assert (work / "star.duckdb").exists()
    # Served as `make run` serves it (serve.py): the server set the cookie HttpOnly, no script sees it.
    assert "starviz_auth=" not in page.evaluate("document.cookie")
    assert any(c["name"] == "starviz_auth" and c["httpOnly"] for c in page.context.cookies())
    assert page.get_by_text("Demo data.").is_visible()

    page.get_by_text("Addressable spend only").click()
    page.wait_for_function("window.location.search.includes('addressable=0')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert page.get_by_text("all spend", exact=False).first.is_visible()
    link = page.url

    page.goto(link)  # the link reopens the same view (the session cookie keeps the user signed in)
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    assert "addressable=0" in page.url
    assert page.get_by_text("all spend", exact=False).first.is_visible()
    assert not page.get_by_role("switch", name="Addressable spend only").is_checked()
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    screenshot(page, "overview-after-reload.png")


def test_a_reload_right_after_signing_in_stays_signed_in(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page, "category.manager")
    page.reload()
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    assert page.get_by_role("button", name="Sign in").count() == 0
    assert page.get_by_text("Signed in as").first.is_visible()


def test_logout_works_on_the_first_click(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page, "board")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert page.get_by_role("heading", name="Overview").count() == 0
    assert "starviz_auth=" not in page.evaluate("document.cookie")
    sign_in(page, "category.manager")  # the next person signs in on the first click
    assert page.get_by_text("Signed in as **Category Manager**".replace("**", "")).first.is_visible()


def test_a_page_address_without_login_shows_only_the_sign_in_form(fresh_app, page):
    url, _ = fresh_app
    page.goto(f"{url}/spend?fy=2025-26", timeout=60_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert page.get_by_role("heading", name="Spend").count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    assert page.get_by_role("dialog").count() == 0  # no "page not found" over the form
    sign_in(page, lands_on="Spend")  # one click on "Sign in" opens the page the address names
    assert "fy=2025-26" in page.url and "/spend" in page.url


def test_presentation_mode_hides_the_sidebar_and_next_moves_to_the_next_slide(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page)
    open_page(page, f"{url}/?present=1&fy=2025-26", page.get_by_role("button", name="Next"))
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    first = page.locator("h1").first.inner_text()
    page.get_by_role("button", name="Next").click()
    page.wait_for_function("window.location.search.includes('slide=2')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator("h1").first.inner_text() != first
    assert "fy=2025-26" in page.url
    screenshot(page, "presentation-slide-2.png")


def test_a_supplier_link_keeps_its_detail_and_filters_through_a_filter_change(fresh_app, page):
    import duckdb

    url, work = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page)
    with duckdb.connect(str(work / "star.duckdb"), read_only=True) as con:
        supplier_id, name = con.execute(
            "select supplier_id, any_value(s.supplier_name) from mart_spend_by_supplier_month join dim_suppliers s "
            "using (supplier_id) group by supplier_id having count(distinct council_id) >= 2 "
            "order by sum(spend_gbp) desc limit 1"
        ).fetchone()
    page.goto(f"{url}/collaboration?fy=all&supplier={supplier_id}#{name}", timeout=60_000)
    page.get_by_role("heading", name=name).first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)

    page.get_by_text("Addressable spend only").click()  # a shared filter changes; the detail stays
    page.wait_for_function("window.location.search.includes('addressable=0')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert f"supplier={supplier_id}" in page.url and "fy=all" in page.url
    assert page.get_by_role("heading", name=name).first.is_visible()

    page.get_by_role("button", name="Back to the lists").click()
    page.get_by_text("Common suppliers").first.wait_for(timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert "supplier=" not in page.url and "addressable=0" in page.url
    screenshot(page, "collaboration-after-detail.png")


def test_clicking_the_spend_charts_filters_the_page_and_the_link_keeps_it(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page)
    open_page(page, f"{url}/spend", page.get_by_role("heading", name="Spend").first)
    treemap = page.locator(".js-plotly-plot").first
    treemap.locator("g.slice").nth(1).click()  # the largest category
    page.wait_for_function("window.location.search.includes('sel_category=')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert page.get_by_role("button", name="Category (ProClass level 1):").first.is_visible()
    assert page.get_by_text("Largest suppliers in").first.is_visible()  # the treemap now shows its suppliers
    link = page.url
    page.goto(link)  # the same selection reopens from the link
    page.get_by_role("heading", name="Spend").first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    # the script has finished; the browser may still be loading the widgets' code (grey placeholders)
    page.get_by_role("button", name="Category (ProClass level 1):").first.wait_for(timeout=30_000)
    screenshot(page, "spend-after-click.png")


def test_a_spend_view_link_reopens_the_same_view_in_a_fresh_browser(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    sign_in(page)
    open_page(page, f"{url}/spend?fy=all", page.get_by_text("Explore").first)
    page.get_by_text("Excluded spend", exact=True).first.click()
    page.wait_for_function("window.location.search.includes('tab=Excluded')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    link = page.url
    fresh = page.context.browser.new_context()  # no cookie, no session: the address alone carries the view
    try:
        other = fresh.new_page()
        other.goto(url, timeout=60_000)
        sign_in(other)
        open_page(other, link, other.get_by_text("Excluded spend").first)
        assert "tab=Excluded" in other.url and "fy=all" in other.url
        other.get_by_text("left out of addressable spend", exact=False).first.wait_for(timeout=30_000)
        screenshot(other, "spend-excluded-from-link.png")
    finally:
        fresh.close()
