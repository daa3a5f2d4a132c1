"""The import page meets files laid out otherwise than their council's settings say: detected all the
same, previewed as the build reads them, and a web page saved in place of the download refused at once."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from starviz import config, imports
from tests.fixtures.extracts import TRAFFORD_SPEND


@pytest.fixture(autouse=True)
def _staging_in_tmp(staging_in_tmp, tmp_path, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "none.duckdb"))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def _semicolons_under_a_title() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Trafford Council - payments to suppliers - April 2025"])
    writer.writerow([])
    writer.writerows(TRAFFORD_SPEND[:3])
    return out.getvalue().encode("utf-8-sig")


def test_a_csv_with_a_title_row_and_semicolons_is_detected_and_previewed(tmp_path):
    staged = imports.stage("payments.csv", _semicolons_under_a_title())
    detection = imports.detect(staged)
    assert (detection.best.council_id, detection.best.dataset) == ("trafford", "spend"), detection.text
    assert detection.headers == tuple(TRAFFORD_SPEND[0])


def test_a_workbook_with_its_data_on_the_second_sheet_is_detected(tmp_path):
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["Payments over £500"])
    data = book.create_sheet("Sep 14 Over £500 Spend")
    data.append(["Stockport Council spend"])
    header = ["Body Name", "Service Area Categorisation", "Expenses Type", "Clearing Date", "Transaction Number", "Amount £"]
    data.append([*header, "Supplier Name"])
    data.append(["SMBC", "CAPITAL", "PREMISES RELATED", "Sep 2014", 1900502872, 1134.5, "1ST ALARM SECURITY"])
    buffer = io.BytesIO()
    book.save(buffer)
    detection = imports.detect(imports.stage("upload.xlsx", buffer.getvalue()))
    assert (detection.best.council_id, detection.best.dataset) == ("stockport", "spend"), detection.text


def test_a_sign_in_page_saved_as_the_download_is_refused_on_upload():
    page = b"<!DOCTYPE html>\r\n<html lang='en'><head><title>Sign in - Open Data</title></head><body></body></html>"
    for name in ("spend.csv", "spend.xls"):
        refusal = imports.stage(name, page).refusal
        assert refusal == (
            f"{name}: this is a web page (HTML), not a table: often a sign-in or error page saved in place of the "
            "download; download the file again (a table a website saved as .xls: open it in Excel and save it as .xlsx)."
        )
