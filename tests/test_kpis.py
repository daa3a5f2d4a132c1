"""KPIs and the balanced scorecard: RAG from configuration, councils added up, computed KPIs,
changes on the month, quarter and year, the monthly summary, and the page as each role.

Worked from the fixture rows (tests/fixtures/extracts.py), as at May 2025:
- SAV01 (councils): Trafford 50,000 / 55,000 and Stockport 40,000 / 70,000 in April / May against
  60,000 and 50,000: together 90,000 (red) then 125,000 (green) against 110,000.
- SAV01 (STAR): 100,000 (red) then 130,000 (green) against 120,000.
- COM02 (Trafford, lower is better): 2 then 5 against 3: green, then red; a move of the whole target.
- CUS01: Trafford 83 then 88, Stockport 91 then 86, against 85: averaged 87 and 87.
- D-ONC (computed): April 3,300 on contract of the 5,250.50 addressable spent by the councils with
  contracts loaded (Trafford 3,300 of 4,050, Stockport 0 of 1,200.50; Rochdale's 1,000 and Tameside's
  1,880 are "no data": no contracts of their own loaded); May Stockport's 3,000 of 3,000. Like with
  like, the change is Stockport's alone: 0.0% to 100.0%, +100.0 pp (not 62.9% to 100%, "rose 37.1 pp",
  which was Trafford dropping out of May).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from starviz import build, config, narrative, queries
from starviz.scope import Filters, User
from tests.conftest import ALL, run_app
from tests.fixtures.extracts import write_raw

DIRECTOR = User("director", "Director", "admin")
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))
MAY = dt.date(2025, 5, 1)


@pytest.fixture(autouse=True)
def fixture_db(fixture_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def _scope(user=DIRECTOR, councils=ALL):
    return queries.Scope(
        Filters(
            councils=councils,
            period="fy",
            fy="2025-26",
            all_councils=councils == ALL,
            names={cid: cc.short_name for cid, cc in config.load_councils().items()},
        ),
        user,
    )


def _settings(monkeypatch, **changes):
    changed = config.settings().model_copy(update=changes)

    def settings():
        return changed

    settings.cache_clear = lambda: None
    monkeypatch.setattr(config, "settings", settings)


def _card(scope) -> pd.DataFrame:
    return queries.kpi_scorecard(scope, queries.kpi_as_at(scope)).set_index(["kpi_code", "is_shared_service"])


# --- RAG ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "higher", "rag"),
    [
        (120_000, 120_000, True, "green"),
        (108_000, 120_000, True, "amber"),  # 10% short: the edge of amber
        (107_999, 120_000, True, "red"),
        (3, 3, False, "green"),
        (3.3, 3, False, "amber"),
        (3.31, 3, False, "red"),
        (5, None, True, "none"),
    ],
)
def test_rag_is_green_on_target_amber_within_the_tolerance_red_beyond(db, value, target, higher, rag):
    assert db.execute("select kpi_rag(?::double, ?::double, ?, 0.1)", [value, target, higher]).fetchone()[0] == rag


def test_rag_tolerance_comes_from_configuration(db, tmp_path, monkeypatch):
    star_april = "select rag from fct_kpis where council_id = 'star' and kpi_code = 'SAV01' and month = '2025-04-01'"
    assert db.execute(star_april).fetchone()[0] == "red"  # 100,000 is 16.7% short of 120,000: beyond 10%
    _settings(monkeypatch, kpi_rag_amber_tolerance=0.2)
    build.build(raw_dir=write_raw(tmp_path / "raw"), db_path=tmp_path / "wide.duckdb")
    con = duckdb.connect(str(tmp_path / "wide.duckdb"), read_only=True)
    assert con.execute(star_april).fetchone()[0] == "amber"
    assert con.execute("select value from cfg_thresholds where name = 'kpi_rag_amber_tolerance'").fetchone()[0] == 0.2
    con.close()


# --- the scorecard ------------------------------------------------------------------------------


def test_as_at_is_the_latest_month_with_kpis_in_the_period():
    assert queries.kpi_as_at(_scope()) == MAY


def test_councils_are_added_up_and_star_kept_apart():
    card = _card(_scope())
    councils, star = card.loc[("SAV01", False)], card.loc[("SAV01", True)]
    assert (councils["value"], councils["target"], councils["rag"]) == (125_000, 110_000, "green")
    assert (councils["previous_value"], councils["previous_rag"], councils["count_reporting"]) == (90_000, "red", 2)
    assert councils["reported_by"] == "Partner councils"
    assert (star["value"], star["previous_rag"], star["reported_by"]) == (130_000, "red", "STAR")
    assert card.loc[("CUS01", False), "value"] == pytest.approx(87.0)  # percentages are averaged


def test_kpis_computed_from_the_data_are_recomputed_from_their_totals():
    card = _card(_scope())
    onc = card.loc[("D-ONC", False)]
    assert onc["value"] == pytest.approx(100.0)  # May: Stockport's 3,000 on the STAR care contract
    # April's 62.9% is Stockport and Trafford together, May's 100% Stockport alone: the change is over
    # Stockport, the one council in both months (0 of 1,200.50 in April: red), Trafford left out
    assert (onc["previous_value"], onc["previous_like_value"]) == (0.0, 100.0)
    assert list(onc["previous_common"]) == ["Stockport"] and list(onc["previous_only_then"]) == ["Trafford"]
    assert (onc["target"], onc["previous_rag"], onc["rag"]) == (65.0, "red", "green")
    row = onc.copy()
    row["kpi_name"], row["is_shared_service"] = "Spend on contract", False
    assert narrative.change_text(row, "previous") == "+100.0 pp over Stockport"
    assert narrative.change_note(row, "previous") == (
        "Change on last month over Stockport: Trafford reported in April 2025 only."
    )
    assert onc["objective"] == "Professional" and onc["source"] == "data"
    # SC-001 (£24,000 committed on £120,000) is Stockport's only award in the twelve months to May
    svc = card.loc[("D-SVC", False)]
    assert (svc["value"], svc["target"]) == (pytest.approx(20.0), pytest.approx(20.0))


def test_social_value_kpi_target_follows_the_configured_target(tmp_path, monkeypatch):
    _settings(monkeypatch, social_value_target_by_year={"2025-26": 0.3})
    build.build(raw_dir=write_raw(tmp_path / "raw"), db_path=tmp_path / "t.duckdb")
    con = duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True)
    assert con.execute("select distinct target from mart_kpis_computed_by_month where kpi_code = 'D-SVC'").fetchall() == [(30.0,)]
    con.close()


def test_trafford_officer_sees_only_trafford_and_star_kpis():
    card = _card(_scope(TRAFFORD, ("stockport", "trafford")))
    assert set(card["reported_by"]) == {"Trafford", "STAR"}
    assert card.loc[("SAV01", False), "value"] == 55_000
    assert card.loc[("CUS01", False), "value"] == 88


def test_changes_on_the_quarter_and_the_year_use_the_same_month_before():
    cus = _card(_scope(TRAFFORD, ("trafford",))).loc[("CUS01", False)]
    assert (cus["previous_value"], cus["quarter_ago_value"], cus["year_ago_value"]) == (83, 84, 80)
    table = narrative.scorecard_table(_card(_scope(TRAFFORD, ("trafford",))).reset_index(), "perspective")
    row = table.set_index("KPI").loc["Customer satisfaction"]
    assert (row["On last month"], row["Quarter on quarter"], row["Year on year"]) == ("+5.0 pp", "+4.0 pp", "+8.0 pp")
    assert (row["Status"], row["Group"]) == ("Green", "Customer")
    # both councils in May, Trafford alone in February and May 2024: a KPI from the extracts (averaged)
    # compares Trafford's 88 with its 84 and 80, not the councils' average of 87
    cus = _card(_scope()).loc[("CUS01", False)]
    assert (cus["value"], cus["quarter_ago_like_value"], cus["year_ago_like_value"]) == (87.0, 88.0, 88.0)
    table = narrative.scorecard_table(_card(_scope()).reset_index(), "perspective").set_index("Code")
    assert (table.loc["CUS01", "Quarter on quarter"], table.loc["CUS01", "Year on year"]) == (
        "+4.0 pp over Trafford",
        "+8.0 pp over Trafford",
    )
    assert table.loc["CUS01", "Changes compare"] == (
        "Change on the quarter over Trafford: Stockport reported in May 2025 only. "
        "Change on the year over Trafford: Stockport reported in May 2025 only."
    )


def test_kpis_group_by_responsible_procurement_objective_from_the_mapping():
    card = _card(_scope())
    assert card.loc[("CUS01", False), "objective"] == "Partnership"
    assert card.loc[("D-LOC", False), "objective"] == "Prosperity"
    groups = queries.kpi_groups("objective")
    assert list(groups["name"]) == ["Protect", "Pioneer", "Prosperity", "Professional", "Partnership", "People"]
    with_kpis, empty = narrative.groups_with_kpis(groups, card.reset_index(), "objective")
    assert empty == ["Protect", "Pioneer", "People"]  # the fixture has no training KPIs
    assert with_kpis == ["Prosperity", "Professional", "Partnership"]


def test_trend_of_one_group_has_every_month_with_its_rag():
    df = queries.kpi_trends(_scope(TRAFFORD, ("trafford",)), MAY, "perspective", "Compliance")
    waivers = df[df["kpi_code"] == "COM02"]
    assert list(waivers["value"]) == [2, 2, 2, 5]
    assert list(waivers["rag"]) == ["green", "green", "green", "red"]
    with pytest.raises(ValueError, match="unknown grouping"):
        queries.kpi_trends(_scope(), MAY, "kpi_code", "x")


# --- the monthly summary ------------------------------------------------------------------------


def test_summary_names_the_largest_movers_and_what_turned_red_or_green():
    text = narrative.monthly_summary(queries.kpi_scorecard(_scope(), MAY), MAY, "All councils", n_movers=3)
    lines = text.splitlines()
    assert lines[0] == "KPI summary for May 2025 (All councils and STAR)"
    movers = lines[lines.index("Largest movers since April 2025:") + 1 :][:3]
    # on-contract moved over Stockport by 100 pp of 65 (Trafford reported in April only), waivers by
    # their whole target (3 of 3), savings by 35,000 of 110,000
    assert movers[0] == (
        "- Spend on contract (from the spend data) rose 100.0 pp over Stockport (Trafford reported in April 2025 "
        "only), from 0.0% to 100.0% (target 65.0%): better."
    )
    assert movers[1].startswith("- Waivers approved rose 150%, from 2 to 5 (target no more than 3): worse.")
    assert movers[2].startswith("- Cashable savings achieved rose 39%, from £90k to £125k (target £110k)")
    assert "Turned red: Waivers approved, 5 against a target of no more than 3." in lines
    turned_green = next(line for line in lines if line.startswith("Turned green:"))
    assert turned_green == (
        "Turned green: Cashable savings achieved, £125k against a target of £110k; Savings (STAR), "
        "£130k against a target of £120k; Spend on contract (from the spend data), "
        "100.0% against a target of 65.0% (compared over Stockport: Trafford reported in April 2025 only)."
    )


def test_movers_are_measured_against_the_target():
    frame = pd.DataFrame(
        {
            "kpi_code": ["A", "B", "C"],
            "kpi_name": ["Big count", "Small count", "Still"],
            "is_shared_service": False,
            "reported_by": "Partner councils",
            "unit": "count",
            "higher_is_better": True,
            "value": [10_500, 6, 4],
            "previous_value": [10_000, 3, 4],
            "previous_like_value": [10_500, 6, 4],
            "previous_like_target": [1_000, 3, 4],
            "target": [1_000, 3, 4],
            "rag": "green",
            "previous_rag": "green",
            "month": pd.Timestamp("2025-05-01"),
        }
    )
    # +500 on a target of 1,000 (0.5) is less than +3 on a target of 3 (1.0); no change is no mover
    assert list(narrative.movers(frame, 3)["kpi_name"]) == ["Small count", "Big count"]


def test_summary_says_which_kpis_are_not_yet_reported_for_the_month():
    card = queries.kpi_scorecard(_scope(), MAY)
    text = narrative.monthly_summary(card, dt.date(2025, 6, 1), "All councils")
    assert "Not yet reported for June 2025" in text and "Waivers approved (latest May 2025)" in text


# --- the page, as each role ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["director", "category.manager", "board", "trafford.officer"])
def test_each_role_opens_the_kpi_page(app_env, username):
    at = run_app(username, page="pages/kpis.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "KPIs and balanced scorecard"
    # Trafford awarded no contract with social value in the 12 months to May: D-SVC has no data, a fifth card
    no_data = username == "trafford.officer"
    assert [m.label for m in at.metric][4:] == (["No data"] if no_data else [])
    assert at.metric[3].label == "No target" and len(at.metric) == 4 + no_data
    assert at.code[0].value.startswith("KPI summary for May 2025")
    assert len(at.get("plotly_chart")) == 1


def test_trafford_officer_scorecard_and_summary_are_trafford_and_star_only(app_env):
    at = run_app("trafford.officer", page="pages/kpis.py", councils="stockport")
    assert not at.exception
    assert set(at.dataframe[0].value["Reported by"]) == {"Trafford", "STAR"}
    assert "Stockport" not in at.code[0].value
    assert "Customer satisfaction, 88.0%" in at.code[0].value  # turned green for Trafford alone


def test_scorecard_regroups_by_objective_and_trends_follow(app_env):
    at = run_app("board", page="pages/kpis.py")
    at.segmented_control(key="kpi_group_by").set_value("objective").run()
    assert not at.exception
    assert set(at.dataframe[0].value["Group"]) == {"Prosperity", "Professional", "Partnership"}
    assert at.segmented_control(key="kpi_trend_objective").value == "Prosperity"
    assert any("Protect, Pioneer, People" in c.value for c in at.caption)


def test_the_scorecard_exports_values_and_changes_as_numbers_in_percent_and_pound_formats():
    import io

    from openpyxl import load_workbook

    from starviz import export

    card = _card(_scope(TRAFFORD, ("trafford",))).reset_index()
    table, formats = narrative.scorecard_export(card, "perspective")
    book = load_workbook(io.BytesIO(export.to_xlsx(table, "scorecard", {}, formats)))
    sheet = book["Data"]
    header = [c.value for c in sheet[1]]
    rows = {r[header.index("KPI")].value: {h: c for h, c in zip(header, r, strict=True)} for r in sheet.iter_rows(min_row=2)}
    cus = rows["Customer satisfaction"]
    assert cus["Value"].value == pytest.approx(0.88) and cus["Value"].number_format == "0.0%"
    assert cus["On last month"].value == pytest.approx(5.0) and cus["On last month"].number_format == narrative.PP_FORMAT
    assert cus["Year on year"].value == pytest.approx(8.0)
    for row in rows.values():
        for column in ("Value", "On last month"):
            assert not isinstance(row[column].value, str) or row[column].value in ("new", "no data")  # no "'+18.9%"
    # Trafford awarded no contract with social value in the 12 months to May: no data, not an empty cell
    assert rows["Social value committed, last 12 months"]["Value"].value == "no data"
    assert any(r["Value"].number_format.startswith("£") and isinstance(r["Value"].value, int | float) for r in rows.values())


def test_the_kpi_page_says_whom_a_change_compares(app_env):
    at = run_app("director", page="pages/kpis.py", fy="2025-26")
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("KPI")
    assert table.loc["Spend on contract (from the spend data)", "On last month"] == "+100.0 pp over Stockport"
    assert table.loc["Cashable savings achieved", "Changes compare"] == ""  # both councils in both months
    caption = next(c.value for c in at.caption if c.value.startswith("Changes compare the councils"))
    assert (  # as read: the Markdown escapes of text from data taken out
        "**Spend on contract (from the spend data)**. Change on last month over Stockport: Trafford reported in "
        "April 2025 only." in caption.replace("\\", "")
    )


# --- like with like where the councils differ between the months --------------------------------
# Hand-worked, on the fixture database with three more KPIs (rows of the scorecard mart, the table
# every KPI query reads), April -> May 2025:
# - T-SHR, a share from the data (numerator / denominator): April Stockport 30/100, Trafford 10/50,
#   Rochdale 90/100; May Stockport 60/100, Trafford 40/200, Tameside 5/10. Value over everyone in May
#   105/310 = 33.9%. Over Stockport and Trafford (in both months): April 40/150 = 26.7%, May 100/300 =
#   33.3%: +6.7 pp (over everyone it would read 52.0% -> 33.9%, -18.1 pp; averaging the councils'
#   shares 25.0% -> 40.0%, +15.0 pp).
# - T-GBP, pounds added up: April Stockport 10,000, Trafford 5,000; May Stockport 12,000, Rochdale
#   7,000. Value 19,000; over Stockport 10,000 -> 12,000: +20.0% (over everyone 15,000 -> 19,000, +26.7%).
# - T-NON: Rochdale in April only, Tameside in May only: no council in both, no change.

_EXTRA = [
    # code, unit, council, month, value, numerator, denominator, target
    ("T-SHR", "percent", "stockport", "2025-04-01", 30.0, 30, 100, 40),
    ("T-SHR", "percent", "trafford", "2025-04-01", 20.0, 10, 50, 40),
    ("T-SHR", "percent", "rochdale", "2025-04-01", 90.0, 90, 100, 40),
    ("T-SHR", "percent", "stockport", "2025-05-01", 60.0, 60, 100, 40),
    ("T-SHR", "percent", "trafford", "2025-05-01", 20.0, 40, 200, 40),
    ("T-SHR", "percent", "tameside", "2025-05-01", 50.0, 5, 10, 40),
    ("T-GBP", "gbp", "stockport", "2025-04-01", 10_000, None, None, 10_000),
    ("T-GBP", "gbp", "trafford", "2025-04-01", 5_000, None, None, 5_000),
    ("T-GBP", "gbp", "stockport", "2025-05-01", 12_000, None, None, 10_000),
    ("T-GBP", "gbp", "rochdale", "2025-05-01", 7_000, None, None, 8_000),
    ("T-NON", "count", "rochdale", "2025-04-01", 3, None, None, None),
    ("T-NON", "count", "tameside", "2025-05-01", 4, None, None, None),
]


@pytest.fixture()
def extra_kpis(fixture_build, tmp_path, monkeypatch):
    """The fixture database with the three KPIs above added to the scorecard mart."""
    import shutil

    path = tmp_path / "star.duckdb"
    shutil.copyfile(fixture_build.db_path, path)
    con = duckdb.connect(str(path))
    for code, unit, council, month, value, numerator, denominator, target in _EXTRA:
        con.execute(
            """
            insert into mart_kpis_scorecard_by_month by name
            select ? as council_id, false as is_shared_service, ? as kpi_code, ? as kpi_name,
                   'Savings' as perspective, 1 as perspective_order, 'Not mapped' as objective,
                   99 as objective_order, ? as unit, true as higher_is_better, ?::date as month,
                   ?::double as value, ?::double as target, ?::double as numerator,
                   ?::double as denominator, 'data' as source, 0.1 as amber_tolerance
            """,
            [council, code, f"Test {code}", unit, month, value, target, numerator, denominator],
        )
    con.close()
    monkeypatch.setenv("STARVIZ_DB", str(path))
    config.settings.cache_clear()
    return path


def test_a_change_is_over_the_councils_in_both_months_with_the_kpis_own_total(extra_kpis):
    card = _card(_scope())
    share, pounds, none = card.loc[("T-SHR", False)], card.loc[("T-GBP", False)], card.loc[("T-NON", False)]
    # the value is everyone's; the change is Stockport and Trafford's, recomputed from their totals
    assert share["value"] == pytest.approx(100 * 105 / 310)
    assert (share["previous_value"], share["previous_like_value"]) == (
        pytest.approx(100 * 40 / 150),
        pytest.approx(100 * 100 / 300),
    )
    assert list(share["previous_common"]) == ["Stockport", "Trafford"]
    assert (list(share["previous_only_now"]), list(share["previous_only_then"])) == (["Tameside"], ["Rochdale"])
    assert (pounds["value"], pounds["previous_value"], pounds["previous_like_value"]) == (19_000, 10_000, 12_000)
    assert pounds["previous_like_target"] == 10_000  # Stockport's target, not Stockport's and Rochdale's
    assert pd.isna(none["previous_value"]) and none["value"] == 4

    table = narrative.scorecard_table(card.reset_index(), "perspective").set_index("Code")
    assert table.loc["T-SHR", "On last month"] == "+6.7 pp over Stockport and Trafford"
    assert table.loc["T-SHR", "Changes compare"] == (
        "Change on last month over Stockport and Trafford: Tameside reported in May 2025 only, Rochdale in April 2025 only."
    )
    assert table.loc["T-GBP", "On last month"] == "+20.0% over Stockport"
    assert table.loc["T-GBP", "Changes compare"] == (
        "Change on last month over Stockport: Rochdale reported in May 2025 only, Trafford in April 2025 only."
    )
    assert table.loc["T-NON", "On last month"] == "–"
    assert table.loc["T-NON", "Changes compare"] == (
        "Change on last month not compared: no council reported it in both April 2025 and May 2025."
    )
    assert table.loc["COM02", "Changes compare"] == ""  # Trafford alone, in every month compared


def test_the_summary_and_the_export_use_the_same_like_for_like_figures_and_words(extra_kpis):
    card = queries.kpi_scorecard(_scope(), MAY)
    text = narrative.monthly_summary(card, MAY, "All councils", n_movers=10)
    assert (
        "- Test T-GBP rose 20% over Stockport (Rochdale reported in May 2025 only, Trafford in April 2025 only), "
        "from £10k to £12k (target £10k): better." in text.splitlines()
    )
    assert (
        "- Test T-SHR rose 6.7 pp over Stockport and Trafford (Tameside reported in May 2025 only, Rochdale in "
        "April 2025 only), from 26.7% to 33.3% (target 40.0%): better." in text.splitlines()
    )
    assert "Not compared with April 2025 (no council reported them in both months): Test T-NON." in text

    table, _ = narrative.scorecard_export(card, "perspective")
    rows = table.set_index("Code")
    assert rows.loc["T-SHR", "On last month"] == pytest.approx(100 * 100 / 300 - 100 * 40 / 150)  # points
    assert rows.loc["T-GBP", "On last month"] == pytest.approx(0.2)
    assert rows.loc["T-NON", "On last month"] is None
    assert rows.loc["T-SHR", "Changes compare"] == narrative.change_notes(card.set_index("kpi_code").loc["T-SHR"])


def test_the_kpi_page_names_the_councils_that_sent_no_kpi_extract(app_env):
    # The fixture: Stockport and Trafford sent KPI extracts, Rochdale and Tameside none. The council
    # KPIs ("Cashable savings achieved" ...) add up the two that did, under "All councils", and nothing
    # on the page said so (on the demo without Tameside's extract: £530k against £286k, three councils).
    at = run_app("director", page="pages/kpis.py")
    assert not at.exception
    from starviz import escape

    assert escape.md(
        "KPIs from the councils' extracts: Stockport and Trafford only (no data for Rochdale and Tameside: "
        "no KPI extract loaded)."
    ) in [c.value for c in at.caption]
    # a council that sent one, alone: nothing to say
    at = run_app("director", page="pages/kpis.py", councils="trafford")
    assert not any("KPIs from the councils' extracts" in c.value for c in at.caption)
