"""Shares of spend with credits (issue 18, "numbers they can defend"): a share is between 0% and 100%.

The rule (sql/00_functions/known_share.sql, one place for every share): credits and refunds are
netted against payments to the same supplier over the period, whatever its flags (supplier_net_spend
spreads a supplier's net over its positive slices); a supplier whose net is not positive is left out
of both numerator and denominator; "no data" stays null. Before it, a refund-only supplier pushed a share over 100% (the fixture's
Tameside: £2,000 local and a £120 refund from a non-local supplier read 2,000 / 1,880 = 106.4%).

The hand-made cases run the build's own SQL (the macros and the share basis mart) over a stand-in
``fct_spend``; the overview's figures over a stand-in database served like the real one; the
benchmarking, KPI and overview figures of the fixture build over the real build."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from starviz import build, config, fmt, integrity, queries
from starviz.nodata import NO_DATA
from starviz.scope import Filters, User
from tests.conftest import ALL

DIRECTOR = User("director", "Director", "admin")
APR, MAY = dt.date(2025, 4, 1), dt.date(2025, 5, 1)
SQL = config.SQL_DIR

# the share rule's macros, one file each under sql/00_functions
SHARE_MACROS = ("flag_known_share", "known_share", "share_base", "share_left_out", "share_part", "supplier_net_spend")

# council, month, supplier, £, on contract, local (None: unknown)
Line = tuple[str, dt.date, str | None, float, bool | None, bool | None]


def _spend(con: duckdb.DuckDBPyConnection, lines: list[Line]) -> None:
    """A stand-in fct_spend (every line addressable; SME and VCSE unknown), then the build's macros
    and share basis over it."""
    con.execute(
        "create table fct_spend (council_id varchar, month date, financial_year varchar, supplier_id varchar, "
        "amount_gbp decimal(18, 2), is_credit boolean, is_addressable boolean, exclusion_reason varchar, "
        "is_on_contract boolean, is_local boolean, is_sme boolean, is_vcse boolean)"
    )
    for council, month, supplier, gbp, on_contract, local in lines:
        con.execute(
            "insert into fct_spend values (?, ?, '2025-26', ?, ?, ? < 0, true, null, ?, ?, null, null)",
            [council, month, supplier, gbp, gbp, on_contract, local],
        )
    build.create_sql(con, build.functions(*SHARE_MACROS))  # as the build creates them (known_share uses share_*)
    con.execute((SQL / "30_marts" / "mart_share_basis_by_supplier_month.sql").read_text())


def _shares(lines: list[Line], months: tuple[dt.date, ...] = (APR,)) -> dict:
    """The shares of the council 'x' over ``months``, as the overview and benchmarking ask them."""
    con = duckdb.connect()
    _spend(con, lines)
    row = con.execute(
        """
        with basis as (
            select council_id, supplier_id, is_on_contract, is_local, is_sme, is_vcse, spend_gbp
            from mart_share_basis_by_supplier_month where list_contains(?::date[], month) and is_addressable
        )
        select known_share(is_local, spend_gbp), flag_known_share(is_local, spend_gbp),
               known_share(is_on_contract, spend_gbp), share_base(is_local, spend_gbp)::double,
               share_left_out(spend_gbp)::double
        from supplier_net_spend(basis)
        """,
        [list(months)],
    ).fetchone()
    return dict(zip(("local", "local_known", "on_contract", "base_gbp", "left_out_gbp"), row, strict=True))


# --- the rule, case by case (figures by hand) ---------------------------------------------------


def test_a_credit_is_netted_against_its_own_supplier():
    # S1 (local) £1,000 and a £200 credit: £800 net; S2 (not local) £800. 800 / 1,600 = 50%: the
    # credit is neither ignored (1,000 / 1,800 = 55.6%) nor left out.
    got = _shares([("x", APR, "S1", 1000, False, True), ("x", APR, "S1", -200, False, True), ("x", APR, "S2", 800, False, False)])
    assert got["local"] == pytest.approx(0.5)
    assert got["base_gbp"] == 1600 and got["left_out_gbp"] == 0


def test_a_refund_only_supplier_is_left_out_of_both_parts():
    # The fixture's Tameside: S1 (local) £2,000; S2 (not local) only a £120 refund. Before: 2,000 /
    # 1,880 = 106.4%. Now S2 nets to -£120 and is left out: 2,000 / 2,000 = 100%, £120 left out.
    got = _shares([("x", APR, "S1", 2000, None, True), ("x", APR, "S2", -120, None, False)])
    assert got["local"] == pytest.approx(1.0)
    assert got["base_gbp"] == 2000 and got["left_out_gbp"] == 120
    assert got["on_contract"] is None  # on contract unknown for all of it: no data, not 0%


def test_credits_larger_than_payments_leave_the_supplier_out():
    # S1 (local) £300 paid, £500 credited: -£200 net, left out. S2 (not local) £400: 0 / 400 = 0%.
    # Before: (300 - 500) / (300 - 500 + 400) = -100%.
    got = _shares([("x", APR, "S1", 300, None, True), ("x", APR, "S1", -500, None, True), ("x", APR, "S2", 400, None, False)])
    assert got["local"] == 0.0 and got["base_gbp"] == 400 and got["left_out_gbp"] == 200


def test_a_month_that_is_net_negative_is_no_data_not_a_share():
    # Every supplier nets to nothing or less (S1 -£500; S2 £100 - £300 = -£200): nothing to take a
    # share of. Before: -500 / -700 = 71.4% local. Now null ("no data"), £700 left out.
    got = _shares([("x", APR, "S1", -500, True, True), ("x", APR, "S2", 100, False, False), ("x", APR, "S2", -300, False, False)])
    assert got["local"] is None and got["on_contract"] is None and got["local_known"] is None
    assert got["left_out_gbp"] == 700
    assert fmt.pct(got["local"]) == NO_DATA


def test_mixed_known_and_unknown_flags():
    # S1 local £600; S2 unknown £300; S3 not local £100; S4 unknown, refund only -£50; S5 local,
    # refund only -£100. Counted: 600 + 300 + 100 = £1,000 (unknown stays in the denominator, not
    # counted as local): local 60.0%, flag known for 70.0%. Before: 500 / 850 = 58.8% local.
    got = _shares(
        [
            ("x", APR, "S1", 600, None, True),
            ("x", APR, "S2", 300, None, None),
            ("x", APR, "S3", 100, None, False),
            ("x", APR, "S4", -50, None, None),
            ("x", APR, "S5", -100, None, True),
        ]
    )
    assert got["local"] == pytest.approx(0.6) and got["local_known"] == pytest.approx(0.7)
    assert got["base_gbp"] == 1000 and got["left_out_gbp"] == 150


def test_an_off_contract_credit_nets_against_the_suppliers_on_contract_payments():
    # S1 £1,500 on contract and a £200 credit off contract (a credit note dated after the contract
    # ended); S2 £500 off contract. S1 nets to £1,300, all of it from its on-contract payments:
    # 1,300 / (1,300 + 500) = 72.2%. Before, the credit was netted apart and "left out" as if S1 had
    # netted to nothing: 1,500 / 2,000 = 75.0%, £200 left out (the Data quality page, netting by
    # another slice, left out other amounts).
    got = _shares([("x", APR, "S1", 1500, True, None), ("x", APR, "S1", -200, False, None), ("x", APR, "S2", 500, False, None)])
    assert got["on_contract"] == pytest.approx(1300 / 1800)
    assert got["left_out_gbp"] == 0
    assert got["local"] is None  # no supplier's postcode known


def test_the_period_nets_its_months_again():
    # S1 (local) £1,000 in April, refunded in full in May; S2 (not local) £500 in April. April alone:
    # 1,000 / 1,500 = 66.7%. May alone: only S1's refund, no data. April and May: S1 nets to £0, left
    # out: 0 / 500 = 0%.
    lines = [("x", APR, "S1", 1000, None, True), ("x", MAY, "S1", -1000, None, True), ("x", APR, "S2", 500, None, False)]
    assert _shares(lines, (APR,))["local"] == pytest.approx(2 / 3)
    assert _shares(lines, (MAY,))["local"] is None
    assert _shares(lines, (APR, MAY))["local"] == 0.0


def test_every_share_is_between_0_and_1_whatever_the_signs():
    import itertools

    amounts = (-300.0, -20.0, 0.0, 50.0, 700.0)
    flags = (True, False, None)
    for a, b, c in itertools.product(amounts, repeat=3):
        for fa, fb in itertools.product(flags, repeat=2):
            got = _shares([("x", APR, "S1", a, fa, fa), ("x", APR, "S2", b, fb, fb), ("x", APR, "S1", c, fa, fa)])
            for key in ("local", "local_known", "on_contract"):
                assert got[key] is None or 0.0 <= got[key] <= 1.0, (a, b, c, fa, fb, key, got[key])


# --- the overview, served like the real database ---------------------------------------------------


@pytest.fixture()
def served(tmp_path, monkeypatch):
    def _serve(lines: list[Line]) -> None:
        path = tmp_path / "star.duckdb"
        con = duckdb.connect(str(path))
        con.execute("create table build_info as select ? as sql_version", [integrity.sql_version()])
        _spend(con, lines)
        con.execute("create table dim_councils as select 'x' as council_id, 'X' as short_name, 1 as sort_order")
        con.execute((SQL / "30_marts" / "mart_spend_by_council_month.sql").read_text())
        con.execute(
            "create table mart_social_value_by_contract (covered_council_ids varchar[], start_date date, "
            "committed_gbp double, delivered_gbp double, value_gbp double)"
        )
        con.execute(
            "create table mart_kpis_by_month (kpi_code varchar, council_id varchar, month date, value double, target double)"
        )
        con.close()
        monkeypatch.setenv("STARVIZ_DB", str(path))
        config.settings.cache_clear()

    yield _serve
    config.settings.cache_clear()


def test_the_overview_card_reads_the_share_within_0_and_100_percent(served):
    served([("x", APR, "S1", 2000, None, True), ("x", APR, "S2", -120, None, False)])
    scope = queries.Scope(Filters(councils=("x",), period="fy", fy="2025-26"), DIRECTOR)
    measures = queries.overview_measures(scope, window=(APR, dt.date(2025, 4, 30)))
    assert measures["addressable_gbp"] == 1880  # the spend itself is still the net total
    assert fmt.pct(measures["local_share"]) == "100.0%"  # was "106.4%"
    assert measures["share_left_out_gbp"] == 120
    assert fmt.pct(measures["on_contract_share"]) == NO_DATA


# --- the fixture build: Tameside's refund-only supplier on every page's figures ---------------------


def _tameside(**period) -> queries.Scope:
    return queries.Scope(Filters(councils=("tameside",), period="fy", fy="2025-26", **period), DIRECTOR)


def test_benchmarking_kpis_and_overview_agree_on_the_fixture(fixture_build, monkeypatch):
    # Tameside, April 2025: £2,000 to a local supplier, a £120 refund from a non-local one.
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    try:
        bench = queries.benchmark_by_council(_tameside()).set_index("council_id").loc["tameside"]
        assert bench["local_share"] == pytest.approx(1.0) and bench["sme_share"] == pytest.approx(1.0)
        assert bench["vcse_share"] == 0.0 and bench["share_left_out_gbp"] == 120
        assert bench["spend_gbp"] == 1880  # addressable spend itself unchanged
        overview = queries.overview_measures(_tameside(), window=(APR, dt.date(2025, 4, 30)))
        assert fmt.pct(overview["local_share"]) == "100.0%"
        con = duckdb.connect(str(fixture_build.db_path), read_only=True)
        kpi = con.execute(
            "select numerator, denominator, value from mart_kpis_computed_by_month "
            "where council_id = 'tameside' and kpi_code = 'D-LOC' and month = ?",
            [APR],
        ).fetchone()
        con.close()
        assert kpi == (2000.0, 2000.0, pytest.approx(100.0))  # was 2,000 / 1,880 = 106.4
        shares = queries.benchmark_by_council(queries.Scope(Filters(councils=ALL, period="fy", fy="2025-26"), DIRECTOR))
        for column in ("on_contract_share", "local_share", "sme_share", "vcse_share"):
            values = shares[column].dropna()
            assert ((values >= 0) & (values <= 1)).all(), column
    finally:
        config.settings.cache_clear()


def test_the_pages_say_how_much_the_shares_leave_out():
    import pandas as pd

    from starviz import nodata

    figures = pd.DataFrame({"council": ["Tameside", "Trafford"], "share_left_out_gbp": [120.0, 0.0]})
    assert nodata.share_left_out_by_council(figures) == (
        "Shares of spend leave out £120 of net refunds for Tameside: suppliers whose payments in the "
        "period net to nothing or less (credits netted against the same supplier)."
    )
    two = pd.DataFrame({"council": ["Tameside", "Trafford"], "share_left_out_gbp": [120.0, 3000.0]})
    assert nodata.share_left_out_by_council(two).startswith(
        "Shares of spend leave out £3,120 of net refunds for Tameside £120, Trafford £3,000:"
    )
    assert nodata.share_left_out(0) == "" and nodata.share_left_out(None) == ""
    assert nodata.SHARE_RULE.startswith("Credits and refunds are netted against payments to the same supplier")
