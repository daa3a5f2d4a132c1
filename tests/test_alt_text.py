"""Alt text from each kind of chart, against sentences checked by hand from the data below: the
measure's own unit, and no sum of values that do not add up (shares, levels, months of a KPI)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from starviz import charts, export

COLOURS = {"Stockport": "#0072B2", "Trafford": "#D55E00"}
MONTHS = pd.to_datetime(["2025-04-01", "2025-05-01"])


def test_stacked_spend_adds_up_bars_and_series_in_pounds():
    df = pd.DataFrame(
        {"council": ["Stockport", "Trafford"] * 2, "month": MONTHS.repeat(2), "spend_gbp": [1.2e6, 0.8e6, 2.5e6, 0.9e6]}
    )
    fig = charts.spend_by_council_month(df, COLOURS)
    assert export.alt_text(fig, "Spend by council by month", "All councils · 2025-26") == (
        "Spend by council by month (All councils · 2025-26). Stacked bar chart of spend, 2 months, £5.4m in all. "
        "Largest months: May 2025 £3.4m; Apr 2025 £2m. By series: Stockport £3.7m; Trafford £1.7m."
    )


def test_shares_are_given_per_row_in_percent_never_summed():
    df = pd.DataFrame(
        {
            "name": ["Stockport", "Rochdale"],
            "committed_share": [0.24, 0.221],
            "delivered_share": [0.05, 0.062],
            "committed_gbp": [2.4e6, 2.21e6],
            "delivered_gbp": [0.5e6, 0.62e6],
            "value_gbp": [10e6, 10e6],
        }
    )
    fig = charts.social_value_vs_target(df, 0.2, "Social value against the target")
    assert export.alt_text(fig, "Social value against the target") == (
        "Social value against the target. Bar chart of social value as a share of contract value, 2 series for 2 items. "
        "Highest Committed: Stockport: Committed 24.0%, Delivered to date 5.0%; "
        "Rochdale: Committed 22.1%, Delivered to date 6.2%. Target: 20.0%."
    )


def test_a_measure_that_does_not_add_up_gives_each_lines_latest_value_as_a_count():
    df = pd.DataFrame(
        {
            "council": ["Stockport", "Trafford"] * 2,
            "council_id": ["stockport", "trafford"] * 2,
            "month": MONTHS.repeat(2),
            "count_suppliers": [950, 900, 962, 978],
        }
    )
    fig = charts.cube_trend(df, COLOURS, "count_suppliers", "Suppliers", "count", additive=False)
    assert export.alt_text(fig, "Suppliers by month") == (
        "Suppliers by month. Line chart of suppliers over 2 points, one line per series. "
        "Latest (May 2025): Stockport 962; Trafford 978."
    )


def test_a_heat_map_of_shares_names_its_highest_cell_in_percent():
    df = pd.DataFrame(
        {
            "category": ["Care", "Care", "Works", "Works"],
            "council": ["Stockport", "Trafford"] * 2,
            "spend_share": [0.312, 0.25, 0.1, 0.2],
        }
    )
    assert export.alt_text(charts.category_mix(df), "Category mix") == (
        "Category mix. Heat map of share of each council's spend: 2 rows by 2 columns. Highest: Care, Stockport: 31.2%."
    )


def test_kpis_are_described_by_their_latest_month_in_their_own_unit_not_added_up():
    rows = []
    for month, value in zip(MONTHS, [10.0, 12.5], strict=True):
        rows.append(
            dict(
                kpi_code="SAV1",
                is_shared_service=False,
                kpi_name="Cashable savings achieved",
                reported_by="",
                month=month,
                value=value * 1e5,
                target=1e6,
                unit="gbp",
                rag="amber",
            )
        )
        rows.append(
            dict(
                kpi_code="CMP1",
                is_shared_service=False,
                kpi_name="Spend on contract",
                reported_by="",
                month=month,
                value=value * 6,
                target=70.0,
                unit="percent",
                rag="green",
            )
        )
    fig = charts.kpi_trends(pd.DataFrame(rows), "Savings")
    assert export.alt_text(fig, "Savings") == (
        "Savings. Small multiples, one per KPI (2). Cashable savings achieved: £1.2m in May 2025 against a target of "
        "£1m (amber); Spend on contract: 75.0% in May 2025 against a target of 70.0% (green)."
    )


def test_the_scorecard_table_counts_its_statuses():
    table = pd.DataFrame(
        {
            "Group": ["Savings"] * 3,
            "KPI": ["A", "B", "C"],
            "Value": ["1"] * 3,
            "Target": ["2"] * 3,
            "Status": ["Green", "Amber", "Green"],
        }
    )
    assert export.alt_text(charts.scorecard_table(table, "Scorecard"), "Scorecard") == (
        "Scorecard. Table of 3 rows: Group, KPI, Value, Target, Status. Status: 2 Green, 1 Amber. "
        "Amber: B 1 against a target of 2."
    )


def test_the_scorecard_names_the_kpis_off_target_red_first():
    table = pd.DataFrame(
        {
            "Group": ["Compliance"] * 4,
            "KPI": ["Spend on contract", "Waivers approved", "Spend with SMEs", "Local spend"],
            "Value": ["57.2%", "14", "35.2%", "no data"],
            "Target": ["65.0%", "12", "33.0%", "35.0%"],
            "Status": ["Red", "Amber", "Green", "no data"],
        }
    )
    assert export.alt_text(charts.scorecard_table(table, "Scorecard"), "Scorecard") == (
        "Scorecard. Table of 4 rows: Group, KPI, Value, Target, Status. Status: 1 Red, 1 Amber, 1 Green, 1 no data. "
        "Red: Spend on contract 57.2% against a target of 65.0%. Amber: Waivers approved 14 against a target of 12. "
        "No data: Local spend."
    )


def test_one_councils_spend_by_month_gives_the_total_over_its_months():
    df = pd.DataFrame({"council": ["Stockport"] * 2, "month": MONTHS, "spend_gbp": [1.2e6, 2.5e6]})
    fig = charts.spend_by_council_month(df, COLOURS)
    assert export.alt_text(fig, "Spend by council by month", "Stockport · 2025-26") == (
        "Spend by council by month (Stockport · 2025-26). Bar chart of spend for 2 months, £3.7m in all. "
        "Largest: May 2025 £2.5m; Apr 2025 £1.2m."
    )


def test_a_chart_with_nothing_to_show_says_what_it_says_on_the_chart():
    fig = charts.stacked_by_council(pd.DataFrame({"supplier_name": []}), "supplier_name", {}, COLOURS, "Common suppliers")
    assert export.alt_text(fig, "Common suppliers", "Stockport") == (
        "Common suppliers (Stockport). No data: Nothing to show for these filters."
    )


def test_the_pipeline_is_described_by_its_contracts_not_a_sum_of_durations():
    df = pd.DataFrame(
        {
            "contract_title": ["Waste", "Care"],
            "council": ["Stockport", "Trafford"],
            "contract_ref": ["S-1", "T-2"],
            "value_gbp": [5e6, 9e6],
            "start_date": pd.to_datetime(["2024-01-01", "2023-06-01"]),
            "end_date": pd.to_datetime(["2026-03-31", "2028-05-31"]),
            "max_end_date": pd.to_datetime(["2026-03-31", "2028-05-31"]),
            "due_date": pd.to_datetime(["2026-03-31", "2028-05-31"]),
            "bucket": ["3–6 months", "18+ months"],
        }
    )
    fig = charts.contract_timeline(df, dt.date(2025, 11, 1), ["0–3 months", "3–6 months", "18+ months"], 30)
    assert export.alt_text(fig, "Contracts") == (
        "Contracts. Timeline of 2 contracts by end date (1 due in 3–6 months, 1 due in 18+ months). "
        "First to end: Waste · Stockport S-1, on 31 March 2026."
    )


def test_an_empty_chart_that_knows_why_says_so_in_its_alt_text():
    fig = go.Figure()
    fig.update_layout(meta={"kind": "no_data", "missing": "No KPI extract loaded for Rochdale."})
    text = export.alt_text(fig, "Balanced scorecard", "Rochdale · 2024-25 · addressable spend")
    assert text == "Balanced scorecard (Rochdale · 2024-25 · addressable spend). No data: No KPI extract loaded for Rochdale."


def test_one_of_anything_is_said_in_the_singular():
    df = pd.DataFrame({"council": ["Stockport"], "month": MONTHS[:1], "spend_gbp": [1.2e6]})
    fig = charts.spend_by_council_month(df, COLOURS)
    assert "Bar chart of spend for 1 month, £1.2m in all." in export.alt_text(fig, "Spend")
