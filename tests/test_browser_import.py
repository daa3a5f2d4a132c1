"""The import and data quality pages in Debian's Chromium: an admin uploads a month, reads the
preview, stores it and sees what changed; the data quality page then shows the month."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, IDLE, screenshot, serve_import_app, sign_in
from tests.fixtures.extracts import write_raw

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
HELD = "tameside/spend/Tameside Spend April 2025.csv"


@pytest.fixture(scope="module")
def import_app(tmp_path_factory):
    """`streamlit run serve.py` (as `make run`) on the fixture database, Tameside's April file held back to upload."""
    work = tmp_path_factory.mktemp("import")
    raw = write_raw(work / "raw")
    (work / "upload").mkdir()
    shutil.move(raw / HELD, work / "upload" / Path(HELD).name)
    with serve_import_app(work, raw) as url:
        yield url, work


def test_admin_uploads_previews_stores_and_sees_what_changed(import_app, page):
    url, work = import_app
    page.goto(url, timeout=60_000)
    sign_in(page, "director")
    page.goto(f"{url}/import_data", timeout=60_000)
    page.get_by_role("heading", name="Import").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").set_input_files(str(work / "upload" / Path(HELD).name))
    page.get_by_text("Detected from the headers: tameside/spend").wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    assert page.get_by_text("Row problems (2)").is_visible()  # a blank row and a Grand Total line
    screenshot(page, "import-preview.png")
    page.get_by_role("button", name="Store and rebuild").click()
    page.get_by_role("heading", name="What changed").wait_for(timeout=120_000)
    page.wait_for_function(IDLE, timeout=60_000)
    assert page.get_by_text("Stored 1 file and rebuilt").is_visible()
    assert (work / "raw" / HELD).read_bytes() == (work / "upload" / Path(HELD).name).read_bytes()
    screenshot(page, "import-done.png")

    page.goto(f"{url}/data_quality?fy=2025-26", timeout=60_000)
    page.get_by_role("heading", name="Data quality").first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="Missing months").is_visible()
    screenshot(page, "data-quality.png")


def test_an_ods_upload_is_previewed_and_a_hostile_one_refused_in_one_line(import_app, page, tmp_path):
    """An OpenDocument month is read as an .xlsx is (detected, previewed with its row problems); an
    .ods whose repeated cells expand to billions is refused on upload with one line, nothing else."""
    from tests.test_ods import HEADERS, number, row, stockport_spend, write_ods

    url, _work = import_app
    good = write_ods(tmp_path / "Stockport May 2025.ods", stockport_spend())
    hostile = write_ods(tmp_path / "Stockport June 2025.ods", {"S": HEADERS + row(number(1, repeat=16_384), repeat=1_048_576)})
    page.goto(url, timeout=60_000)
    sign_in(page, "director")
    page.goto(f"{url}/import_data", timeout=60_000)
    page.get_by_role("heading", name="Import").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").set_input_files([str(good), str(hostile)])
    page.get_by_text("Detected from the headers: stockport/spend").wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    assert page.get_by_text("Row problems (1)").is_visible()  # the amount "about a grand", row 4
    refusal = (
        "Stockport June 2025.ods: sheet refused: its cells reach row 1,048,577 (cell XFD1048577), over the "
        "1,048,576-row limit ([reader] max_rows in data/settings.toml); delete the stray cells or re-save the sheet."
    )
    assert page.get_by_text(refusal).is_visible()
    screenshot(page, "import-ods.png")
