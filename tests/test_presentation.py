"""Board presentation mode and the Board pack."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from starviz import board, export, queries
from starviz.scope import Filters, User
from tests.conftest import run_app

DIRECTOR = User("director", "Director", "admin")


def test_present_shows_the_first_slide_of_the_board_sequence(app_env):
    at = run_app("director", present="1", fy="2025-26")
    assert not at.exception
    assert at.query_params["slide"] == "1"
    ids = tuple(queries.councils()["council_id"])
    expected = board.slide(queries.Scope(Filters(councils=ids, all_councils=True, fy="2025-26"), DIRECTOR), 0)
    assert at.title[0].value == expected.title


def test_next_moves_to_the_next_slide_and_the_link_keeps_it(app_env):
    at = run_app("director", present="1", fy="2025-26")
    first_title = at.title[0].value
    at.button(key="slide-next").click().run()
    assert not at.exception
    assert at.query_params["slide"] == "2" and at.query_params["fy"] == "2025-26"
    assert at.title[0].value != first_title
    again = run_app("director", present="1", fy="2025-26", slide="2")
    assert again.title[0].value == at.title[0].value


def test_a_bad_slide_number_opens_the_first_slide(app_env):
    at = run_app("director", present="1", slide="99; drop table x")
    assert not at.exception and at.query_params["slide"] == "1"


def test_board_pack_data_has_a_sheet_per_slide_and_notes(app_env):
    scope = queries.Scope(Filters(councils=("trafford",), fy="2025-26"), DIRECTOR)
    book = load_workbook(io.BytesIO(board.pack_xlsx(scope)))
    assert len(book.sheetnames) == len(board.sequence()) + 1 and book.sheetnames[-1] == "Notes"


@pytest.mark.skipif(export.chromium_path() is None, reason="chromium is not installed")
def test_board_pack_pdf_has_a_contents_page_and_one_page_per_slide(app_env):
    scope = queries.Scope(Filters(councils=("trafford",), fy="2025-26"), DIRECTOR)
    pdf = board.pack_pdf(scope)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == len(board.sequence()) + 1  # and a contents page


def test_the_scorecard_slide_draws_the_scorecard_table(app_env):
    scope = queries.Scope(Filters(councils=("trafford",), fy="2025-26"), DIRECTOR)
    first = board.SLIDES["scorecard"](scope)
    tables = [t for t in first.figure.data if t.type == "table"]
    assert len(tables) == 1, "the scorecard slide must draw its table, not blank axes"
    kpi_column = list(tables[0].header.values).index("<b>KPI</b>")
    assert list(tables[0].cells.values[kpi_column]) == list(first.data["KPI"].astype(str).head(12))
    assert len(first.data) > 0


@pytest.mark.skipif(export.chromium_path() is None, reason="chromium is not installed")
def test_board_pack_on_a_schedule_writes_the_pdf_and_every_board_chart_at_every_preset(app_env, tmp_path, capsys):
    from starviz import cli, config

    out, charts_dir = tmp_path / "packs" / "board.pdf", tmp_path / "charts"
    assert cli.main(["board-pack", "--out", str(out), "--as-at", "2025-04", "--charts-dir", str(charts_dir)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    said = capsys.readouterr().out
    assert "Board pack as at 30 April 2025 written to" in said and f"({len(board.sequence()) + 1} pages)" in said
    presets = config.settings().export_presets
    for key in board.sequence():
        for preset in presets:
            for fmt in ("png", "svg"):
                image = charts_dir / f"board-{key}-{preset}.{fmt}"
                assert image.stat().st_size > 1000, image
                alt = (charts_dir / f"board-{key}-{preset}.{fmt}.txt").read_text()
                assert len(alt) > 40 and alt[-1] == "\n"
    assert len(list(charts_dir.iterdir())) == len(board.sequence()) * len(presets) * 4


def test_board_pack_refuses_a_bad_month_in_one_line(app_env, tmp_path, capsys):
    from starviz import cli

    assert cli.main(["board-pack", "--out", str(tmp_path / "x.pdf"), "--as-at", "March"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "board-pack: --as-at 'March': expected a month as YYYY-MM, e.g. 2026-03"
    assert not (tmp_path / "x.pdf").exists()


def test_the_social_value_slide_names_a_council_of_the_scope_it_has_no_bars_for(monkeypatch):
    # Rochdale had no contract starting in the period: the slide drew three councils of four and did not say so
    import pandas as pd

    frame = pd.DataFrame(
        {
            "name": ["Stockport", "Trafford"],
            "committed_share": [0.25, 0.27],
            "delivered_share": [0.04, 0.01],
            "committed_gbp": [25.0, 27.0],
            "delivered_gbp": [4.0, 1.0],
            "value_gbp": [100.0, 100.0],
        }
    )
    monkeypatch.setattr(queries, "social_value_breakdown", lambda scope, by: frame)
    monkeypatch.setattr(queries, "social_value_target", lambda fy: 0.2)
    monkeypatch.setattr(queries, "period_fy", lambda scope: "2025-26")
    monkeypatch.setattr(
        queries,
        "council_names",
        lambda: {"rochdale": "Rochdale", "stockport": "Stockport", "tameside": "Tameside", "trafford": "Trafford"},
    )
    scope = queries.Scope(Filters(councils=("rochdale", "stockport", "trafford"), fy="2025-26"), DIRECTOR)
    s = board.SLIDES["social_value"](scope)
    assert export.shown(s.figure) == "No contract starting in the period: Rochdale"  # Tameside is not in the scope
    assert export.subtitle(s.figure, "F") == "F · No contract starting in the period: Rochdale"
    everyone = queries.Scope(Filters(councils=("stockport", "trafford"), fy="2025-26"), DIRECTOR)
    assert export.shown(board.SLIDES["social_value"](everyone).figure) == ""


def test_a_slide_header_says_how_much_of_the_list_its_chart_draws(app_env):
    ids = tuple(queries.councils()["council_id"])
    scope = queries.Scope(Filters(councils=ids, all_councils=True, fy="2025-26"), DIRECTOR)
    index = board.sequence().index("pipeline")
    shown = export.shown(board.slide(scope, index).figure)  # "The 15 largest of 40 contracts by value"
    assert shown.endswith("contracts by value") or shown.startswith("All ")
    at = run_app("director", present="1", fy="2025-26", slide=str(index + 1))
    assert not at.exception, at.exception
    assert not any(c.isdigit() for c in at.title[0].value)  # the count is said once, in the header's caption
    assert any(shown in c.value and "data as at" in c.value for c in at.caption)


def _message(fig) -> str:
    """The text an empty slide shows in place of its chart ("" when it draws data)."""
    drawn = [t for t in fig.data if (t.type == "table" and len(t.cells.values[0])) or len(getattr(t, "x", None) or ())]
    return "" if drawn else " ".join(a.text for a in fig.layout.annotations or () if a.x == 0.5 and a.y == 0.5)


@pytest.mark.parametrize(
    ("key", "council", "words"),
    [
        ("scorecard", "rochdale", ["No KPI extract loaded for Rochdale"]),  # none loaded at all
        ("scorecard", "stockport", ["KPI", "Stockport", "2024-25"]),  # loaded, none in the period
        ("spend", "rochdale", ["spend", "Rochdale", "2024-25"]),
        ("social_value", "rochdale", ["No social value returns loaded for Rochdale"]),
        ("pipeline", "rochdale", ["contracts", "Rochdale"]),
        ("collaboration", "rochdale", ["two or more councils", "Rochdale"]),
    ],
)
def test_a_slide_with_no_data_says_what_is_missing_for_whom_and_when(app_env, key, council, words):
    """Nothing in 2024-25 in the fixture for these: no slide may be a blank chart, an empty table or
    bare axes with a target line; each says what is missing, for which council and period, and whether
    it is not loaded at all or loaded with nothing for the period."""
    scope = queries.Scope(Filters(councils=(council,), fy="2024-25"), DIRECTOR)
    s = board.SLIDES[key](scope)
    message = _message(s.figure)
    assert message, f"the {key} slide with no data draws an empty chart and says nothing"
    for word in words:
        assert word.lower() in message.lower(), message
    assert "0%" not in message and "£0" not in message


def test_the_board_pack_has_no_empty_sheet_a_slide_without_data_says_why(app_env):
    scope = queries.Scope(Filters(councils=("rochdale",), fy="2024-25"), DIRECTOR)
    book = load_workbook(io.BytesIO(board.pack_xlsx(scope)))
    for sheet in book.worksheets:
        values = [c for row in sheet.iter_rows(min_row=2, values_only=True) for c in row if c not in (None, "")]
        assert values, f"sheet {sheet.title!r} is empty"


def test_an_empty_slides_message_is_on_lines_that_fit_and_names_are_text(app_env, monkeypatch):
    monkeypatch.setattr(queries, "council_names", lambda: {"rochdale": "<b>Roch</b>dale"})
    scope = queries.Scope(Filters(councils=("rochdale",), fy="2024-25", names=(("rochdale", "<b>Roch</b>dale"),)), DIRECTOR)
    s = board.SLIDES["collaboration"](scope)
    lines = _message(s.figure).split("<br>")
    assert len(lines) > 1 and all(len(line) <= 60 for line in lines)
    assert "<b>" not in _message(s.figure) and "&lt;b&gt;Roch&lt;/b&gt;dale" in _message(s.figure)


def test_the_board_pack_scorecard_sheet_holds_numbers_and_every_sheet_is_named_whole(app_env):
    """The pack's scorecard sheet held the slide's text ("£503k", "'+18.9%": a change starting with +
    was neutralised into text with an apostrophe showing) and sheets were slide titles cut at 31
    characters ("Contract pipeline the largest c")."""
    scope = queries.Scope(Filters(councils=("trafford",), fy="2025-26"), DIRECTOR)
    book = load_workbook(io.BytesIO(board.pack_xlsx(scope)))
    titles = [board.slide(scope, i).title for i in range(len(board.sequence()))]
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(values_only=True)}
    for name in book.sheetnames[:-1]:
        assert notes.get(name) in titles, f"sheet {name!r} is not named in the Notes with its slide's title"
    assert f"data as at {queries.as_at_date():%d %B %Y}" in notes["Source"] and notes["Coverage"].startswith("Data coverage")
    scorecard = next(book[n] for n in book.sheetnames if notes.get(n, "").startswith("Balanced scorecard"))
    header = [c.value for c in scorecard[1]]
    for column in ("Value", "Target", "On last month"):
        cells = [row[header.index(column)] for row in scorecard.iter_rows(min_row=2)]
        text = [c.value for c in cells if c.value is not None and c.data_type != "n" and c.value != "no data"]
        assert any(c.data_type == "n" for c in cells) and not text, text
    assert not [c.value for row in scorecard.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("'")]


def test_a_slides_notes_on_the_chart_are_set_for_the_room():
    """'Today' on the pipeline and 'Target 20%' on social value were 15 px on a 1080-line screen."""
    import plotly.graph_objects as go

    from starviz import charts

    fig = go.Figure(go.Bar(x=[1], y=["a"], orientation="h"))
    fig.add_annotation(text="Today", x=0, y=1, yref="paper", showarrow=False, font=dict(color="#8B1E3F", size=15))
    screen = charts.for_screen(fig)
    assert screen.layout.annotations[0].font.size >= 18 and screen.layout.annotations[0].font.color == "#8B1E3F"
