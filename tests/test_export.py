"""Table exports: numbers stay numbers, outside text can never become a formula."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct

import pandas as pd
import pytest
from openpyxl import load_workbook

from starviz import charts, config, export

FRAME = pd.DataFrame(
    {
        "supplier_name": ['=HYPERLINK("http://x")', "+44 Ltd", "@home", "-minus", "ABC Ltd"],
        "amount_gbp": [100.5, -16.66, 0.0, 1234.0, -1.0],
    }
)


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
    assert "\n\"'=HYPERLINK" in text and "\n'+44 Ltd" in text and ",-16.66" in text


# --- charts ---------------------------------------------------------------------------------------


MONTHLY = pd.DataFrame(
    {
        "council": ["Stockport", "Trafford", "Stockport", "Trafford"],
        "month": pd.to_datetime(["2025-04-01", "2025-04-01", "2025-05-01", "2025-05-01"]),
        "spend_gbp": [1_200_000.0, 800_000.0, 2_500_000.0, 900_000.0],
    }
)
needs_chromium = pytest.mark.skipif(export.chromium_path() is None, reason="chromium is not installed")


def _figure():
    return charts.spend_by_council_month(MONTHLY, {"Stockport": "#0072B2", "Trafford": "#D55E00"})


def _branded(preset):
    return export.branded(
        _figure(),
        title="Spend by council by month",
        subtitle="All councils · 2025-26",
        source=export.source_line(dt.date(2025, 5, 31)),
        width=preset.width,
        height=preset.height,
    )


@needs_chromium
@pytest.mark.parametrize("key", ["x", "square", "website", "board"])
def test_png_export_has_the_presets_exact_pixel_size(key):
    preset = config.settings().export_presets[key]
    png = export.image(_branded(preset), "png", preset.width, preset.height)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (preset.width, preset.height)


@needs_chromium
def test_svg_export_carries_the_title_filters_source_licence_and_star_name():
    preset = config.settings().export_presets["website"]
    svg = export.image(_branded(preset), "svg", preset.width, preset.height).decode()
    shown = " ".join(re.sub(r"<[^>]+>", " ", svg).split())  # lines wrapped inside the canvas read as one text
    for text in (
        "Spend by council by month",
        "All councils · 2025-26",
        "data as at 31 May 2025",
        "Open Government Licence v3.0",
        "STAR Procurement",
    ):
        assert text in shown


def test_alt_text_names_the_chart_type_measure_and_top_values():
    text = export.alt_text(_figure(), "Spend by council by month", "All councils · 2025-26")
    assert text.startswith("Spend by council by month (All councils · 2025-26). Stacked bar chart of spend")
    assert "Stockport £3.7m; Trafford £1.7m" in text


def test_alt_text_states_the_target_when_there_is_one():
    fig = _figure()
    fig.update_layout(meta={"unit": "share", "target": 0.2})
    assert "Target: 20.0%." in export.alt_text(fig, "Social value")


def test_export_says_how_to_install_chromium_when_it_is_missing(monkeypatch):
    monkeypatch.setattr(export, "chromium_path", lambda: None)
    monkeypatch.setattr(export, "_server_started", False)
    with pytest.raises(export.ExportUnavailable, match="apt-get install -y chromium"):
        export.image(_figure(), "png", 100, 100)


def test_missing_values_of_nullable_columns_export_as_empty_cells():
    frame = pd.DataFrame({"count_lines": pd.array([3, None], dtype="Int64"), "name": ["a", "b"]})
    book = load_workbook(io.BytesIO(export.to_xlsx(frame, "t", {})))
    assert [c.value for c in book["Data"]["A"][1:]] == [3, None]


def test_xlsx_headers_read_as_words_dates_have_no_time_and_the_total_sits_outside_the_filter():
    df = pd.DataFrame(
        {
            "supplier_name": ["Acme Ltd", "Beta plc", "Total"],
            "spend_gbp": [44107784.64999999, 1000.0, 44108784.65],
            "committed_share": [0.25, 0.5, 0.3],
            "count_lines": [3, 4, 7],
            "last_month": pd.to_datetime(["2025-04-01", "2025-05-01", None]),
        }
    )
    book = load_workbook(io.BytesIO(export.to_xlsx(df, "Suppliers", {"Filters": "All councils"})))
    sheet = book["Data"]
    assert [c.value for c in sheet[1]] == ["Supplier name", "Spend (£)", "Committed (%)", "Number of lines", "Last month"]
    assert sheet["B2"].value == pytest.approx(44107784.65) and sheet["B2"].number_format.startswith("£")
    assert sheet["C2"].number_format == "0.0%" and sheet["E2"].number_format == "dd mmm yyyy"
    assert sheet.auto_filter.ref == "A1:E3"  # the two suppliers, not the total
    assert sheet["A4"].value is None and sheet["A5"].value == "Total" and sheet["D5"].value == 7


def test_a_pivot_exports_in_pounds_rounded_to_pence_and_counts_as_whole_numbers():
    pivot = pd.DataFrame(
        {"Category": ["Works", "Total"], "Trafford": [44107784.64999999, 44107784.64999999], "Total": [1.005, 2.0]}
    )
    book = load_workbook(io.BytesIO(export.to_xlsx(pivot, "pivot", {}, export.unit_formats(pivot.columns[1:], "gbp"))))
    sheet = book["Data"]
    assert sheet["B2"].value == 44107784.65 and sheet["B2"].number_format == export.GBP_FORMAT
    assert sheet["C4"].number_format == export.GBP_FORMAT and sheet["C4"].value == 2  # the Total row too
    assert sheet["A2"].number_format == "General"
    counts = load_workbook(io.BytesIO(export.to_xlsx(pivot, "pivot", {}, export.unit_formats(["Trafford"], "count"))))
    assert counts["Data"]["B2"].number_format == "#,##0"


def test_a_name_with_a_control_character_or_an_overlong_text_still_exports_and_opens():
    # A ledger name with a vertical tab (seen in pasted supplier names) made openpyxl refuse the
    # whole workbook; a text over Excel's 32,767 characters makes Excel "repair" the file.
    frame = pd.DataFrame({"supplier_name": ["Acme\x0bLtd", "x" * 40_000, "\x01=SUM(A1)"], "amount_gbp": [1.0, 2.0, 3.0]})
    for data in (
        export.to_xlsx(frame, "t", {"Filters": "note\x07 with a bell"}),
        export.xlsx_file(iter([frame]), "t", {"Filters": "x"}).read(),
    ):
        book = load_workbook(io.BytesIO(data))
        names = [c.value for c in book.worksheets[0]["A"][1:]]
        assert names[0] == "Acme Ltd"
        assert len(names[1]) <= 32_767
        assert names[1].endswith(f"[… {40_000 - (32_767 - 60):,} more characters not shown]")
        assert names[1].startswith("x" * 30_000)
        assert names[2] == "' =SUM(A1)"


def _lines(start: int, count: int) -> pd.DataFrame:
    """``count`` drill-down-like lines numbered from ``start``: a date, a hostile supplier, pounds, a share."""
    n = range(start, start + count)
    return pd.DataFrame(
        {
            "payment_date": pd.to_datetime([dt.date(2025, 4, 1) + dt.timedelta(days=i) for i in n]),
            "supplier": [f"=cmd|' /C calc'!A{i}" if i % 2 else f"Supplier {i}" for i in n],
            "amount_gbp": [i + 0.006 for i in n],
            "on_contract_share": [0.5 for _ in n],
            "source_row": list(n),
            "purpose": [None if i % 3 == 0 else f"note\x07{i}" for i in n],
        }
    )


def test_a_streamed_export_has_every_line_in_order_with_formats_and_neutralised_text():
    batches = [_lines(0, 3), _lines(3, 3), _lines(6, 1)]  # the writers join many batches into one table
    with export.xlsx_file(iter(batches), "Spend lines", {"Filters": "FY 2025-26", "Clicked cell": "=Council"}) as file:
        book = load_workbook(io.BytesIO(file.read()))
    assert book.sheetnames == ["Data", "Notes"]
    sheet = book["Data"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Payment date", "Supplier", "Amount (£)", "On contract (%)", "Source row", "Purpose")
    assert [r[4] for r in rows[1:8]] == list(range(7))  # every line, in order
    assert all(v is None for v in rows[8])  # a blank row, then the Total, outside the filter range
    # the sum of the pence the cells show, as Excel's SUM of the column gives
    assert rows[9][0] == "Total" and rows[9][2] == round(sum(round(i + 0.006, 2) for i in range(7)), 2) == 21.07
    assert sheet["C10"].font.b and sheet["C10"].number_format == export.GBP_FORMAT
    assert rows[1][0] == dt.datetime(2025, 4, 1) and sheet["A2"].number_format == export.DATE_FORMAT
    assert "h" not in export.DATE_FORMAT  # dates without h:mm:ss
    assert rows[2][2] == 1.01 and sheet["C3"].number_format == export.GBP_FORMAT  # rounded to pence
    assert sheet["D2"].value == 0.5 and sheet["D2"].number_format == export.SHARE_FORMAT
    assert rows[2][1] == "'=cmd|' /C calc'!A1" and rows[1][1] == "Supplier 0"  # a formula stays text
    assert rows[1][5] is None and rows[2][5] == "note 1"  # a missing value stays empty; a bell becomes a space
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F8"
    notes = dict(book["Notes"].iter_rows(values_only=True))
    assert notes["Filters"] == "FY 2025-26" and notes["Clicked cell"] == "'=Council"
    assert notes["starviz export"] == "Spend lines" and "Sheets" not in notes  # one sheet holds them
    with export.csv_file(iter(batches)) as file:
        text = file.read().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "payment_date,supplier,amount_gbp,on_contract_share,source_row,purpose"  # the header once
    assert len(lines) == 8 and lines[2] == "2025-04-02,'=cmd|' /C calc'!A1,1.006,0.5,1,note 1"


def test_lines_past_a_sheet_go_on_further_sheets_and_the_notes_say_so():
    # An Excel sheet holds 1,048,576 rows; the limit is injected small to see the overflow.
    with export.xlsx_file(iter([_lines(0, 4), _lines(4, 6)]), "Spend lines", {"Filters": "x"}, sheet_rows=4) as file:
        book = load_workbook(io.BytesIO(file.read()))
    assert book.sheetnames == ["Data", "Data 2", "Data 3", "Data 4", "Notes"]
    seen = []
    for name in book.sheetnames[:-1]:
        rows = list(book[name].iter_rows(values_only=True))
        lines = [r for r in rows[1:] if isinstance(r[4], int)]  # not the blank row and Total under the last
        assert rows[0][:3] == ("Payment date", "Supplier", "Amount (£)")  # each sheet has the header
        assert book[name].auto_filter.ref == f"A1:F{len(lines) + 1}" and book[name]["C2"].number_format == export.GBP_FORMAT
        seen += [r[4] for r in lines]
    assert seen == list(range(10))  # every line once, in order
    assert rows[3][0] == "Total" and rows[3][2] == round(sum(round(i + 0.006, 2) for i in range(10)), 2)  # the last sheet
    note = dict(book["Notes"].iter_rows(values_only=True))["Sheets"]
    assert note == export.sheets_note(10, 4)
    assert note == (
        "The 10 lines are on 4 sheets (Data, Data 2, Data 3, Data 4), in order: an Excel sheet holds "
        "3 lines under its header. The CSV has them all in one table."
    )
    assert export.sheets_note(1_048_575) is None and export.sheets_needed(1_048_576) == 2


def test_a_stream_with_no_lines_says_so():
    with export.xlsx_file(iter([]), "Spend lines", {}) as file:
        book = load_workbook(io.BytesIO(file.read()))
    assert book["Data"]["A1"].value == "No lines"
    with export.csv_file(iter([])) as file:
        assert file.read().decode("utf-8-sig") == ""


def test_a_text_column_is_neutralised_exactly_as_value_by_value():
    # The vectorised pass (RE2 over Arrow strings) only picks which texts go through neutralise:
    # the result must be what neutralise gives value by value, for every hostile shape.
    texts = [
        "=SUM(A1)",
        "  +44",
        "\u00a0-1",
        "\u3000@x",
        "\tTab",
        "\rCR",
        "\nLF",
        "＝全角",
        "－x",
        "a\x0bb",
        "\x01=x",
        "x" * 40_000,
        "plain",
        "a=b",
        "",
        None,
        "1-2",
        "]^-",
    ]
    column = pd.Series(texts, dtype="str")
    expected = [None if t is None else export.neutralise(t) for t in texts]
    assert export.neutral_column(column) == expected
    assert export.neutral_column(pd.Series(texts, dtype=object)) == expected


def test_every_workbook_says_where_its_figures_come_from():
    book = load_workbook(io.BytesIO(export.to_xlsx(pd.DataFrame({"spend_gbp": [1.0]}), "t", {"Filters": "All councils"})))
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(values_only=True)}
    assert notes["Source"].startswith("Partner councils' published") and notes["Filters"] == "All councils"
    source = {"Source": export.source_note(dt.date(2026, 3, 31))}
    dated = load_workbook(io.BytesIO(export.to_xlsx(pd.DataFrame({"a": [1]}), "t", source)))
    assert "data as at 31 March 2026" in {r[0]: r[1] for r in dated["Notes"].iter_rows(values_only=True)}["Source"]


def test_a_table_with_no_rows_exports_a_sheet_that_says_so():
    book = load_workbook(io.BytesIO(export.to_xlsx(pd.DataFrame({"supplier_name": [], "spend_gbp": []}), "t", {})))
    rows = list(book["Data"].iter_rows(values_only=True))
    assert rows[0] == ("Supplier name", "Spend (£)") and rows[1][0] == "No rows for these filters."
