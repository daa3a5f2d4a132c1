"""The Board's scorecard slide: a change over only some councils keeps who in a footnote, not in the
cell (issue 18, h18a item 3). A Plotly table wraps a long cell onto four or five lines at a slide's
type size, so "+4.0 pp over Rochdale, Stockport, Tameside and Trafford" pushed the table off a
1280x720 screen after four rows."""

from __future__ import annotations

import pandas as pd

from starviz import charts

FOUR = "Rochdale, Stockport, Tameside and Trafford"


def _table(changes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Group": ["Financial"] * len(changes),
            "KPI": [f"KPI {i}" for i in range(len(changes))],
            "Value": ["60.0%"] * len(changes),
            "Target": ["65.0%"] * len(changes),
            "Status": ["Green"] * len(changes),
            "On last month": changes,
        }
    )


def _cells(fig) -> list[str]:
    table = fig.data[0]
    header = [h.replace("<b>", "").replace("</b>", "") for h in table.header.values]
    return list(table.cells.values[header.index("On last month")])


def test_a_change_over_some_councils_is_marked_and_the_councils_named_under_the_table():
    fig = charts.scorecard_table(
        _table([f"+4.0 pp over {FOUR}", "-1.5 pp", "+2.0 pp over Stockport and Trafford", f"-0.5 pp over {FOUR}", "–"]),
        "Balanced scorecard, May 2025",
    )
    assert _cells(fig) == ["+4.0 pp ¹", "-1.5 pp", "+2.0 pp ²", "-0.5 pp ¹", "–"]
    assert [a.text for a in fig.layout.annotations] == [
        f"¹ Over {FOUR}: the councils that reported it in both months.<br>"
        "² Over Stockport and Trafford: the councils that reported it in both months."
    ]
    assert fig.data[0].domain.y[0] > 0  # the table leaves room for the footnotes
    assert max(len(c) for c in _cells(fig)) <= len("+10.0 pp ¹")


def test_a_scorecard_whose_changes_cover_everyone_has_no_footnote():
    fig = charts.scorecard_table(_table(["+4.0 pp", "no data", "–"]), "Balanced scorecard")
    assert _cells(fig) == ["+4.0 pp", "no data", "–"]
    assert not fig.layout.annotations


def test_a_scorecard_longer_than_the_table_draws_says_how_many_kpis_it_shows():
    fig = charts.scorecard_table(_table(["-"] * 15), "Balanced scorecard")
    assert len(fig.data[0].cells.values[0]) == 12
    assert fig.layout.meta["shown"] == "The first 12 of 15 KPIs"
    whole = charts.scorecard_table(_table(["-"] * 15), "Balanced scorecard", rows=None)
    assert len(whole.data[0].cells.values[0]) == 15 and not whole.layout.meta.get("shown")


def test_the_board_slide_shows_every_kpi_of_the_scorecard(app_env, monkeypatch):
    import datetime as dt

    from starviz import board, narrative, queries
    from starviz.scope import Filters, User

    monkeypatch.setattr(queries, "kpi_as_at", lambda scope: dt.date(2025, 5, 1))
    monkeypatch.setattr(queries, "kpi_scorecard", lambda scope, as_at: None)
    monkeypatch.setattr(narrative, "scorecard_table", lambda df, group_by, trend=True: _table(["-"] * 15))
    monkeypatch.setattr(narrative, "scorecard_export", lambda df, group_by: (_table(["-"] * 15), {}))
    scope = queries.Scope(Filters(councils=("trafford",), fy="2025-26"), User("d", "D", "admin"))
    slide = board.SLIDES["scorecard"](scope)
    assert len(slide.figure.data[0].cells.values[0]) == 15 and not slide.figure.layout.meta.get("shown")


def test_the_slide_table_sizes_its_type_to_the_screen_and_shows_text_from_data_as_text():
    from starviz import slides

    hostile = _table(["+1.0 pp over Stockport and Trafford", "-"])
    hostile.loc[1, "KPI"] = "<img src=x onerror=alert(1)> & more"
    html = slides.table_html(charts.scorecard_table(hostile, "Balanced scorecard"))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; more" in html
    assert html.count("<tr>") == 3  # the header and both KPIs
    assert "² " not in html and "¹ Over Stockport and Trafford" in html  # the footnote under the table
    assert "font-size: min(" in html and "vh" in html and "cqw" in html  # by the screen's height and its box's width, not px
    assert "background:#" in html  # the status cell keeps its RAG tint
