"""Chart builders of starviz.charts, and the table helper of starviz.ui, where the page tests do not
look inside."""

from __future__ import annotations

import pandas as pd

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
