"""Chart builders of starviz.charts, and the table helper of starviz.ui, where the page tests do not
look inside."""

from __future__ import annotations

import pandas as pd
import pytest

from starviz import charts, tables


def test_treemap_boxes_are_never_black_and_the_colours_cycle_without_it():
    categories = [f"Category {n}" for n in range(10)]
    df = pd.DataFrame(
        {
            "category": [*categories, None],
            "supplier_key": None,
            "supplier_name": None,
            "spend_gbp": [1000.0 - 50 * n for n in range(11)],
            "count_suppliers": 1,
        }
    )
    fig = charts.category_supplier_treemap(df, lambda category, supplier, other: f"c:{category}")
    colours = list(fig.data[0].marker.colors)
    assert len(colours) == 11
    assert "#000000" not in colours
    assert colours[: len(charts.FILLS)] == charts.FILLS  # every colour once before any repeats
    assert colours[len(charts.FILLS)] == charts.FILLS[0]


def test_treemap_labels_are_narrow_and_short_and_the_hover_keeps_the_whole_name():
    name = "Works - Construction, Repair & Maintenance of Public Buildings"
    df = pd.DataFrame(
        {
            "category": [name, "Transport"],
            "supplier_key": None,
            "supplier_name": None,
            "spend_gbp": [900.0, 100.0],
            "count_suppliers": 1,
        }
    )
    fig = charts.category_supplier_treemap(df, lambda category, supplier, other: f"c:{category}")
    label = fig.data[0].labels[0]
    lines = label.split("<br>")
    assert len(lines) == 4 and lines[-1].endswith("…")
    assert all(len(line) <= 14 for line in lines)
    assert fig.data[0].labels[1] == "Transport"
    assert list(fig.data[0].customdata) == [name, "Transport"]
    assert "%{customdata}" in fig.data[0].hovertemplate


def test_the_table_helper_shows_a_missing_value_as_no_data(monkeypatch):
    drawn = []
    monkeypatch.setattr(tables.st, "dataframe", lambda data, **kwargs: drawn.append(kwargs))
    tables.table(pd.DataFrame({"a": [1, None]}), column_order=["a"])
    tables.table(pd.DataFrame({"a": [1, None]}), placeholder="n/a")
    assert drawn[0]["placeholder"] == tables.EMPTY == "no data" and drawn[0]["column_order"] == ["a"]
    assert drawn[0]["hide_index"] is True
    assert drawn[1]["placeholder"] == "n/a"  # a caller may still choose its own


def test_the_ranked_figure_is_built_once_per_answer_and_shared_by_reruns():
    ranked = pd.DataFrame(
        {
            "measure": ["spend", "spend"],
            "label": ["Spend per resident", "Spend per resident"],
            "council": ["Trafford", "Stockport"],
            "value": [120.0, 80.0],
            "rank": [1, 2],
            "value_text": ["£120", "£80"],
            "gap_short": ["best", "-£40"],
            "gap_text": ["the best partner", "£40 below the best"],
        }
    )
    colours = {"Trafford": "#D55E00", "Stockport": "#0072B2"}
    first = charts.benchmark_ranked(ranked, colours)
    assert charts.benchmark_ranked(ranked.copy(), dict(colours)) is first
    assert charts.benchmark_ranked(ranked.assign(value=[90.0, 80.0]), colours) is not first
    assert list(first.data[0].y) == ["Stockport", "Trafford"]  # best at the top


def test_the_coverage_heatmap_is_built_once_per_answer():
    df = pd.DataFrame(
        {
            "council": ["Trafford", "Trafford"],
            "month": pd.to_datetime(["2025-04-01", "2025-05-01"]),
            "count_rows": [10, 0],
            "count_files": [1, 0],
            "is_missing": [False, True],
        }
    )
    first = charts.coverage_heatmap(df)
    assert charts.coverage_heatmap(df.copy()) is first
    assert charts.coverage_heatmap(df.assign(count_rows=[11, 0])) is not first


