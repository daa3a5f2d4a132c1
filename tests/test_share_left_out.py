"""The spend every share of spend leaves out is one figure, with one definition, on every page.

The director read "Shares of spend leave out £510 of net refunds" on the Overview and "£38.0k of net
refunds for Rochdale £2.8k, Stockport £4.9k, Tameside £7.7k, Trafford £22.6k" on Data quality for the
same councils, year and addressable spend (demo data, 2025-26): the Overview netted credits per
supplier and flags, Data quality per supplier and source of the category, so a credit coded without
a category (or off contract) against a supplier paid with one was "left out" as if the supplier's
payments netted to nothing, and the same credit was counted on one page and not on the other.

Now credits net against payments to the same supplier over the period whatever slice they fall in
(``supplier_net_spend``); a supplier netting to nothing or less is what the shares leave out, the
same amount on the Overview, Benchmarking and Data quality for the same spend.

Figures worked out by hand from the lines below; the pages' own queries run over a stand-in database
served like the real one."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from starviz import build, config, integrity, nodata, queries
from starviz.scope import Filters, User

DIRECTOR = User("director", "Director", "admin")
APR = dt.date(2025, 4, 1)
SQL = config.SQL_DIR
MACROS = ("flag_known_share", "known_share", "share_base", "share_left_out", "share_part", "supplier_net_spend")

# supplier, £, on contract, local, category source, exclusion reason (None: addressable)
LINES = [
    # S1: £1,000 paid on contract with its ProClass code; a £300 credit note later, off contract and
    # without a code. S1 nets to £700: nothing of it is left out.
    ("S1", 1000.0, True, True, "published", None),
    ("S1", -300.0, False, True, "none", None),
    # S2: a £120 refund and nothing paid: nets to -£120, left out of every share.
    ("S2", -120.0, False, False, "published", None),
    # S3: £500 paid off contract, category from the supplier's other lines.
    ("S3", 500.0, False, False, "supplier", None),
    # HMRC: £2,000 excluded (not addressable).
    ("HMRC", 2000.0, None, None, "published", "HMRC"),
]


def _serve(con, path, monkeypatch) -> None:
    """The overview's other marts, empty; the database closed and served to the queries."""
    con.execute(
        "create table mart_social_value_by_contract (covered_council_ids varchar[], start_date date, "
        "committed_gbp double, delivered_gbp double, value_gbp double)"
    )
    con.execute("create table mart_kpis_by_month (kpi_code varchar, council_id varchar, month date, value double, target double)")
    con.close()
    monkeypatch.setenv("STARVIZ_DB", str(path))
    config.settings.cache_clear()


@pytest.fixture()
def served(tmp_path, monkeypatch):
    path = tmp_path / "star.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table build_info as select ? as sql_version", [integrity.sql_version()])
    con.execute(
        "create table fct_spend (council_id varchar, month date, financial_year varchar, supplier_id varchar, "
        "amount_gbp decimal(18, 2), is_credit boolean, is_addressable boolean, exclusion_reason varchar, "
        "is_on_contract boolean, is_local boolean, is_sme boolean, is_vcse boolean, category_source varchar)"
    )
    for supplier, gbp, on_contract, local, source, reason in LINES:
        con.execute(
            "insert into fct_spend values ('x', ?, '2025-26', ?, ?, ? < 0, ?, ?, ?, ?, null, null, ?)",
            [APR, supplier, gbp, gbp, reason is None, reason, on_contract, local, source],
        )
    con.execute(
        "create table dim_councils as select 'x' as council_id, 'X' as short_name, 'X Council' as name, "
        "1 as sort_order, true as is_council"
    )
    build.create_sql(con, build.functions(*MACROS))
    for mart in ("mart_share_basis_by_supplier_month", "mart_classification_by_supplier_month", "mart_spend_by_council_month"):
        con.execute((SQL / "30_marts" / f"{mart}.sql").read_text())
    _serve(con, path, monkeypatch)
    yield queries.Scope(Filters(councils=("x",), period="fy", fy="2025-26"), DIRECTOR)
    config.settings.cache_clear()


def test_overview_and_data_quality_leave_out_the_same_spend(served):
    overview = queries.overview_measures(served, window=(APR, dt.date(2025, 4, 30)))
    unclassified = queries.unclassified_by_council(served).iloc[0]
    exclusions = queries.exclusions_by_reason(served).iloc[0]
    # only S2 nets to nothing or less: £120 (before, Data quality also left out S1's £300 credit: £420)
    assert overview["share_left_out_gbp"] == 120
    assert unclassified["share_left_out_gbp"] == 120
    assert exclusions["share_left_out_gbp"] == 120


