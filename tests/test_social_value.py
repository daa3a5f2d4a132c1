"""Social value against the target: committed and delivered, coverage, the expected curve, the page.

Numbers are worked by hand from the fixture rows (tests/fixtures/extracts.py):
- TC-001 (Trafford, £50,000, 1 Apr 2024 - 12 Apr 2025): £10,000 committed, £5,000 delivered 30 Jun 2024 (local).
- STAR-001 (STAR for Trafford and Stockport, £900,000, 1 Apr 2024 - 31 Mar 2027): £225,000 committed,
  £25,000 delivered 31 Mar 2025 (£20,000 of it local).
- SC-001 (Stockport, £120,000, from 1 Jan 2025, weighting 20%): £24,000 committed, £6,000 delivered 30 Jun 2025
  (local); SC-002 (Stockport, £80,000, from 1 May 2025, weighting 10%) has no measures.
"""

from __future__ import annotations

import pytest

from starviz import config, queries
from starviz.scope import Filters, User
from tests.conftest import ALL, run_app

DIRECTOR = User("director", "Director", "admin")
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))
STAR_ELAPSED = 364 / 1094  # 1 Apr 2024 to its latest return (31 Mar 2025), of a term to 31 Mar 2027


@pytest.fixture(autouse=True)
def fixture_db(fixture_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def _scope(user=DIRECTOR, councils=ALL, **period):
    return queries.Scope(Filters(councils=councils, **(period or {"period": "all"})), user)


def _settings(monkeypatch, **changes):
    changed = config.settings().model_copy(update=changes)

    def settings():
        return changed

    settings.cache_clear = lambda: None
    monkeypatch.setattr(config, "settings", settings)


def test_social_value_share_is_committed_over_contract_value_against_the_default_target():
    s = queries.social_value_summary(_scope())
    assert s["count_contracts"] == 3
    assert s["committed_share"] == pytest.approx((10_000 + 225_000 + 24_000) / (50_000 + 900_000 + 120_000))
    assert s["delivered_share"] == pytest.approx((5_000 + 25_000 + 6_000) / 1_070_000)
    assert s["target_share"] == pytest.approx(0.20)


def test_target_comes_from_configuration_for_each_financial_year(monkeypatch):
    _settings(monkeypatch, social_value_target_by_year={"2024-25": 0.25})
    assert queries.social_value_summary(_scope(period="fy", fy="2024-25"))["target_share"] == pytest.approx(0.25)
    by_council = queries.social_value_breakdown(_scope(), "council").set_index("name")
    assert by_council.loc["STAR", "target_share"] == pytest.approx(0.25)
    trend = queries.social_value_by_quarter(_scope()).set_index("label")
    assert trend.loc["2024-25 Q4", "target_share"] == pytest.approx(0.25)
    assert trend.loc["2024-25 Q4", "target_gbp"] == pytest.approx(120_000 * 0.25)  # SC-001's value
    assert trend.loc["2025-26 Q1", "target_share"] == pytest.approx(0.20)  # the default for other years


def test_star_contracts_are_their_own_row_and_count_for_the_councils_they_cover():
    rows = queries.social_value_breakdown(_scope(TRAFFORD, ("trafford",)), "council").set_index("name")
    assert list(rows.index) == ["Trafford", "STAR"]
    assert rows.loc["Trafford", "committed_share"] == pytest.approx(0.20)
    assert rows.loc["Trafford", "delivered_share"] == pytest.approx(0.10)
    assert rows.loc["STAR", "committed_share"] == pytest.approx(0.25)
    assert rows.loc["STAR", "delivered_share"] == pytest.approx(25_000 / 900_000)
    assert rows.loc["STAR", "delivered_local_share"] == pytest.approx(0.8)


def test_themes_add_up_to_the_whole_share():
    themes = queries.social_value_breakdown(_scope(TRAFFORD, ("trafford",)), "theme").set_index("name")
    assert themes.loc["Jobs", "committed_gbp"] == 10_000 + 200_000
    assert themes.loc["Environment", "committed_gbp"] == 25_000
    assert themes["committed_share"].sum() == pytest.approx(235_000 / 950_000)


def test_unknown_breakdown_is_refused():
    with pytest.raises(ValueError, match="unknown breakdown"):
        queries.social_value_breakdown(_scope(), "department; drop table x")


def test_delivered_in_the_period_and_its_local_share():
    s = queries.social_value_summary(_scope(period="fy", fy="2024-25"))
    assert s["delivered_in_period_gbp"] == 5_000 + 25_000
    assert s["delivered_local_share"] == pytest.approx((5_000 + 20_000) / 30_000)
    later = queries.social_value_summary(_scope(period="fy", fy="2025-26"))
    assert (later["delivered_in_period_gbp"], later["delivered_local_share"]) == (6_000, 1.0)


def test_coverage_counts_contracts_over_the_configured_threshold(monkeypatch):
    s = queries.social_value_summary(_scope())
    # over £50k: STAR-001 and SC-001 carry measures, SC-002 does not (TC-001 is exactly £50k: not over)
    assert (s["count_over_threshold"], s["count_with_measures"]) == (3, 2)
    assert s["coverage_share"] == pytest.approx(2 / 3)
    assert s["avg_weighting_share"] == pytest.approx((0.20 + 0.10) / 2)  # STAR-001 records no weighting
    _settings(monkeypatch, social_value_coverage_threshold_gbp=100_000)
    s = queries.social_value_summary(_scope())
    assert (s["count_over_threshold"], s["coverage_share"], s["avg_weighting_share"]) == (2, 1.0, pytest.approx(0.2))
    later = queries.social_value_summary(_scope(period="fy", fy="2025-26"))
    assert (later["count_over_threshold"], later["coverage_share"]) == (0, None)


def test_contract_behind_the_expected_curve_is_at_risk_and_a_young_one_is_not_judged():
    rows = queries.social_value_contracts(_scope(TRAFFORD, ("trafford",)), at_risk_only=False).set_index("contract_ref")
    star = rows.loc["STAR-001"]
    assert star["expected_gbp"] == pytest.approx(225_000 * STAR_ELAPSED)
    assert bool(star["is_at_risk"])  # £25,000 is below 80% of the ~£74,863 expected
    assert star["shortfall_gbp"] == pytest.approx(225_000 * STAR_ELAPSED - 25_000)
    assert not bool(rows.loc["TC-001", "is_at_risk"])  # two months old at its latest return: inside the grace
    assert list(queries.social_value_contracts(_scope(TRAFFORD, ("trafford",)))["contract_ref"]) == ["STAR-001"]
    summary = queries.social_value_summary(_scope(TRAFFORD, ("trafford",)))
    assert (summary["count_in_delivery"], summary["count_at_risk"]) == (2, 1)


def test_curve_shape_and_at_risk_share_come_from_configuration(monkeypatch):
    _settings(monkeypatch, social_value_curve_exponent=2.0)  # delivery expected late in the term
    star = (
        queries.social_value_contracts(_scope(TRAFFORD, ("trafford",)), at_risk_only=False)
        .set_index("contract_ref")
        .loc["STAR-001"]
    )
    assert star["expected_gbp"] == pytest.approx(225_000 * STAR_ELAPSED**2)
    assert not bool(star["is_at_risk"])  # £25,000 is above 80% of ~£24,909
    _settings(monkeypatch, social_value_curve_exponent=1.0, social_value_at_risk_share=0.3)
    assert queries.social_value_contracts(_scope(TRAFFORD, ("trafford",))).empty  # 25,000 >= 0.3 x 74,863


def test_spend_to_date_counts_only_the_councils_in_scope():
    mine = queries.social_value_contracts(_scope(TRAFFORD, ("trafford",))).set_index("contract_ref").loc["STAR-001"]
    assert mine["spend_to_date_gbp"] == 2_000  # Trafford's payment only, not Stockport's £3,000
    assert mine["delivered_of_spend_share"] == pytest.approx(25_000 / 2_000)
    everyone = queries.social_value_contracts(_scope()).set_index("contract_ref").loc["STAR-001"]
    assert everyone["spend_to_date_gbp"] == 5_000


def test_quarterly_trend_has_each_quarter_and_its_target():
    df = queries.social_value_by_quarter(_scope()).set_index("label")
    assert len(df) == config.settings().social_value_trend_quarters
    assert df.index[-1] == "2025-26 Q1"  # the latest delivery return is June 2025
    q1 = df.loc["2024-25 Q1"]
    assert (q1["committed_gbp"], q1["awarded_value_gbp"], q1["delivered_gbp"]) == (235_000, 950_000, 5_000)
    assert q1["target_gbp"] == pytest.approx(950_000 * 0.20)
    q4 = df.loc["2024-25 Q4"]
    assert (q4["committed_gbp"], q4["delivered_gbp"], q4["target_gbp"]) == (24_000, 25_000, pytest.approx(24_000))
    assert (df.loc["2025-26 Q1", "delivered_gbp"], df.loc["2025-26 Q1", "target_gbp"]) == (6_000, 0)
    assert df.loc["2023-24 Q2", "committed_gbp"] == 0


def test_a_scoped_user_never_receives_another_councils_social_value():
    scope = _scope(TRAFFORD, ("stockport", "trafford"))
    assert set(queries.social_value_breakdown(scope, "council")["name"]) == {"Trafford", "STAR"}
    assert "SC-001" not in set(queries.social_value_contracts(scope, at_risk_only=False)["contract_ref"])
    assert (
        queries.social_value_summary(queries.Scope(Filters(councils=("stockport",), period="fy", fy="2025-26"), TRAFFORD))[
            "count_contracts"
        ]
        == 0
    )


# --- the page, as each role ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["director", "category.manager", "board", "trafford.officer"])
def test_each_role_opens_the_social_value_page(app_env, username):
    at = run_app(username, page="pages/social_value.py", fy="all")
    assert not at.exception, at.exception
    assert at.title[0].value == "Social value"
    assert len(at.metric) == 8
    assert len(at.get("plotly_chart")) == 2
    for table in at.dataframe:  # contracts and their social value, never payment lines
        assert not {"payment_date", "source_row", "line_id"} & set(table.value.columns)


def test_trafford_officer_sees_only_trafford_and_the_star_contracts_covering_it(app_env):
    at = run_app("trafford.officer", page="pages/social_value.py", fy="all", councils="stockport")
    assert not at.exception
    assert set(at.dataframe[0].value["name"]) == {"Trafford", "STAR"}
    at.toggle(key="sv_all").set_value(True).run()
    assert set(at.dataframe[1].value["council"]) <= {"Trafford", "STAR"}
    assert "SC-001" not in set(at.dataframe[1].value["contract_ref"])


def test_breakdown_switches_to_supplier(app_env):
    at = run_app("category.manager", page="pages/social_value.py", fy="all")
    at.segmented_control(key="sv_by").set_value("supplier").run()
    assert not at.exception
    assert "Greenfield Grounds Ltd" in set(at.dataframe[0].value["name"])


def test_a_period_without_awards_says_so(app_env):
    at = run_app("trafford.officer", page="pages/social_value.py")  # 2025-26: nothing starts for Trafford
    assert not at.exception
    assert any("No contract with social value measures" in i.value for i in at.info)
