""" "No data" is a value (issue 18, item 1), on the broken case as found: a database built from real
published spend only (Stockport's and Trafford's September 2014 files from ../shared/samples), with no
contracts register, no supplier attributes, no social value returns and no KPI extract.

Hand-derived expectations: neither council has a contract, so on/off contract is unknown for every
line; no supplier has a postcode, SME or VCSE flag, so local, SME and VCSE shares are unknown; before
the fix these read 0.0% ("joint best"), the three computed KPIs Red at 0.0% ("3 off target").
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from starviz import alt, benchmark, build, charts, config, export, fmt, narrative, nodata, queries
from starviz.nodata import NO_DATA
from starviz.scope import Filters, User
from tests.conftest import ALL, sample

DIRECTOR = User("director", "Director", "admin")
PAIR = ("stockport", "trafford")
SEPTEMBER = dt.date(2014, 9, 1)
SHARES = ("on_contract_share", "local_share", "sme_share", "vcse_share")


@pytest.fixture(scope="module")
def spend_only(tmp_path_factory):
    raw = tmp_path_factory.mktemp("spend-only-raw")
    for council, folder, name in (
        ("stockport", "stockport-2014", "Stockport September 2014.xls"),
        ("trafford", "trafford-2014", "Trafford September 2014.csv"),
    ):
        target = raw / council / "spend"
        target.mkdir(parents=True)
        (target / name).symlink_to(sample(folder, name))
    return build.build(raw_dir=raw, db_path=tmp_path_factory.mktemp("spend-only-db") / "star.duckdb")


@pytest.fixture(autouse=True)
def served(spend_only, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(spend_only.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def _scope(councils=PAIR):
    return queries.Scope(
        Filters(councils=councils, period="fy", fy="2014-15", names={"stockport": "Stockport", "trafford": "Trafford"}), DIRECTOR
    )


def _ranked():
    figures = queries.benchmark_by_council(_scope())
    return benchmark.rank(figures, queries.benchmark_definitions(), 10), figures


# --- one definition, from what the build records -------------------------------------------------


def test_the_build_records_which_measures_each_council_has_no_data_for():
    coverage = queries.measure_coverage(_scope())
    missing = coverage[~coverage["has_data"]]
    for council in ("Stockport", "Trafford"):
        assert set(missing.loc[missing["council"] == council, "measure"]) == {
            "contracts", "on_contract", "local", "sme", "vcse", "social_value", "kpis", "maturity"
        }  # fmt: skip
    assert coverage.loc[coverage["measure"] == "on_contract", "needs"].iloc[0] == "a contracts register"


# --- benchmarking: not 0.0%, not ranked, never "joint best" -----------------------------------------


def test_shares_without_data_are_null_not_zero():
    _, figures = _ranked()
    assert figures[list(SHARES)].isna().all().all()
    assert (figures["spend_gbp"] > 0).all()  # the spend itself is there


def test_councils_with_no_data_are_not_ranked_and_never_joint_best():
    ranked, _ = _ranked()
    shares = ranked[ranked["measure"].isin(SHARES)]
    assert len(shares) == 8  # four measures, two councils, each saying so
    assert shares["rank"].isna().all() and (shares["value_text"] == NO_DATA).all()
    assert set(shares["gap_text"]) == {"no data: not ranked"}
    assert not ranked["gap_text"].str.contains("joint").any()
    spend = ranked[ranked["measure"] == "spend_per_head_gbp"]
    assert spend["rank"].notna().all()  # a measure with data is still ranked


def test_the_ranked_chart_draws_no_bar_for_no_data_and_says_who():
    ranked, _ = _ranked()
    fig = charts.benchmark_ranked(ranked, {"Stockport": "#0072B2", "Trafford": "#D55E00"})
    bars = [t for t in fig.data if t.type == "bar"]
    drawn = {len(t.y) for t in bars}
    assert len(bars) == 10 and drawn == {0, 2}  # share panels empty, the others both councils
    notes = [a.text for a in fig.layout.annotations if str(a.text).startswith(NO_DATA)]
    assert notes.count("no data: Stockport, Trafford") == 4
    text = alt.describe(fig, "Each measure ranked")
    assert "Not ranked, no data: On-contract share for Stockport, Trafford;" in text
    assert "0.0%" not in text


def test_the_page_notes_say_who_has_no_data_and_what_the_measure_needs():
    ranked, _ = _ranked()
    notes = benchmark.no_data_notes(ranked, queries.measure_coverage(_scope()))
    assert notes[0] == (
        "On-contract share: no data for Stockport and Trafford (not drawn, not ranked; it needs a contracts register)."
    )
    assert len(notes) == 4


def test_exports_say_no_data():
    from starviz import nodata

    ranked, figures = _ranked()
    table = nodata.fill(benchmark.ranking_table(ranked), benchmark.NUMBER_COLUMNS)
    csv = pd.read_csv(io.BytesIO(export.to_csv(table)), dtype=str, encoding="utf-8-sig")
    on_contract = csv[csv["measure"] == "On-contract share"]
    assert set(on_contract["value"]) == {NO_DATA} and set(on_contract["rank"]) == {NO_DATA}
    assert set(on_contract["value_text"]) == {NO_DATA}
    shares = nodata.fill(figures, SHARES)
    exported = pd.read_csv(io.BytesIO(export.to_csv(shares)), dtype=str, encoding="utf-8-sig")
    assert set(exported["on_contract_share"]) == {NO_DATA}


# --- KPIs: no RAG, not counted on or off target ----------------------------------------------------


def test_computed_kpis_without_data_get_no_rag_and_are_not_off_target():
    card = queries.kpi_scorecard(_scope(), SEPTEMBER)
    computed = card[card["source"] == "data"].set_index("kpi_code")
    assert set(computed.index) == {"D-ONC", "D-LOC", "D-SME", "D-SVC"}
    assert computed["value"].isna().all() and set(computed["rag"]) == {"no data"}
    counts = narrative.rag_counts(card)
    assert (counts["green"], counts["amber"], counts["red"], counts["none"], counts["no data"]) == (0, 0, 0, 0, 4)
    table = narrative.scorecard_table(card, "perspective")
    assert set(table["Value"]) == {NO_DATA} and set(table["Status"]) == {NO_DATA}
    assert set(table["On last month"]) == set(table["Year on year"]) == {NO_DATA}  # a change of no data is no data


def test_the_monthly_summary_counts_nothing_off_target_and_says_no_data():
    card = queries.kpi_scorecard(_scope(), SEPTEMBER)
    text = narrative.monthly_summary(card, SEPTEMBER, "Stockport, Trafford")
    assert "off target" not in text.split("No data for")[0]
    assert "No data for Spend on contract (from the spend data), Spend with Greater Manchester suppliers" in text
    assert "they are counted neither on nor off target." in text
    assert "Nothing to compare with August 2014: no KPI has data." in text  # not "No KPI moved"


def test_the_kpi_export_writes_no_data_in_the_value_cell():
    from openpyxl import load_workbook

    card = queries.kpi_scorecard(_scope(), SEPTEMBER)
    table, formats = narrative.scorecard_export(card, "perspective")
    sheet = load_workbook(io.BytesIO(export.to_xlsx(table, "scorecard", {}, formats)))["Data"]
    header = [c.value for c in sheet[1]]
    values = {r[header.index("Code")].value: r[header.index("Value")].value for r in sheet.iter_rows(min_row=2)}
    assert values == {"D-ONC": NO_DATA, "D-LOC": NO_DATA, "D-SME": NO_DATA, "D-SVC": NO_DATA}


# --- overview and social value: the same words ----------------------------------------------------


def test_overview_shares_are_no_data_in_the_same_words():
    measures = queries.overview_measures(_scope())
    assert measures["addressable_gbp"] > 0
    assert [measures[s] for s in SHARES] == [None] * 4
    assert {fmt.pct(measures[s]) for s in SHARES} == {NO_DATA}
    assert fmt.gbp(measures["savings_gbp"]) == NO_DATA  # no KPI extract: no savings figure, not £0


def test_social_value_with_no_returns_is_no_data_not_zero():
    summary = queries.social_value_summary(_scope())
    assert summary["has_data"] is False
    assert summary["delivered_in_period_gbp"] is None and summary["count_at_risk"] is None
    assert fmt.gbp(summary["shortfall_at_risk_gbp"]) == NO_DATA


def test_every_chart_builds_on_a_database_of_real_spend_only():
    # gallery.every_chart (the Board's charts and every page's) stopped with IndexError at the
    # maturity radar when no maturity assessment was loaded; a chart with no data is left out.
    from starviz import gallery

    names = [c.name for c in gallery.every_chart(_scope())]
    assert "maturity-radar" not in names
    assert {"overview-spend", "spend-treemap", "benchmark-ranked"} <= set(names)
    assert any(n.startswith("board-") for n in names)


def test_lists_that_need_contracts_say_who_they_leave_out():
    # Leakage and off-contract lists hold only councils whose spend can be judged on or off contract;
    # a council with no register is left out, and the page says so rather than look clean.
    from starviz import nodata

    text = nodata.not_listed(queries.measure_coverage(_scope()), "on_contract", "whether their spend is on contract")
    assert text == (
        "Not listed: Stockport and Trafford (no data: no contracts register loaded, so whether their spend "
        "is on contract is not known)."
    )


def test_the_split_order_report_says_who_it_leaves_out(monkeypatch, tmp_path):
    # Split orders are off-contract payments: with no register loaded none can be found, and the report
    # read "No possible split orders in the month." as if Stockport and Trafford had been checked.
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    at = run_app("director", page="pages/pipeline.py", fy="2014-15", tab="Exception reports", report="split", month="2014-09")
    assert not at.exception, at.exception
    note = next(c.value for c in at.caption if c.value.startswith("Not listed:"))
    assert "Stockport" in note and "Trafford" in note and "(no data: no contracts register loaded" in note


def test_the_kpi_page_draws_no_trend_of_targets_alone(monkeypatch, tmp_path):
    # Every KPI of the real spend-only build is no data: the trend chart drew a target line on an axis
    # of 64.5-66% with nothing else, which reads as a chart of data.
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    at = run_app("director", page="pages/kpis.py", fy="2014-15")
    assert not at.exception, at.exception
    assert not at.get("plotly_chart")
    assert any(i.value.startswith("No data for Compliance: the data behind its KPIs is not loaded") for i in at.info)


# --- counts and totals: 0 is not "no data" (no contracts register; Rochdale and Tameside with no spend) --

EVERY = ALL  # the configured partners: Rochdale and Tameside with nothing loaded


def _everyone():
    names = {c: cc.short_name for c, cc in config.load_councils().items()}
    return queries.Scope(Filters(councils=EVERY, period="fy", fy="2014-15", all_councils=True, names=names), DIRECTOR)


def test_the_build_records_who_has_spend_and_contracts_loaded():
    coverage = queries.measure_coverage(_everyone())
    spend = nodata.covered(coverage, "spend")
    assert set(spend.ids) == {"stockport", "trafford"}
    assert set(spend.missing) == {"Rochdale", "Tameside"}
    contracts = nodata.covered(coverage, "contracts")
    assert contracts.none and set(contracts.missing) == {"Rochdale", "Stockport", "Tameside", "Trafford"}
    assert contracts.needs == "a contracts register"


def test_contracts_ending_with_no_register_is_no_data_not_0():
    # Before: "Contracts ending in 6 months 0" with no contracts register loaded anywhere.
    expiring = queries.expiring_contracts(_everyone(), months=6)
    assert expiring["count_contracts"] is None and expiring["value_gbp"] is None
    assert fmt.in_unit(expiring["count_contracts"], "count") == NO_DATA
    assert expiring["note"] == (
        "Contracts ending in 6 months: no data (no contracts register loaded for "
        + nodata.names_text(nodata.covered(queries.measure_coverage(_everyone()), "contracts").missing)
        + ")."
    )


def test_a_figure_some_councils_have_data_for_says_whom_it_covers():
    coverage = pd.DataFrame(
        {
            "council_id": ["rochdale", "stockport", "trafford"],
            "council": ["Rochdale", "Stockport", "Trafford"],
            "measure": ["contracts"] * 3,
            "has_data": [False, True, True],
            "needs": ["a contracts register"] * 3,
        }
    )
    covered = nodata.covered(coverage, "contracts")
    assert covered.ids == ["stockport", "trafford"]
    assert covered.note("Contracts ending in 6 months") == (
        "Contracts ending in 6 months: Stockport and Trafford only (no data for Rochdale: no contracts register loaded)."
    )
    everyone = coverage.assign(has_data=True)
    assert nodata.covered(everyone, "contracts").note("Contracts") == ""


def test_the_pipeline_cards_and_timeline_have_no_zeros_and_no_empty_axes():
    # Before: "Due in 0–3 months 0" on every card and a timeline of empty −1..4 axes, "All 0 contracts".
    summary = queries.pipeline_summary(_everyone())
    assert summary["count_contracts"].isna().all() and summary["value_gbp"].isna().all()
    fig = charts.contract_timeline(queries.pipeline_contracts(_everyone()), dt.date(2026, 12, 6), queries.bucket_labels(), 20)
    assert not fig.data and fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert [a.text for a in fig.layout.annotations] == ["Nothing to show: no contracts in scope"]
    assert fig.layout.meta["shown"] == ""  # not "All 0 contracts"


def test_common_suppliers_say_no_data_for_a_council_with_nothing_loaded():
    # Before: Rochdale's spend column £0 (no spend loaded), every contract column "none" and
    # "Councils with a contract" 0, with no contracts register loaded for anyone.
    df = queries.common_suppliers(_everyone())
    assert len(df)
    assert df["rochdale_spend_gbp"].isna().all() and df["tameside_spend_gbp"].isna().all()
    assert (df["stockport_spend_gbp"] > 0).any()
    assert set(df["stockport_contract"]) == {NO_DATA} and set(df["rochdale_contract"]) == {NO_DATA}
    assert df["count_councils_with_contract"].isna().all()
    categories = queries.common_categories(_everyone())
    assert categories["rochdale_spend_gbp"].isna().all() and categories["rochdale_suppliers"].isna().all()
    assert (categories["trafford_suppliers"] > 0).all()


def _plain(markdown: str) -> str:
    """A caption's words without Markdown's escapes."""
    return markdown.replace("\\", "")


def test_the_pages_show_no_data_and_say_who_is_missing(monkeypatch, tmp_path):
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    at = run_app("director", page="pages/overview.py", fy="2014-15")
    assert not at.exception, at.exception
    card = next(m for m in at.metric if m.label == "Contracts ending in 6 months")
    assert card.value == NO_DATA
    assert any(
        _plain(c.value).startswith("Contracts ending in 6 months: no data (no contracts register loaded for") for c in at.caption
    )

    at = run_app("director", page="pages/pipeline.py", fy="2014-15")
    assert not at.exception, at.exception
    assert {m.value for m in at.metric if m.label.startswith("Due in")} == {NO_DATA}
    assert any(_plain(c.value).startswith("Contracts: no data (no contracts register loaded for") for c in at.caption)
    assert not any("All 0 contracts" in c.value for c in at.caption)

    at = run_app("director", page="pages/collaboration.py", fy="2014-15")
    assert not at.exception, at.exception
    captions = [_plain(c.value) for c in at.caption]
    assert (
        "Spend by council: Stockport and Trafford only (no data for Rochdale and Tameside: no spend loaded for the period)."
        in captions
    )
    assert any(c.startswith("Contracts held: no data (no contracts register loaded for") for c in captions)


# --- like with like: line measures over the lines both councils publish (issue 18, h18a item 2) -----


def _trafford_lines() -> list[float]:
    import csv

    with open(sample("trafford-2014", "Trafford September 2014.csv"), encoding="utf-8-sig", newline="") as f:
        return [float(r["Amount"].replace(",", "")) for r in csv.DictReader(f)]


def _all_spend():
    return queries.Scope(
        Filters(
            councils=PAIR,
            period="fy",
            fy="2014-15",
            addressable_only=False,
            names={"stockport": "Stockport", "trafford": "Trafford"},
        ),
        DIRECTOR,
    )


def test_line_measures_count_lines_of_500_and_over_for_both_real_councils():
    # Stockport publishes only lines over £500 (its smallest is £500.85), Trafford every line (£0.01):
    # before, Stockport's average line (£11k) was "best" against Trafford's pennies.
    figures = queries.benchmark_by_council(_all_spend()).set_index("council")
    publication = queries.db.query("select council_id, smallest_line_gbp, publishes_from_gbp from dim_spend_publication")
    smallest = dict(zip(publication["council_id"], publication["smallest_line_gbp"], strict=True))
    assert float(smallest["stockport"]) == 500.85 and float(smallest["trafford"]) == 0.01
    lines = _trafford_lines()
    published = [a for a in lines if a >= 500]  # the lines Stockport would have published
    assert len(published) < len(lines)
    assert figures.loc["Trafford", "avg_line_gbp"] == pytest.approx(sum(published) / len(published))
    assert figures.loc["Trafford", "small_line_share"] == pytest.approx(sum(a < 5000 for a in published) / len(published))
    assert figures.loc["Trafford", "count_lines"] == len(lines)  # the lines as published stay in the figures
    assert figures.loc["Stockport", "avg_line_gbp"] == pytest.approx(
        figures.loc["Stockport", "spend_gbp"] / figures.loc["Stockport", "count_lines"]
    )  # every Stockport line is £500 and over
    assert benchmark.line_floor_note(figures.reset_index()) == (
        "Line measures and supplier concentration count lines of £500 and over for every council: Stockport publishes only those."
    )
    coverage = queries.coverage_by_council(_scope()).set_index("council")
    assert coverage["publishes"].to_dict() == {"Stockport": "lines of £500 and over", "Trafford": "every line"}


def test_the_benchmarking_page_says_which_lines_it_compares(monkeypatch, tmp_path):
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    at = run_app("director", page="pages/benchmarking.py", fy="2014-15")
    assert not at.exception, at.exception
    assert (
        "Line measures and supplier concentration count lines of £500 and over for every council: Stockport publishes only those."
        in [_plain(c.value) for c in at.caption]
    )


def test_pipeline_tabs_with_no_register_show_no_data_not_a_clean_bill(monkeypatch, tmp_path):
    # Before: "Contracts 0", "Value £0", "Every contract has a category manager.", "Every notice due so
    # far was published on time." and an empty grid of quarters, with no contracts register loaded.
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    no_register = "Nothing to show: no data (no contracts register loaded)."
    at = run_app("director", page="pages/pipeline.py", fy="2014-15", tab="Start-by dates")
    assert not at.exception, at.exception
    assert not [m for m in at.metric if m.label in ("Contracts", "Value")]
    assert [i.value for i in at.info] == [no_register]
    at = run_app("director", page="pages/pipeline.py", fy="2014-15", tab="Work planning")
    assert [i.value for i in at.info] == [no_register]
    at = run_app("director", page="pages/pipeline.py", fy="2014-15", tab="Procurement Act notices")
    assert [i.value for i in at.info] == [no_register, no_register]
    heatmap = charts.workload_heatmap(
        queries.workload_by_manager_quarter(_everyone()), queries.workload_quarter_labels(), "value_gbp", "W"
    )
    assert [a.text for a in heatmap.layout.annotations] == ["Nothing to show: no re-procurement to start"]
    assert export.alt_text(heatmap, "W").endswith("Nothing to show: no re-procurement to start.")  # what the chart says


def test_the_procurement_act_spend_of_a_council_with_no_spend_is_no_data():
    # Before: Rochdale and Tameside £0, "not over the threshold", with no spend loaded.
    df = queries.annual_spend_by_council(_everyone()).set_index("council_id")
    assert df.loc[["rochdale", "tameside"], "annual_spend_gbp"].isna().all()
    assert df.loc[["rochdale", "tameside"], "is_over_threshold"].isna().all()
    assert df.loc["stockport", "annual_spend_gbp"] > 0 and not df.loc["stockport", "is_over_threshold"]


def test_collaboration_lists_that_need_contracts_show_no_0_and_export_no_data(monkeypatch, tmp_path):
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    for tab in ("Expiry alignment", "Partner-contract leakage"):
        at = run_app("director", page="pages/collaboration.py", fy="2014-15", tab=tab)
        assert not at.exception, at.exception
        assert not at.metric, [(m.label, m.value) for m in at.metric]  # not "0 opportunities, £0"
        assert any(i.value.startswith("Nothing to") and "no data (no contracts register loaded)" in i.value for i in at.info)
    df = queries.common_suppliers(_everyone())
    written = nodata.fill_council_columns(df)
    text = export.to_csv(written).decode("utf-8-sig")
    assert "no data" in text.splitlines()[1]
    assert set(written["rochdale_spend_gbp"]) == {NO_DATA} and set(written["count_councils_with_contract"]) == {NO_DATA}


def test_the_coverage_line_says_a_council_with_no_spend_has_no_data():
    coverage = queries.coverage_by_council(_everyone())
    line = benchmark.coverage_line(coverage)
    assert "Rochdale: no data (no spend loaded for the period)" in line
    assert "no data categorised" not in line
    assert "Stockport: 1 of 1 months" in line


def test_a_council_with_spend_in_other_years_only_is_no_data_for_the_period():
    # Both councils' spend is September 2014: in 2015-16 neither has spend, which is no data (the
    # collaboration page: "Nothing to compare: no data (...)"), not £0 each.
    later = queries.Scope(Filters(councils=PAIR, period="fy", fy="2015-16", names={"stockport": "Stockport"}), DIRECTOR)
    covered = queries.spend_covered_in_period(later)
    assert covered.none and covered.note("Spend") == "Spend: no data (no spend loaded for the period for Stockport and Trafford)."
    assert queries.spend_covered_in_period(_scope()).ids == ["stockport", "trafford"]
    assert queries.common_suppliers(later).empty


def test_a_categorys_suppliers_say_no_data_for_councils_with_nothing_loaded():
    # the category detail that collaboration's links open: Rochdale's spend was £0 and every contract blank
    df = queries.category_suppliers(_everyone(), "Social Community Care Supplies & Services")
    assert len(df) and df["rochdale_spend_gbp"].isna().all()
    assert set(df["stockport_contract"]) == {NO_DATA}


def test_the_data_quality_page_names_what_each_council_publishes(monkeypatch, tmp_path):
    # Before: the dataset was "Spend over £500" for every council, Trafford's pennies included.
    from tests.conftest import run_app

    assert queries.spend_publication(_scope())[["council", "publishes"]].values.tolist() == [
        ["Stockport", "lines of £500 and over"],
        ["Trafford", "every line"],
    ]
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    at = run_app("director", page="pages/data_quality.py", fy="2014-15")
    assert not at.exception, at.exception
    assert "Published: Stockport lines of £500 and over · Trafford every line." in [_plain(c.value) for c in at.caption]
    assert not any("over £500" in str(c.value) and "Spend" in str(c.value) for c in at.caption if "Published" not in c.value)


def test_the_board_packs_collaboration_sheet_says_no_data():
    import openpyxl

    from starviz import board

    book = openpyxl.load_workbook(io.BytesIO(board.pack_xlsx(_everyone())))
    sheet = book["Collaboration"]
    header = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if h and "Rochdale" in str(h) and "contract" not in str(h).lower())
    assert {r[column].value for r in sheet.iter_rows(min_row=2, max_row=5)} == {NO_DATA}


def test_counts_agree_with_their_noun():
    """'1 line', never '1 lines' or '1 line(s)', wherever a count is written in words."""
    assert fmt.count(1, "line") == "1 line"
    assert fmt.count(0, "line") == "0 lines"
    assert fmt.count(12345, "loaded file") == "12,345 loaded files"
    assert fmt.count(2, "property", "properties") == "2 properties"


def test_a_change_that_rounds_to_nothing_is_never_negative_zero():
    """The social value card showed '-0.0 pp' for 21.00% after 21.04%: a fall that is no fall (and
    money or a share that rounds to nothing read '-£0' or '-0.0%')."""
    assert fmt.change_pp(0.2100, 0.2104) == "+0.0 pp"
    assert fmt.change_pp(0.2000, 0.2104) == "-1.0 pp"
    assert fmt.change_gbp(99_999.9, 100_000.0) == "£0 (+0.0%)"
    assert fmt.gbp(-0.004, pence=True) == "£0.00" and fmt.gbp(-0.4) == "£0" and fmt.gbp(-1_500) == "-£1,500"
    assert fmt.pct(-0.00001) == "0.0%" and fmt.pct(-0.01) == "-1.0%"
    assert fmt.change_pp(None, 0.2) is None
