"""The real app in Debian's Chromium: first start on a fresh machine, login, a filter, the link."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from starviz import config

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = config.ROOT / "tests" / "artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
IDLE = ("document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') "
        "=== 'notRunning'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    """`streamlit run app.py` on a machine with no database and no extracts."""
    work = tmp_path_factory.mktemp("fresh")
    port = _free_port()
    env = {**os.environ, "STARVIZ_DB": str(work / "star.duckdb"), "STARVIZ_RAW": str(work / "raw"),
           "STARVIZ_AUTH_DIR": str(work / "auth"), "STARVIZ_DEMO_SCALE": "0.02"}
    log = (work / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=config.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}", work
    server.terminate()
    server.wait(timeout=15)


@pytest.fixture()
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        yield context.new_page()
        browser.close()


def _open(page, address: str, ready) -> None:
    """Go to an address of the signed-in app and wait for `ready`. A reload signs in from the
    cookie, and the cookie check reruns the page once; if that rerun swallows the first render,
    load the address once more rather than wait for ever."""
    page.goto(address, timeout=60_000)
    try:
        ready.wait_for(timeout=45_000)
    except Exception:  # one retry of a known race; the wait below then decides
        page.goto(address, timeout=60_000)
        ready.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)


def _sign_in(page, username: str = "director") -> None:
    page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
    page.wait_for_function(IDLE, timeout=60_000)
    page.wait_for_timeout(1500)  # the cookie check reruns the page once, clearing a typed form
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill("star-demo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)


def test_fresh_start_login_filter_and_reload_gives_the_same_view(fresh_app, page):
    url, work = fresh_app
    page.goto(url, timeout=60_000)
    _sign_in(page)  # the first visit builds the demo database, then shows the login form
    assert (work / "star.duckdb").exists()
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
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-after-reload.png"), full_page=True)


def test_logout_works_on_the_first_click(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    _sign_in(page, "board")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert page.get_by_role("heading", name="Overview").count() == 0


def test_a_page_address_without_login_shows_only_the_sign_in_form(fresh_app, page):
    url, _ = fresh_app
    page.goto(f"{url}/spend?fy=2025-26", timeout=60_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert page.get_by_role("heading", name="Spend").count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0


def test_presentation_mode_hides_the_sidebar_and_next_moves_to_the_next_slide(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    _sign_in(page)
    _open(page, f"{url}/?present=1&fy=2025-26", page.get_by_role("button", name="Next"))
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    first = page.locator("h1").first.inner_text()
    page.get_by_role("button", name="Next").click()
    page.wait_for_function("window.location.search.includes('slide=2')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    page.wait_for_timeout(500)
    assert page.locator("h1").first.inner_text() != first
    assert "fy=2025-26" in page.url
    page.screenshot(path=str(ARTIFACTS / "presentation-slide-2.png"), full_page=True)
def test_a_supplier_link_keeps_its_detail_and_filters_through_a_filter_change(fresh_app, page):
    import duckdb

    url, work = fresh_app
    page.goto(url, timeout=60_000)
    _sign_in(page)
    with duckdb.connect(str(work / "star.duckdb"), read_only=True) as con:
        supplier_id, name = con.execute(
            "select supplier_id, any_value(s.supplier_name) from mart_spend_by_supplier_month join dim_suppliers s "
            "using (supplier_id) group by supplier_id having count(distinct council_id) >= 2 "
            "order by sum(spend_gbp) desc limit 1").fetchone()
    page.goto(f"{url}/collaboration?fy=all&supplier={supplier_id}#{name}", timeout=60_000)
    page.get_by_role("heading", name=name).first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)

    page.get_by_text("Addressable spend only").click()  # a shared filter changes; the detail stays
    page.wait_for_function("window.location.search.includes('addressable=0')", timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert f"supplier={supplier_id}" in page.url and "fy=all" in page.url
    assert page.get_by_role("heading", name=name).first.is_visible()

    page.get_by_role("button", name="Back to the lists").click()
    page.get_by_role("tab", name="Common suppliers").wait_for(timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)
    assert "supplier=" not in page.url and "addressable=0" in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "collaboration-after-detail.png"), full_page=True)
def test_clicking_the_spend_charts_filters_the_page_and_the_link_keeps_it(fresh_app, page):
    url, _ = fresh_app
    page.goto(url, timeout=60_000)
    _sign_in(page)
    _open(page, f"{url}/spend", page.get_by_role("heading", name="Spend").first)
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
    assert page.get_by_role("button", name="Category (ProClass level 1):").first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "spend-after-click.png"), full_page=True)
