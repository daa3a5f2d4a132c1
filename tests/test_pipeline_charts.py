"""Charts of the collaboration and pipeline pages: what they draw, and that empty input is fine."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import charts

BUCKETS = ["0–3 months", "3–6 months", "6–12 months", "12–18 months", "18+ months"]
TODAY = dt.date(2025, 6, 15)


def _pipeline(*rows):
    return pd.DataFrame(
        rows,
        columns=[
            "contract_title",
            "council",
            "contract_ref",
            "value_gbp",
            "start_date",
            "end_date",
            "max_end_date",
            "due_date",
            "bucket",
        ],
    )


def test_timeline_draws_the_term_by_bucket_and_the_extension_to_the_maximum_end_date():
    df = _pipeline(
        (
            "Repairs",
            "Trafford",
            "TC-001",
            50_000,
            pd.Timestamp("2024-04-01"),
            pd.Timestamp("2025-04-12"),
            pd.Timestamp("2026-03-31"),
            pd.Timestamp("2026-03-31"),
            "6–12 months",
        ),
        (
            "Parks",
            "Trafford",
            "TC-005",
            3_000_000,
            pd.Timestamp("2022-08-01"),
            pd.Timestamp("2025-08-31"),
            pd.Timestamp("2026-08-31"),
            pd.Timestamp("2025-08-31"),
            "0–3 months",
        ),
        (
            "Chairs",
            "Trafford",
            "TC-004",
            12_000,
            pd.Timestamp("2024-05-21"),
            pd.Timestamp("2025-09-20"),
            pd.Timestamp("2025-09-20"),
            pd.Timestamp("2025-09-20"),
            "3–6 months",
        ),
    )
    fig = charts.contract_timeline(df, TODAY, BUCKETS, top_n=2)
    names = [t.name for t in fig.data]
    assert names == ["Due in 0–3 months", "Due in 6–12 months", "Extension option (hatched)"]  # TC-004 is not top 2
    extension = fig.data[-1]
    # from the end date (or a year before today, the left edge) to the maximum end date
    assert list(extension.base) == ["2025-04-12", "2025-08-31"]
    assert [round(x / 86_400_000) for x in extension.x] == [353, 365]
    assert fig.layout.yaxis.categoryarray[-1].startswith("Parks")  # the first due at the top


def test_charts_accept_empty_frames():
    empty = _pipeline()
    assert len(charts.contract_timeline(empty, TODAY, BUCKETS, top_n=30).data) == 0
    heat = charts.workload_heatmap(
        pd.DataFrame(columns=["category_manager", "is_unassigned", "quarter", "effort"]), ["2025-26 Q1"], "effort", "Workload"
    )
    assert list(heat.data[0].y or []) == []
    bars = charts.stacked_by_council(
        pd.DataFrame(columns=["supplier_name", "a_spend_gbp"]),
        "supplier_name",
        {"a_spend_gbp": "A"},
        {"A": "#000000"},
        "Common suppliers",
    )
    # nothing to stack: no series, no axes (Plotly's empty -1..1 ticks read as data), and it says so
    assert len(bars.data) == 0 and bars.layout.xaxis.visible is False
    assert [a.text for a in bars.layout.annotations] == ["Nothing to show for these filters"]


def test_workload_heatmap_puts_unassigned_last_and_labels_money():
    df = pd.DataFrame(
        {
            "category_manager": ["Unassigned", "Sam Patel", "Amelia Hartley"],
            "is_unassigned": [True, False, False],
            "quarter": ["2025-26 Q1"] * 3,
            "value_gbp": [1_050_000.0, 3_000_000.0, 80_000.0],
        }
    )
    fig = charts.workload_heatmap(df, ["2025-26 Q1", "2025-26 Q2"], "value_gbp", "Workload")
    assert list(fig.data[0].y) == ["Amelia Hartley", "Sam Patel", "Unassigned"]
    assert [row[0] for row in fig.data[0].text] == ["£80k", "£3m", "£1.1m"]
    assert [row[1] for row in fig.data[0].text] == ["", "", ""]


def test_the_timeline_says_how_many_it_shows_in_one_place_and_a_small_export_does_not_contradict_it():
    """The page said "The 30 largest contracts…" in the title while a website-size export showed 24
    and said so in its subtitle. The count now lives only in the figure's meta.shown: the page's
    caption and the export's subtitle read it; the title carries no count."""
    from starviz import export

    df = _pipeline(
        *(
            (
                f"Contract {i}",
                "Trafford",
                f"TC-{i:03}",
                1_000 * (i + 1),
                pd.Timestamp("2024-04-01"),
                pd.Timestamp("2026-04-01") + pd.Timedelta(days=i),
                pd.Timestamp("2026-04-01") + pd.Timedelta(days=i),
                pd.Timestamp("2026-04-01") + pd.Timedelta(days=i),
                "6–12 months",
            )
            for i in range(40)
        )
    )
    fig = charts.contract_timeline(df, TODAY, BUCKETS, top_n=30)
    assert not any(c.isdigit() for c in fig.layout.title.text)
    assert export.shown(fig) == "The 30 largest of 40 contracts by value"
    assert export.subtitle(fig, "All councils") == "All councils · The 30 largest of 40 contracts by value"
    art = export.branded(
        fig, title=fig.layout.title.text, subtitle=export.subtitle(fig, "All councils"), source="s", width=1200, height=675
    )
    texts = " ".join(a.text for a in art.layout.annotations if a.text)
    assert "The 30 largest of 40 contracts by value" in texts
    kept = len({y for t in art.data for y in (t.y or [])})
    assert kept < 30 and f"The {kept} largest by value of 30 shown at this size" in texts.replace("<br>", " ")
    assert export.shown(charts.contract_timeline(df.head(3), TODAY, BUCKETS, top_n=30)) == "All 3 contracts"


def test_a_stacked_chart_of_the_top_rows_says_how_many_of_how_many_it_draws():
    from starviz import export

    df = pd.DataFrame({"supplier_name": [f"S{i}" for i in range(20)], "t_spend_gbp": [100.0 - i for i in range(20)]})
    fig = charts.stacked_by_council(df, "supplier_name", {"t_spend_gbp": "Trafford"}, {}, "Common suppliers")
    assert len(fig.data[0].y) == 15
    assert export.shown(fig) == "The 15 largest of 20 suppliers by combined spend"
    assert export.subtitle(fig, "All councils") == "All councils · The 15 largest of 20 suppliers by combined spend"
    every = charts.stacked_by_council(df.head(4), "supplier_name", {"t_spend_gbp": "Trafford"}, {}, "Common suppliers")
    assert export.shown(every) == "" and export.subtitle(every, "All councils") == "All councils"
