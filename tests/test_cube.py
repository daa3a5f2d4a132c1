"""The spend cube, the drill-down, the supplier profile and benchmarking against the fixture build.

Numbers are worked out by hand from the rows in tests/fixtures/extracts.py (financial year 2025-26,
April and May 2025). Addressable lines: Rochdale ABC 1,234.50 and -234.50; Stockport A.B.C. 1,200.50
and Long Name Care 3,000; Tameside ABC 2,000 and Widget -120; Trafford ABC 1,500 and -200, Widget 750
and Long Name Care 2,000. Excluded: four redacted personal payments (999.99, 620, 650, 800), Teachers
Pensions 900, the GMCA levy 100,000, Stockport MBC 5,000 (inter-authority) and HMRC 20,000.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from starviz import benchmark, config, cube, queries
from starviz.queries import spend as spend_queries
from starviz.scope import Filters, User
from tests.conftest import ALL, partners_without_files

DIRECTOR = User("director", "Director", "admin")
ANALYST = User("category.manager", "Category Manager", "analyst")
BOARD = User("board", "Board Member", "viewer")
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))
WORKS = "Works - Construction, Repair & Maintenance"
CARE = "Social Community Care Supplies & Services"
ABC = "Sabd86ca311"  # the one supplier behind ABC Ltd, ABC Limited, A.B.C. LIMITED and ABC LTD


@pytest.fixture(autouse=True)
def fixture_db(fixture_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def _scope(user=DIRECTOR, councils=ALL, addressable=False, **period):
    period = period or {"period": "fy", "fy": "2025-26"}
    return queries.Scope(Filters(councils=councils, all_councils=councils == ALL, addressable_only=addressable, **period), user)


def _cell(pivot: cube.Pivot, row_label: str, column: str) -> float | None:
    table = pivot.table.set_index(pivot.row_header)
    return table.loc[row_label, column]


def _row(pivot: cube.Pivot, row_label: str) -> int:
    return pivot.table[pivot.row_header].tolist().index(row_label)


def _all_lines(scope, criteria, sort="amount_gbp", descending=True):
    pages, page = [], 0
    while True:
        part = queries.drill_lines(scope, criteria, sort, descending, page, page_size=5)
        if part.empty:
            break
        pages.append(part)
        page += 1
    return pages


# --- cube totals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows,columns",
    [
        ("category", "council"),
        ("supplier", "month"),
        ("department", "contract"),
        ("category_l2", "local"),
        ("quarter", "none"),
        ("sme", "vcse"),
    ],
)
@pytest.mark.parametrize("addressable", [False, True])
def test_cube_totals_equal_fct_spend_totals_for_the_same_filters(db, rows, columns, addressable):
    scope = _scope(addressable=addressable)
    spend = queries.spend_pivot(scope, cube.View(rows, columns, "spend_gbp"))
    lines = queries.spend_pivot(scope, cube.View(rows, columns, "count_lines"))
    total, count = db.execute(
        "select sum(amount_gbp), count(*) from fct_spend where financial_year = '2025-26' and (is_addressable or not ?)",
        [addressable],
    ).fetchone()
    assert spend.table["Total"].iloc[-1] == pytest.approx(float(total))
    assert lines.table["Total"].iloc[-1] == count
    assert spend.table["Total"].iloc[:-1].sum() == pytest.approx(float(total))  # rows add up to the total


def test_the_pivot_by_category_and_council_holds_the_hand_worked_sums():
    pivot = queries.spend_pivot(_scope(addressable=True), cube.View("category", "council", "spend_gbp"))
    assert list(pivot.table.columns) == ["Category (ProClass level 1)", "Rochdale", "Stockport", "Tameside", "Trafford", "Total"]
    assert _cell(pivot, WORKS, "Trafford") == pytest.approx(1300)  # 1,500 less a 200 credit note
    assert _cell(pivot, WORKS, "Total") == pytest.approx(1000 + 1200.5 + 2000 + 1300)
    assert _cell(pivot, "Not classified", "Tameside") == pytest.approx(-120)
    assert _cell(pivot, "Total", "Stockport") == pytest.approx(4200.5)
    assert _cell(pivot, "Total", "Total") == pytest.approx(11130.5)
    assert pd_isna(_cell(pivot, CARE, "Rochdale"))  # nothing there is an empty cell, not a zero


def pd_isna(value) -> bool:
    return value is None or value != value


def test_suppliers_are_counted_not_summed_in_the_totals():
    pivot = queries.spend_pivot(_scope(addressable=True), cube.View("category", "council", "count_suppliers"))
    # ABC everywhere; Long Name Care in Stockport and Trafford; Widget in Tameside and Trafford
    assert [_cell(pivot, "Total", c) for c in ("Rochdale", "Stockport", "Tameside", "Trafford")] == [1, 2, 2, 3]
    assert _cell(pivot, "Total", "Total") == 3
    assert _cell(pivot, WORKS, "Total") == 1
    everything = queries.spend_pivot(_scope(), cube.View("council", "none", "count_suppliers"))
    assert _cell(everything, "Total", "Total") == 7  # + GMCA, Stockport MBC, HMRC, Teachers Pensions


def test_average_line_value_divides_spend_by_lines_at_every_level():
    pivot = queries.spend_pivot(_scope(addressable=True), cube.View("council", "none", "avg_line_gbp"))
    assert _cell(pivot, "Trafford", "Total") == pytest.approx(4050 / 4)
    assert _cell(pivot, "Total", "Total") == pytest.approx(11130.5 / 10)


def test_values_beyond_the_largest_n_are_one_other_row_that_keeps_the_totals():
    pivot = queries.spend_pivot(_scope(addressable=True), cube.View("category", "council", "spend_gbp"), max_rows=1)
    assert pivot.table[pivot.row_header].tolist() == [WORKS, "Other (2)", "Total"]
    assert _cell(pivot, "Other (2)", "Trafford") == pytest.approx(2000 + 750)
    assert _cell(pivot, "Total", "Total") == pytest.approx(11130.5)
    assert pivot.notes


def test_the_supplier_dimension_is_labelled_by_name_and_keeps_redacted_payees_apart():
    pivot = queries.spend_pivot(_scope(), cube.View("supplier", "none", "spend_gbp"))
    labels = pivot.table[pivot.row_header].tolist()
    assert labels[0] == "Greater Manchester Combined Authori"
    assert _cell(pivot, "Redacted or unnamed payee", "Total") == pytest.approx(999.99 + 620 + 650 + 800)
    assert _cell(pivot, "ABC LTD", "Total") == pytest.approx(1000 + 1200.5 + 2000 + 1300)


def test_a_selection_narrows_every_figure():
    view = cube.View("council", "none", "spend_gbp", picks=(("category", WORKS),))
    assert queries.cube_totals(_scope(), view.criteria())["spend_gbp"] == pytest.approx(5500.5)
    assert _cell(queries.spend_pivot(_scope(), view), "Total", "Total") == pytest.approx(5500.5)
    trend = queries.spend_trend(_scope(), view.criteria())
    assert trend["spend_gbp"].sum() == pytest.approx(5500.5)
    assert queries.spend_by_category_supplier(_scope(), view.criteria())["spend_gbp"].sum() == pytest.approx(5500.5)


def test_excluded_spend_is_broken_down_by_reason_whatever_the_toggle():
    gone = queries.excluded_spend(_scope(addressable=True))
    by_reason = gone.groupby("exclusion_reason")["spend_gbp"].sum().to_dict()
    assert by_reason == pytest.approx(
        {
            "levies": 100000,
            "HMRC": 20000,
            "inter-authority": 5000,
            "pensions": 900,
            "redacted personal data": 999.99 + 620 + 650 + 800,
        }
    )
    assert gone["exclusion_reason"].iloc[0] == "levies"  # the largest reason first


# --- drill-down -----------------------------------------------------------------------------------------


def test_drill_down_lines_sum_to_their_cell():
    scope = _scope(ANALYST, addressable=True)
    pivot = queries.spend_pivot(scope, cube.View("category", "council", "spend_gbp"), max_rows=1)
    for row_label, column in ((WORKS, "Trafford"), ("Other (2)", "Trafford"), ("Total", "Stockport"), (WORKS, "Total")):
        criteria = pivot.cell_criteria(_row(pivot, row_label), column)
        lines = _all_lines(scope, criteria)
        assert sum(p["amount_gbp"].sum() for p in lines) == pytest.approx(_cell(pivot, row_label, column))
        summary = queries.drill_summary(scope, criteria)
        assert summary["spend_gbp"] == pytest.approx(_cell(pivot, row_label, column))
        assert summary["count_lines"] == sum(len(p) for p in lines)


def test_drill_down_pages_are_sorted_and_carry_their_source_file_and_row():
    scope = _scope(ANALYST, addressable=True)
    criteria = (cube.Criterion("category", WORKS), cube.Criterion("council", "trafford"))
    first = queries.drill_lines(scope, criteria, "amount_gbp", True, 0, page_size=1)
    second = queries.drill_lines(scope, criteria, "amount_gbp", True, 1, page_size=1)
    assert first["amount_gbp"].tolist() == [1500] and second["amount_gbp"].tolist() == [-200]
    assert first["source_file"].iloc[0].endswith("trafford-supplier-spend-2025-04.csv")
    assert (first["source_row"].iloc[0], second["source_row"].iloc[0]) == (2, 5)
    with pytest.raises(ValueError):
        queries.drill_lines(scope, criteria, "amount_gbp; drop table fct_spend")


def test_a_board_viewer_gets_no_line_level_detail_and_redacted_payments_only_as_a_total():
    criteria = (cube.Criterion("category", "Not classified"), cube.Criterion("council", "trafford"))
    assert queries.drill_lines(_scope(BOARD), criteria).empty
    summary = queries.drill_summary(_scope(BOARD), criteria)
    assert (summary["count_lines"], summary["count_redacted"], summary["count_shown"]) == (5, 1, 0)
    totals = queries.drill_by_supplier(_scope(BOARD), criteria).set_index("supplier")["spend_gbp"]
    assert totals["Redacted payments (shown only as a total)"] == pytest.approx(800)
    assert totals.sum() == pytest.approx(100000 + 20000 + 5000 + 800 + 750)


def test_an_analyst_sees_the_redacted_line_itself():
    criteria = (cube.Criterion("category", "Not classified"), cube.Criterion("council", "trafford"))
    lines = queries.drill_lines(_scope(ANALYST), criteria)
    assert "Redacted (personal)" in lines["supplier"].tolist()
    assert len(lines) == 5


def test_a_scoped_user_never_gets_another_councils_rows_from_the_cube_or_the_lines():
    scope = _scope(TRAFFORD, ("stockport", "trafford"))
    pivot = queries.spend_pivot(scope, cube.View("category", "council", "spend_gbp"))
    assert list(pivot.table.columns) == ["Category (ProClass level 1)", "Trafford", "Total"]
    assert _cell(pivot, "Total", "Total") == pytest.approx(129850)
    asked = (cube.Criterion("council", "stockport"),)
    assert queries.drill_lines(scope, asked).empty
    assert queries.drill_summary(scope, asked)["count_lines"] == 0
    assert queries.cube_totals(scope, asked)["spend_gbp"] == 0
    assert queries.supplier_search(scope, "A.B.C.").empty  # Stockport's spelling is not Trafford's to see


# --- supplier profile -----------------------------------------------------------------------------------


def test_supplier_profile_shows_merged_name_variants_contracts_and_flags():
    scope = _scope()
    facts = queries.cube_supplier_profile(scope, ABC)
    assert facts["supplier_name"] == "ABC LTD"
    assert (facts["is_local"], facts["is_sme"], facts["is_vcse"]) == (True, True, False)
    assert facts["spend_gbp"] == pytest.approx(5500.5)
    assert (facts["count_councils"], facts["count_contracts"], facts["count_name_variants"]) == (4, 1, 4)
    variants = queries.supplier_name_variants(scope, ABC)
    assert set(variants["name_as_published"]) == {"ABC Limited", "A.B.C. LIMITED", "ABC LTD", "ABC Ltd"}
    contracts = queries.cube_supplier_contracts(scope, ABC)
    assert contracts[["council", "contract_ref", "spend_gbp"]].values.tolist() == [["Trafford", "TC-001", 1300]]
    by_month = queries.supplier_spend_by_council_month(scope, ABC)
    assert by_month.groupby("council")["spend_gbp"].sum().to_dict() == pytest.approx(
        {"Rochdale": 1000, "Stockport": 1200.5, "Tameside": 2000, "Trafford": 1300}
    )
    assert queries.supplier_categories(scope, ABC)["category"].tolist() == [WORKS]


def test_contract_status_is_the_one_vocabulary_computed_for_the_day_asked():
    """TC-001 runs 2024-04-01 to 2025-04-12 with an extension option to 2026-03-31. No table stores a
    status: the supplier profile and the contract lists ask the contract_status macro for their today."""
    scope = _scope()
    for today, status, live in [
        (dt.date(2024, 3, 1), "not started", 0),
        (dt.date(2024, 6, 1), "live", 1),
        (dt.date(2025, 6, 1), "in extension", 1),
        (dt.date(2026, 6, 1), "ended", 0),
    ]:
        assert queries.cube_supplier_contracts(scope, ABC, today=today)["status"].tolist() == [status]
        assert queries.supplier_contracts(scope, ABC, today=today)["status"].tolist() == [status]
        assert queries.cube_supplier_profile(scope, ABC, today=today)["count_live_contracts"] == live


def test_unknown_flags_stay_unknown_and_star_contracts_count_under_each_council_they_cover():
    care = queries.supplier_search(_scope(), "long name care")["supplier_id"].iloc[0]
    facts = queries.cube_supplier_profile(_scope(), care)
    assert facts["is_vcse"] is None
    contracts = queries.cube_supplier_contracts(_scope(), care)
    assert contracts[["council", "let_by", "spend_gbp"]].values.tolist() == [
        ["Stockport", "STAR collaborative", 3000],
        ["Trafford", "STAR collaborative", 2000],
    ]
    assert facts["count_contracts"] == 1


def test_a_scoped_user_sees_only_their_own_councils_view_of_a_supplier():
    scope = _scope(TRAFFORD, ("trafford",))
    facts = queries.cube_supplier_profile(scope, ABC)
    assert facts["spend_gbp"] == pytest.approx(1300) and facts["count_councils"] == 1
    assert set(queries.supplier_name_variants(scope, ABC)["council"]) == {"Trafford"}
    pensions = "S3a57269d3b"  # Teachers Pensions: Stockport's alone
    assert queries.cube_supplier_profile(_scope(), pensions) is not None  # the id is real
    assert queries.cube_supplier_profile(scope, pensions) is None


def test_supplier_search_matches_any_spelling_literally():
    found = queries.supplier_search(_scope(), "a.b.c.")
    assert found["supplier_id"].tolist() == [ABC]
    assert queries.supplier_search(_scope(), "%").empty  # no wildcards


# --- benchmarking ---------------------------------------------------------------------------------------


def test_per_head_figures_use_the_population_from_the_council_configuration(councils):
    figures = queries.benchmark_by_council(_scope(addressable=True)).set_index("council_id")
    for council, spend in {"trafford": 4050, "stockport": 4200.5, "rochdale": 1000, "tameside": 1880}.items():
        assert figures.loc[council, "population"] == councils[council].population
        assert figures.loc[council, "spend_per_head_gbp"] == pytest.approx(spend / councils[council].population)


def test_benchmark_measures_follow_the_domain_rules():
    f = queries.benchmark_by_council(_scope(addressable=True)).set_index("council_id")
    assert f.loc["trafford", "on_contract_share"] == pytest.approx((1500 - 200 + 2000) / 4050)
    assert f.loc["stockport", "on_contract_share"] == pytest.approx(3000 / 4200.5)
    # Widget (not local) sent Tameside only a £120 refund: left out of both parts (known_share.sql),
    # not 2,000 / 1,880 = 106.4%
    assert f.loc["tameside", "local_share"] == pytest.approx(1.0) and f.loc["tameside", "share_left_out_gbp"] == 120
    assert f.loc["trafford", "count_suppliers"] == 3
    # concentration like with like too: Trafford's lines of £500 and over (not the -200 credit)
    shares = [1500 / 4250, 750 / 4250, 2000 / 4250]
    assert f.loc["trafford", "hhi"] == pytest.approx(sum(s * s for s in shares) * 10000)
    assert f.loc["trafford", "top10_share"] == pytest.approx(1.0)
    # line measures like with like: Stockport publishes only lines of £500 and over (its configuration),
    # Rochdale's and Tameside's smallest lines are £999.99 and £650 (so £500 and over, derived), so every
    # council's lines count from £500: Trafford's 1,500, 750 and 2,000 (not the -200 credit)
    assert f.loc["trafford", "small_line_share"] == pytest.approx(1.0)  # all 3 under £5,000
    assert f.loc["trafford", "avg_line_gbp"] == pytest.approx((1500 + 750 + 2000) / 3)
    assert f.loc["tameside", "count_suppliers"] == 1  # ABC's £2,000; Widget's only line is a credit
    assert set(f["line_floor_gbp"]) == {500}
    assert f["publishes_from_gbp"].to_dict() == {"trafford": 0, "stockport": 500, "rochdale": 500, "tameside": 500}
    assert benchmark.line_floor_note(f.reset_index()) == (
        "Line measures and supplier concentration count lines of £500 and over for every council: "
        "Rochdale, Stockport and Tameside publish only those."
    )


def test_a_council_publishing_every_line_alone_counts_all_its_lines():
    f = queries.benchmark_by_council(_scope(addressable=True, councils=("trafford",))).set_index("council_id")
    assert f.loc["trafford", "avg_line_gbp"] == pytest.approx(4050 / 4)  # 1,500 - 200 + 750 + 2,000 over 4 lines
    assert f.loc["trafford", "line_floor_gbp"] == 0
    assert benchmark.line_floor_note(f.reset_index()) == ""


def test_each_measure_is_ranked_with_the_gap_to_the_best_partner():
    figures = queries.benchmark_by_council(_scope(addressable=True))
    ranked = benchmark.rank(figures, queries.benchmark_definitions(), 10)
    on_contract = ranked[ranked["measure"] == "on_contract_share"].set_index("council")
    assert on_contract.loc["Trafford", "rank"] == 1 and on_contract.loc["Trafford", "gap_text"] == "best"
    assert on_contract.loc["Stockport", "rank"] == 2
    assert on_contract.loc["Stockport", "gap"] == pytest.approx((3000 / 4200.5 - 3300 / 4050) * 100)
    # Rochdale and Tameside have no contracts of their own loaded: no data, not ranked, not "joint 3rd"
    for council in ("Rochdale", "Tameside"):
        row = on_contract.loc[council]
        assert pd.isna(row["rank"]) and pd.isna(row["value"]) and row["value_text"] == "no data"
        assert row["gap_text"] == "no data: not ranked" and row["count_ranked"] == 2
    hhi = ranked[ranked["measure"] == "hhi"].set_index("council")
    assert hhi["rank"].idxmin() == hhi["value"].idxmin()  # lower concentration is better
    label = ranked.loc[ranked["measure"] == "small_line_share", "label"].iloc[0]
    assert label == "Share of lines under £5,000"


def test_coverage_counts_months_categorised_and_matched_spend_and_warns_when_it_differs(fixture_raw):
    coverage = queries.coverage_by_council(_scope()).set_index("council")
    # a partner configured but without a file in the fixture is listed with no months loaded
    absent = {cc.short_name: 0 for cc in partners_without_files(fixture_raw).values()}
    assert coverage["months_loaded"].to_dict() == {"Rochdale": 1, "Stockport": 2, "Tameside": 1, "Trafford": 2} | absent
    assert coverage["months_in_period"].iloc[0] == 2
    assert coverage.loc["Trafford", "categorised_share"] == pytest.approx((1500 - 200 + 2000) / 129850)
    assert coverage.loc["Trafford", "matched_share"] == pytest.approx((129850 - 800) / 129850)
    warnings = benchmark.coverage_warnings(coverage.reset_index(), 0.05)
    assert any("Months of spend loaded differ" in w for w in warnings)
    assert any("categorised" in w for w in warnings)
    assert benchmark.coverage_warnings(coverage.reset_index().head(1), 0.05) == []


def test_category_mix_shares_add_up_to_one_per_council():
    mix = queries.category_mix_by_council(_scope(addressable=True))
    assert mix.groupby("council")["spend_share"].sum().to_dict() == pytest.approx(
        {"Rochdale": 1, "Stockport": 1, "Tameside": 1, "Trafford": 1}
    )


# --- the page's view and chart clicks (pure Python) ----------------------------------------------------


def test_a_view_round_trips_through_the_link():
    view = cube.View("supplier", "quarter", "count_suppliers", picks=(("month", "2025-04-01"), ("category", WORKS)), supplier=ABC)
    parsed, notices = cube.parse_view(view.to_params())
    assert parsed == view and notices == []
    assert [d for d, _ in parsed.picks] == ["category", "month"]  # one canonical order
    drilled = cube.View("category", "council", cell=(WORKS, cube.CELL_TOTAL))
    assert drilled.to_params()["cell_row"] == WORKS and cube.parse_view(drilled.to_params()) == (drilled, [])


def test_the_drilled_cell_goes_when_the_table_changes():
    view = cube.View("category", "council", cell=(WORKS, "trafford"))
    assert view.laid_out("category", "council", "spend_gbp").cell == (WORKS, "trafford")
    assert view.laid_out("category", "council", "count_lines").cell is None
    assert view.pick("month", "2025-04-01").cell is None
    assert view.unpick("month").cell == (WORKS, "trafford")  # nothing was picked: the same table
    half, notices = cube.parse_view({"cell_row": WORKS})
    assert half.cell is None and len(notices) == 1


def test_bad_view_parameters_are_ignored_with_a_notice():
    view, notices = cube.parse_view(
        {"rows": "drop table", "cols": "category", "measure": "x", "profile": "nope", "sel_category": "\x00bad"}
    )
    assert view == cube.View("category", "council", "spend_gbp")
    assert len(notices) == 5
    same, notices = cube.parse_view({"rows": "council", "cols": "council"})
    assert (same.rows, same.columns) == ("council", "none") and len(notices) == 1


def test_clicks_on_the_charts_become_selections():
    box = {"id": cube.treemap_id(WORKS, ABC)}
    assert cube.picks_from_treemap([box]) == {"category": WORKS, "supplier": ABC}
    assert cube.picks_from_treemap([{"id": cube.treemap_id(WORKS)}]) == {"category": WORKS, "supplier": None}
    assert cube.picks_from_treemap([]) == {"category": None, "supplier": None}
    bar = {"x": "2025-04-01", "customdata": ["trafford", "2025-04-01"]}
    assert cube.picks_from_trend([bar]) == {"month": "2025-04-01", "council": "trafford"}
    assert cube.picks_from_trend([]) == {"month": None, "council": None}


def test_selecting_replaces_the_same_dimension_and_charts_leave_out_their_own():
    view = cube.View().pick("month", "2025-04-01").pick("category", WORKS).pick("month", "2025-05-01")
    assert view.picks == (("category", WORKS), ("month", "2025-05-01"))
    assert view.criteria(without=["month"]) == (cube.Criterion("category", WORKS),)
    assert view.unpick("category", "month").picks == ()


def test_a_single_council_is_shown_but_not_ranked():
    figures = queries.benchmark_by_council(_scope(TRAFFORD, ("trafford",), addressable=True))
    ranked = benchmark.rank(figures, queries.benchmark_definitions(), 10)
    assert set(ranked["gap_text"]) == {"the only council compared"}


def test_suppliers_in_an_other_row_are_counted_once_across_the_values_it_holds():
    pivot = queries.spend_pivot(_scope(addressable=True), cube.View("category", "council", "count_suppliers"), max_rows=1)
    # one supplier in each category: the tie goes to the first name; ABC and Long Name Care are "Other"
    assert pivot.table[pivot.row_header].tolist() == ["Not classified", "Other (2)", "Total"]
    assert _cell(pivot, "Other (2)", "Trafford") == 2 and _cell(pivot, "Other (2)", "Total") == 2
    assert _cell(pivot, "Total", "Total") == 3


@pytest.mark.parametrize("measure", ["spend_gbp", "count_suppliers", "avg_line_gbp"])
@pytest.mark.parametrize(
    "period",
    [
        {"period": "fy", "fy": "2025-26"},
        {"period": "all"},
        {"period": "months", "month_from": "2025-04-01", "month_to": "2026-03-01"},
    ],
)
def test_whole_years_read_the_year_grain_cubes_and_give_what_the_monthly_cubes_give(monkeypatch, measure, period):
    import datetime as dt

    if "month_from" in period:
        period = {
            **period,
            "month_from": dt.date.fromisoformat(period["month_from"]),
            "month_to": dt.date.fromisoformat(period["month_to"]),
        }
    scope = _scope(addressable=True, **period)
    views = [
        cube.View("category", "council", measure),
        cube.View("council", "financial_year", measure),
        cube.View("contract", cube.NONE, measure, picks=(("category", WORKS),)),
    ]
    assert spend_queries._cube_table("category", "council", distinct=measure == "count_suppliers", scope=scope).endswith("_year")
    yearly = [queries.spend_pivot(scope, v).table for v in views] + [queries.cube_totals(scope)]
    monkeypatch.setattr(spend_queries, "_YEAR_CUBES", {})  # the monthly cubes only
    monthly = [queries.spend_pivot(scope, v).table for v in views] + [queries.cube_totals(scope)]
    for a, b in zip(yearly[:-1], monthly[:-1], strict=True):
        assert not a.empty and a.equals(b)
    assert yearly[-1] == monthly[-1]


def test_a_quarter_or_a_month_cut_never_reads_the_year_grain_cubes():
    quarter = _scope(period="quarter", fy="2025-26", quarter=1)
    assert not spend_queries._cube_table("category", scope=quarter).endswith("_year")
    assert not spend_queries._cube_table("month", "council", scope=_scope()).endswith("_year")
    assert not spend_queries._cube_table("quarter", distinct=True, scope=_scope()).endswith("_year")


@pytest.mark.parametrize(
    "view",
    [
        cube.View("category", "council", "count_suppliers"),
        cube.View("council", "financial_year", "count_suppliers"),
        cube.View("month", "contract", "count_suppliers"),
        cube.View("department", "local", "count_suppliers"),
        cube.View("council", cube.NONE, "count_suppliers"),
        cube.View("sme", "category", "count_suppliers", picks=(("council", "trafford"),)),
    ],
)
@pytest.mark.parametrize("addressable", [True, False])
@pytest.mark.parametrize("max_rows", [None, 1], ids=["all rows", "an Other row"])
def test_every_supplier_count_of_a_pivot_is_the_distinct_suppliers_behind_it(view, addressable, max_rows):
    """Cells, row and column totals and the grand total, each against a plain count of the distinct
    suppliers its criteria select; with one row kept, the rest go to an "Other" row counted apart."""
    scope = _scope(addressable=addressable)
    pivot = queries.spend_pivot(scope, view, max_rows=max_rows)
    assert len(pivot.table) > 1
    for row in range(len(pivot.table)):
        for column in pivot.columns:
            value = pivot.table.iloc[row][column]
            direct = queries.cube_totals(scope, pivot.cell_criteria(row, column))["count_suppliers"]
            assert (0 if pd_isna(value) else value) == direct, (pivot.table.iloc[row, 0], column)


def test_a_drill_down_export_has_every_line_behind_the_cell_and_names_the_cell_in_its_notes():
    import io

    from openpyxl import load_workbook

    from starviz import export

    scope = _scope(ANALYST)
    criteria = (cube.Criterion("council", "trafford"),)
    total = queries.drill_summary(scope, criteria)["count_shown"]
    page = queries.drill_lines(scope, criteria, "amount_gbp", True, 0, page_size=5)
    assert total > len(page) == 5  # more lines than a page holds
    notes = export.drill_notes("FY 2025-26", ["Category: Works"], ["Council: Trafford"], "Amount, descending", total)
    # batches of 2 lines: the writers join many batches into one table
    with export.xlsx_file(queries.drill_lines_batches(scope, criteria, "amount_gbp", True, rows=2), "lines", notes) as file:
        book = load_workbook(io.BytesIO(file.read()))
    data = list(book["Data"].iter_rows(values_only=True))
    assert data[0][:4] == ("Payment date", "Council", "Supplier", "Amount (£)")
    assert len(data) - 1 == total + 2  # the lines, a blank row and the Total (outside the filter range)
    assert data[-1][0] == "Total" and data[-1][3] == pytest.approx(queries.drill_summary(scope, criteria)["spend_gbp"])
    assert [r[3] for r in data[1:6]] == page["amount_gbp"].tolist()
    assert book["Data"]["D2"].number_format == export.GBP_FORMAT and book["Data"]["D2"].value == page["amount_gbp"].iloc[0]
    assert book["Data"]["A2"].number_format == export.DATE_FORMAT
    assert book["Data"].auto_filter.ref == f"A1:M{total + 1}"
    written = dict(r for r in book["Notes"].iter_rows(values_only=True))
    assert written["Clicked cell"] == "Council: Trafford" and written["Selection"] == "Category: Works"
    assert written["Filters"] == "FY 2025-26"
    with export.csv_file(queries.drill_lines_batches(scope, criteria, "amount_gbp", True, rows=2)) as file:
        csv = file.read().decode("utf-8-sig")
    assert len(csv.strip().splitlines()) == total + 1 and csv.startswith("payment_date,")


def test_a_partner_with_no_spend_in_the_period_is_said_once_not_as_months_short():
    # Rochdale and Tameside configured, nothing loaded: the page said "Months of spend loaded differ:
    # Rochdale 0, Tameside 0 of the 1 the others have", as if their figures were short of a month.
    coverage = pd.DataFrame(
        {
            "council": ["Rochdale", "Stockport", "Tameside", "Trafford"],
            "months_loaded": [0, 1, 0, 1],
            "months_in_period": [1, 1, 1, 1],
            "categorised_share": [None, 0.9865, None, 0.9547],
            "matched_share": [None, 1.0, None, 1.0],
        }
    )
    assert benchmark.coverage_warnings(coverage, 0.05) == [
        "No spend loaded for this period: Rochdale, Tameside. They have no figures here and are not ranked."
    ]
    coverage.loc[3, "months_loaded"] = 2
    assert benchmark.coverage_warnings(coverage, 0.05)[1].startswith("Months of spend loaded differ: Stockport 1 of the 2")


def test_a_category_netting_to_less_than_nothing_is_left_out_of_the_mix(fixture_build, tmp_path, monkeypatch):
    """A £5,000 refund in a category with no payment for Trafford gave that category a negative share
    and pushed the rest of Trafford's mix past 100%; credits are netted within their category and a
    category netting to nothing or less is left out, so every share is 0-100%."""
    import shutil

    import duckdb

    path = tmp_path / "star.duckdb"
    shutil.copyfile(fixture_build.db_path, path)
    con = duckdb.connect(str(path))
    con.execute(
        """
        insert into mart_spend_cube_summary by name
        select council_id, month, financial_year, quarter, 'Refunds only' as category, is_matched, is_redacted,
               is_categorised, is_addressable, exclusion_reason, is_on_contract, is_local, is_sme, is_vcse,
               -5000 as spend_gbp, 1 as count_lines
        from mart_spend_cube_summary where council_id = 'trafford' and is_addressable limit 1
        """
    )
    con.close()
    monkeypatch.setenv("STARVIZ_DB", str(path))
    mix = queries.category_mix_by_council(_scope(addressable=True))
    trafford = mix[mix["council"] == "Trafford"]
    assert "Refunds only" not in set(trafford["category"])
    assert trafford["spend_share"].between(0, 1).all()
    assert trafford["spend_share"].sum() == pytest.approx(1)
