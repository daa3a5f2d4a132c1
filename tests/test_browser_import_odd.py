"""The import page in Debian's Chromium with a careless upload: a file laid out otherwise than its
council's settings say is detected and previewed with notes; text from a file (its headers) in a
refusal is shown as text, never as a link."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, IDLE, screenshot, serve_import_app, sign_in
from tests.fixtures.extracts import TRAFFORD_SPEND, write_raw

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def import_app(tmp_path_factory):
    work = tmp_path_factory.mktemp("import-odd")
    raw = write_raw(work / "raw")
    with serve_import_app(work, raw) as url:
        yield url, work


def _csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path


def test_a_careless_upload_is_read_with_notes_and_a_files_text_is_never_a_link(import_app, page, tmp_path):
    url, _work = import_app
    june = [row[:] for row in TRAFFORD_SPEND[:3]]
    for row in june[1:]:
        row[1] = row[1].replace("2025-04", "2026-06")
    odd = _csv(tmp_path / "June payments.csv", [["Trafford Council - payments to suppliers"], [], *june], ";")
    link = "[Sign in again](https://evil.example/login)"
    lure = _csv(tmp_path / "lure.csv", [["When", link, "![x](https://evil.example/pixel.png)"], ["1/4/25", "X", "1"]])
    page.goto(url, timeout=60_000)
    sign_in(page, "director")
    page.goto(f"{url}/import_data", timeout=60_000)
    page.get_by_role("heading", name="Import").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").set_input_files([str(odd), str(lure)])
    page.get_by_text("Detected from the headers: trafford/spend").wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    assert page.get_by_text("the columns are separated by semicolons, not commas", exact=False).is_visible()
    assert page.get_by_text("the header is on row 3, not row 1", exact=False).is_visible()
    # the lure fits no council: choose Trafford spend for it, as a careless admin might
    for label, choice in (("Council", "Trafford"), ("Dataset", "spend")):  # the second file's boxes, below the first's
        page.get_by_role("combobox", name=label).last.click()
        page.keyboard.type(choice)
        page.keyboard.press("Enter")
        page.wait_for_timeout(1500)  # the rerun starts (the dataset box is made anew for the council chosen)
        page.wait_for_function(IDLE, timeout=60_000)
    page.get_by_text("cannot find the column(s) for required field(s)", exact=False).wait_for(timeout=60_000)
    # the header as it is written (a word joiner keeps the address from becoming a link)
    assert page.get_by_text("Headers found: 'When', '[Sign in again](https", exact=False).is_visible()
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("img[src*='evil.example']").count() == 0
    screenshot(page, "import-careless.png")
