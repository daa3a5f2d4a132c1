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