def test_a_credit_in_another_slice_nets_against_its_supplier(served):
    overview = queries.overview_measures(served, window=(APR, dt.date(2025, 4, 30)))
    unclassified = queries.unclassified_by_council(served).iloc[0]
    # addressable nets: S1 £700 (all of it on its on-contract, coded slice), S3 £500: £1,200.
    # on contract 700 / 1,200 = 58.3% (before, the off-contract credit was left out: 1,000 / 1,500 = 66.7%)
    assert overview["on_contract_share"] == pytest.approx(700 / 1200)
    assert overview["local_share"] == pytest.approx(700 / 1200)
    # category from the supplier's other lines: S3's 500 / 1,200; nothing without a category once S1's
    # credit is netted against its coded payment (before: 500 / 1,500, and £300 "left out")
    assert unclassified["from_supplier_share"] == pytest.approx(500 / 1200)
    assert unclassified["unclassified_share"] == 0
    # the amounts stay the net spend as published: £1,080 addressable, £-300 of it without a code
    assert unclassified["spend_gbp"] == 1080 and unclassified["unclassified_gbp"] == -300
    # all spend: HMRC £2,000 of S1 £700 + S3 £500 + HMRC £2,000 = 62.5%
    exclusions = queries.exclusions_by_reason(served).iloc[0]
    assert exclusions["exclusion_reason"] == "HMRC" and exclusions["share_of_total"] == pytest.approx(2000 / 3200)


def test_the_sentence_says_which_spend_the_shares_are_of():
    assert nodata.share_left_out(120.0, spend="addressable spend") == (
        "Shares of addressable spend leave out £120 of net refunds: suppliers whose payments in the period "
        "net to nothing or less (credits netted against the same supplier)."
    )
    assert nodata.share_left_out(120.0, "Tameside", spend="all spend").startswith(
        "Shares of all spend leave out £120 of net refunds for Tameside:"
    )


def test_a_council_with_no_flag_known_is_left_out_of_the_all_council_share(tmp_path, monkeypatch):
    # X: S1 £600 local, S2 £400 not local. Y: S3 £1,000, no supplier's postcode known (the real
    # Trafford files: no postcodes at all). Before: 600 / 2,000 = 30.0% local for X and Y, while
    # benchmarking said "no data" for Y and the computed KPI added X alone (60.0%). On the demo with
    # the real Trafford files, 2025-26: 13.3% local, now 34.3%.
    path = tmp_path / "star.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table build_info as select ? as sql_version", [integrity.sql_version()])
    con.execute(
        "create table fct_spend (council_id varchar, month date, financial_year varchar, supplier_id varchar, "
        "amount_gbp decimal(18, 2), is_credit boolean, is_addressable boolean, exclusion_reason varchar, "
        "is_on_contract boolean, is_local boolean, is_sme boolean, is_vcse boolean)"
    )
    for council, supplier, gbp, local in [("x", "S1", 600, True), ("x", "S2", 400, False), ("y", "S3", 1000, None)]:
        con.execute(
            "insert into fct_spend values (?, ?, '2025-26', ?, ?, false, true, null, true, ?, null, null)",
            [council, APR, supplier, gbp, local],
        )
    con.execute(
        "create table dim_councils as select * from (values ('x', 'X', 1, true), ('y', 'Y', 2, true)) "
        "as t(council_id, short_name, sort_order, is_council)"
    )
    build.create_sql(con, build.functions(*MACROS))
    for mart in ("mart_share_basis_by_supplier_month", "mart_spend_by_council_month"):
        con.execute((SQL / "30_marts" / f"{mart}.sql").read_text())
    _serve(con, path, monkeypatch)
    try:
        scope = queries.Scope(Filters(councils=("x", "y"), period="fy", fy="2025-26"), DIRECTOR)
        m = queries.overview_measures(scope, window=(APR, dt.date(2025, 4, 30)))
        assert m["local_share"] == pytest.approx(0.6)  # was 0.3
        assert m["local_known_share"] == pytest.approx(1.0)  # of the spend the share is of
        assert m["on_contract_share"] == pytest.approx(1.0)  # known for both: nobody left out
        assert m["addressable_gbp"] == 2000  # the spend itself is everyone's
        # SME and VCSE are known for neither council: their cards say "no data" themselves
        assert m["sme_share"] is None and m["vcse_share"] is None
        assert nodata.shares_without(m) == (
            "Local (GM): no data for Y (known for none of its spend); that share is of the other councils' spend."
        )
    finally:
        config.settings.cache_clear()
