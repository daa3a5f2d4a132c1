"""Table exports: numbers stay numbers, outside text can never become a formula."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook

from starviz import export

FRAME = pd.DataFrame({
    "supplier_name": ["=HYPERLINK(\"http://x\")", "+44 Ltd", "@home", "-minus", "ABC Ltd"],
    "amount_gbp": [100.5, -16.66, 0.0, 1234.0, -1.0],
})


def test_formula_like_text_is_neutralised_while_negative_amounts_stay_numbers():
    book = load_workbook(io.BytesIO(export.to_xlsx(FRAME, "t", {"Filters": "All councils"})))
    data = book["Data"]
    names = [c.value for c in data["A"][1:]]
    amounts = [c.value for c in data["B"][1:]]
    assert all(not n.startswith(("=", "+", "@", "-")) for n in names)
    assert names[-1] == "ABC Ltd"
    assert amounts == [100.5, -16.66, 0.0, 1234.0, -1.0]
    assert data["B"][1].number_format.startswith("£")


def test_xlsx_has_a_frozen_header_a_filter_and_a_notes_sheet():
    book = load_workbook(io.BytesIO(export.to_xlsx(FRAME, "Top suppliers", {"Filters": "Trafford · 2025-26"})))
    assert book["Data"].freeze_panes == "A2" and book["Data"].auto_filter.ref == "A1:B6"
    notes = {r[0].value: r[1].value for r in book["Notes"].iter_rows()}
    assert notes["Filters"] == "Trafford · 2025-26" and "Open Government Licence" in notes["Licence"]


def test_csv_is_neutralised_too():
    text = export.to_csv(FRAME).decode("utf-8-sig")
    assert '\n"\'=HYPERLINK' in text and "\n'+44 Ltd" in text and ",-16.66" in text