def _month_ticks(fig, width=1100, height=500) -> list[str]:
    """The x tick labels Plotly draws for the figure (through Chromium, as on the page)."""
    import re

    from starviz import export

    svg = export.image(fig, "svg", width, height).decode()
    return re.findall(r'class="xtick"><text[^>]*>([^<]+)</text>', svg)


def test_few_months_are_named_once_each_on_every_month_axis():
    # "Mar 2026, Apr 2026, Apr 2026, May 2026" was Plotly's own ticking of three months
    import datetime as dt

    import pytest

    from starviz import charts, export

    if export.chromium_path() is None:
        pytest.skip("chromium is not installed")
    months = [dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1)]
    df = pd.DataFrame({"council": "Trafford", "council_id": "trafford", "month": months, "spend_gbp": [1.0, 2.0, 3.0]})
    want = ["Mar 2026", "Apr 2026", "May 2026"]
    assert _month_ticks(charts.spend_by_council_month(df, {})) == want
    assert _month_ticks(charts.cube_trend(df, {}, "spend_gbp", "Spend", "gbp", True)) == want
    assert _month_ticks(charts.cube_trend(df, {}, "spend_gbp", "Suppliers", "count", False)) == want
    one = df.head(1)
    assert _month_ticks(charts.spend_by_council_month(one, {})) == ["Mar 2026"]


def test_month_axes_step_by_whole_months():
    import plotly.graph_objects as go

    from starviz.charts.style import month_axis

    for n, step in ((1, "M1"), (12, "M1"), (13, "M2"), (30, "M3"), (72, "M6"), (140, "M12")):
        fig = go.Figure()
        month_axis(fig, pd.date_range("2020-04-01", periods=n, freq="MS"))
        assert (fig.layout.xaxis.dtick, fig.layout.xaxis.tickformat, fig.layout.xaxis.tick0) == (step, "%b %Y", "2000-01-01")


def test_a_council_with_nothing_in_the_rows_shown_has_no_series_and_no_legend_entry():
    # Rochdale is configured but has sent no spend yet: its column is empty
    df = pd.DataFrame({"supplier_name": ["Acme", "Bolt"], "trafford_spend_gbp": [100.0, 50.0], "rochdale_spend_gbp": [None, 0.0]})
    columns = {"trafford_spend_gbp": "Trafford", "rochdale_spend_gbp": "Rochdale"}
    fig = charts.stacked_by_council(df, "supplier_name", columns, {}, "Common suppliers")
    assert [t.name for t in fig.data] == ["Trafford"]


def test_shares_in_tables_read_with_one_decimal_everywhere(monkeypatch):
    """A share column shows 100.0% beside 99.5% (Streamlit's own "percent" wrote "100%" beside
    "99.47%"), a missing share stays missing ("no data"), and the caller's frame keeps its 0-1
    shares (the export writes those)."""
    drawn = []
    monkeypatch.setattr(tables.st, "dataframe", lambda data, **kwargs: drawn.append((data, kwargs)))
    df = pd.DataFrame({"council": ["A", "B", "C"], "categorised_share": [1.0, 0.9947, None], "other": [0.5, 0.25, 1]})
    tables.table(df, column_config={"categorised_share": tables.share_column("Spend categorised", help="h")})
    data, kwargs = drawn[0]
    assert data["categorised_share"].tolist()[:2] == pytest.approx([100.0, 99.47]) and pd.isna(data["categorised_share"].iloc[2])
    shown = kwargs["column_config"]["categorised_share"]
    assert (shown["label"], shown["help"], shown["type_config"]["format"]) == ("Spend categorised", "h", "%.1f%%")
    assert data["other"].tolist() == [0.5, 0.25, 1]  # not a share column: untouched
    assert df["categorised_share"].tolist()[:2] == [1.0, 0.9947]
    tables.table(df, shares=("other",))  # named by the caller, no column configuration
    assert drawn[1][0]["other"].tolist() == [50.0, 25.0, 100.0]
    assert drawn[1][1]["column_config"]["other"]["label"] == "other"
