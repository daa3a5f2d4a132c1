"""The data quality page: coverage and missing months, rejects, classification, exclusions,
freshness, and the supplier matching review, checked against the fixture rows."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from starviz import build, charts, config, import_store, matching, queries
from starviz.scope import Filters, User
from tests.conftest import ALL, partners_without_files, run_app
from tests.fixtures.extracts import TAMESIDE_SPEND, write_csv, write_raw

DIRECTOR = User("director", "Director", "admin")
ANALYST = User("category.manager", "Category Manager", "analyst")
BOARD = User("board", "Board", "viewer")
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))


def _scope(user=DIRECTOR, councils=ALL, addressable=False, **period):
    period = period or {"period": "fy", "fy": "2025-26"}
    chosen = tuple(c for c in councils if user.sees(c))
    return queries.Scope(Filters(councils=chosen, all_councils=councils == ALL, addressable_only=addressable, **period), user)


@pytest.fixture()
def fixture_db(fixture_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


# --- coverage ---------------------------------------------------------------------------------


AWAITING = "No data loaded yet (configured, awaiting its first file)"


def test_missing_months_are_flagged_from_each_councils_first_month_to_the_latest_anyone_sent(fixture_db, fixture_raw):
    # Spend runs April-May 2025 (Trafford's and Stockport's May lines); Rochdale and Tameside sent
    # April only. Trafford and Stockport sent KPIs for April and May 2025 (Trafford's earlier months
    # fall before the 2025-26 period shown). Rochdale and Tameside are configured for contracts, KPIs
    # and social value but sent none: each is said once, not missing every month.
    got = [[None if pd.isna(v) else v for v in row] for row in queries.missing_months(_scope()).values.tolist()]
    # a partner configured but without a file in the fixture awaits each of its datasets, said once each
    absent = partners_without_files(fixture_raw)
    awaiting = [[cc.short_name, dataset, None, AWAITING] for cc in absent.values() for dataset in cc.datasets]
    assert sorted(row for row in got if row[0] in {cc.short_name for cc in absent.values()}) == sorted(awaiting)
    got = [row for row in got if row not in awaiting]
    assert got == [
        ["Rochdale", "spend", 1, "May 2025"],
        ["Rochdale", "contracts", None, AWAITING],
        ["Rochdale", "kpis", None, AWAITING],
        ["Rochdale", "social_value", None, AWAITING],
        ["Tameside", "spend", 1, "May 2025"],
        ["Tameside", "contracts", None, AWAITING],
        ["Tameside", "kpis", None, AWAITING],
        ["Tameside", "social_value", None, AWAITING],
    ]


def test_a_council_awaiting_its_first_file_is_not_in_the_coverage_grid(fixture_db):
    # nothing expected of Rochdale's KPIs: no row, so no line of the heatmap and no "missing" cell
    assert "Rochdale" not in set(queries.coverage(_scope(), "kpis")["council"])


def test_coverage_counts_rows_per_council_and_month(fixture_db):
    df = queries.coverage(_scope(), "spend")
    trafford = df[df["council"] == "Trafford"]
    # April: T1, T2, T3, T4, T5, T8, T10 (T6 and T7 rejected); May: T9
    assert trafford["count_rows"].tolist() == [7, 1]
    assert df[df["is_missing"]]["council"].tolist() == ["Rochdale", "Tameside"]


def test_the_coverage_grid_marks_the_partial_months_the_overview_flags(fixture_db):
    # A latest month of spend is partial when its last payment falls more than 10 days (settings) before
    # the month ends: Rochdale's April ends on 7 April, Tameside's on 9 April, Trafford's May on 1 May
    # (T9); Stockport's lines give only the month, so it is never partial; Trafford's April is not its latest.
    df = queries.coverage(_scope(), "spend")
    partial = df[df["is_partial"]]
    assert sorted((r.council, f"{r.month:%b %Y}", r.note) for r in partial.itertuples()) == [
        ("Rochdale", "Apr 2025", "Apr 2025 partial: payments to 7 Apr 2025"),
        ("Tameside", "Apr 2025", "Apr 2025 partial: payments to 9 Apr 2025"),
        ("Trafford", "May 2025", "May 2025 partial: payments to 1 May 2025"),
    ]
    # the same definition and words as the overview's Data loaded table
    status = queries.data_status(_scope()).set_index("council")["note"]
    assert all(status[r.council] == r.note for r in partial.itertuples())
    assert set(df.loc[df["is_missing"], "note"]) == {"missing"}


def test_the_coverage_heatmap_rings_a_partial_month_and_its_alt_text_gives_the_last_payment(fixture_db):
    from starviz import charts, export

    fig = charts.coverage_heatmap(queries.coverage(_scope(), "spend"))
    ring = next(t for t in fig.data if t.name == "Partial month")
    assert sorted(ring.y) == ["Rochdale", "Tameside", "Trafford"]
    assert ring.marker.color == charts.quality.PARTIAL  # an open symbol is drawn in the marker's colour, not its line's
    trafford = list(ring.y).index("Trafford")
    assert ring.text[trafford] == "Trafford: May 2025<br>1 row from 1 file<br>May 2025 partial: payments to 1 May 2025"
    heat = next(t for t in fig.data if t.type == "heatmap")
    assert "Apr 2025 partial: payments to 7 Apr 2025" in heat.text[list(heat.y).index("Rochdale")][0]
    alt = export.alt_text(fig, "Spend: rows loaded per council per month")
    assert "Partial months: " in alt and "Missing months: Rochdale May 2025; Tameside May 2025." in alt
    for note in ("Rochdale, Apr 2025 partial: payments to 7 Apr 2025", "Trafford, May 2025 partial: payments to 1 May 2025"):
        assert note in alt


def test_missing_months_are_listed_as_runs(fixture_build, tmp_path, monkeypatch):
    # The real build listed Stockport's 12 missing months of 2025-26 one by one (138 over all years);
    # runs read as scope.month_ranges writes them. Trafford made to miss Jun-Aug 2025, Oct 2025 and
    # Dec 2025-Jan 2026 in a copy of the fixture database.
    path = tmp_path / "star.duckdb"
    shutil.copyfile(fixture_build.db_path, path)
    con = duckdb.connect(str(path))
    for month in ("2025-06-01", "2025-07-01", "2025-08-01", "2025-10-01", "2025-12-01", "2026-01-01"):
        con.execute(
            "insert into mart_coverage_by_council_month by name select 'trafford' as council_id, 'spend' as dataset, "
            "?::date as month, 0 as count_rows, 0 as count_files, true as is_expected, true as is_missing, "
            "null::date as last_date, false as is_partial",
            [month],
        )
    con.close()
    monkeypatch.setenv("STARVIZ_DB", str(path))
    config.settings.cache_clear()
    missing = queries.missing_months(_scope()).set_index(["council", "dataset"])
    assert missing.loc[("Trafford", "spend"), "count_missing"] == 6
    assert missing.loc[("Trafford", "spend"), "months"] == "Jun – Aug 2025, Oct 2025, Dec 2025 – Jan 2026"
    assert missing.loc[("Rochdale", "spend"), "months"] == "May 2025"


def test_a_month_outside_the_period_is_not_reported_missing(fixture_db):
    scope = _scope(period="months", month_from=dt.date(2025, 4, 1), month_to=dt.date(2025, 4, 1))
    # Rochdale's and Tameside's missing May is outside April; what they have never sent is said whatever the period
    missing = queries.missing_months(scope)
    assert set(missing["months"]) == {AWAITING}


def test_gaps_are_flagged_only_for_datasets_published_monthly(fixture_db):
    assert list(queries.coverage_datasets().items()) == [
        ("spend", True),
        ("kpis", True),
        ("contracts", False),
        ("social_value", False),
    ]


def test_a_trafford_officer_sees_only_trafford_coverage(fixture_db):
    # Rochdale and Tameside have missing months; asked for every council, the officer sees none of them.
    assert {"Rochdale", "Tameside"} <= set(queries.missing_months(_scope())["council"])
    scope = queries.Scope(Filters(councils=ALL, all_councils=True, fy="2025-26", addressable_only=False), TRAFFORD)
    assert set(queries.missing_months(scope)["council"]) <= {"Trafford"}
    assert set(queries.coverage(scope, "spend")["council"]) == {"Trafford"}


# --- rejects ----------------------------------------------------------------------------------


def test_rejects_are_counted_by_reason(fixture_db):
    df = queries.rejects_by_reason(_scope())
    got = sorted(zip(df["council"], df["dataset"], df["severity"], df["reason"].str[:22], df["count_rows"], strict=True))
    assert got == [
        ("Rochdale", "spend", "rejected", "cannot read date: expe", 1),  # 30-Feb-25
        ("Tameside", "spend", "skipped", "blank row", 1),
        ("Tameside", "spend", "skipped", "summary row (skipped b", 1),  # Grand Total
        ("Trafford", "contracts", "rejected", "missing supplier name", 1),  # TC-003
        ("Trafford", "maturity", "rejected", "cannot read date: expe", 1),  # 2025-13-31
        ("Trafford", "spend", "rejected", "cannot read date: expe", 1),  # 31/04/2025
        ("Trafford", "spend", "rejected", "no amount given: read ", 1),  # N/A
    ]


def test_rejected_rows_name_file_row_column_and_value_and_stay_in_scope(fixture_db):
    rows = queries.rejected_rows(_scope(TRAFFORD, ("trafford",)), ["rejected"])
    assert rows[["dataset", "source_row", "column_name"]].values.tolist() == [
        ["contracts", 4, "SupplierName"],
        ["maturity", 9, "AssessmentDate"],
        ["spend", 7, "PaymentDate"],
        ["spend", 8, "Amount"],
    ]
    assert rows["value"].tolist()[1:] == ["2025-13-31", "31/04/2025", "N/A"] and rows["value"].isna().tolist()[0]
    assert queries.count_rejected_rows(_scope(), ["rejected", "skipped"]) == 7


def test_a_board_viewer_gets_no_problem_rows(fixture_db):
    assert queries.rejected_rows(_scope(BOARD), ["rejected", "warning", "skipped"]).empty
    assert queries.rejects_by_reason(_scope(BOARD))["count_rows"].sum() == 7  # counts are fine


def test_an_unreadable_file_is_listed_with_its_reason(tmp_path, monkeypatch):
    raw = write_raw(tmp_path / "raw")
    write_csv(raw / "rochdale/spend/Rochdale_Spend_May25.csv", [TAMESIDE_SPEND[0]], encoding="cp1252")
    monkeypatch.setenv("STARVIZ_DB", str(build.build(raw_dir=raw, db_path=tmp_path / "s.duckdb").db_path))
    config.settings.cache_clear()
    failed = queries.failed_files(_scope())
    assert failed["source_file"].tolist() == ["rochdale/spend/Rochdale_Spend_May25.csv"]
    assert "cannot find the column(s) for required field(s)" in failed["message"].iloc[0]
    config.settings.cache_clear()


# --- classification, exclusions, freshness --------------------------------------------------------


def test_unclassified_share_per_council(fixture_db):
    every = queries.unclassified_by_council(_scope()).set_index("council")
    # Stockport: Teachers Pensions 900 has no category, of 5,720.50 in all; the redacted 620 (adult
    # social care) takes its heading from Stockport's expense-type mapping
    assert every.loc["Stockport", "unclassified_gbp"] == 900
    assert every.loc["Stockport", "unclassified_share"] == pytest.approx(900 / 5720.5)
    assert every.loc["Stockport", "from_expense_type_gbp"] == 620
    addressable = queries.unclassified_by_council(_scope(addressable=True)).set_index("council")
    assert addressable.loc["Stockport", "unclassified_share"] == 0
    # Trafford addressable: ABC 1,500 - 200 and Long Name Care 2,000 published; Widget 750 has none
    assert addressable.loc["Trafford", "unclassified_share"] == pytest.approx(750 / 4050)
    # Tameside's ABC line (2,000) takes ABC's category from the other councils' lines
    assert addressable.loc["Tameside", "from_supplier_gbp"] == 2000


def test_excluded_spend_by_reason(fixture_db):
    df = queries.exclusions_by_reason(_scope(TRAFFORD, ("trafford",)))
    assert list(zip(df["exclusion_reason"], df["spend_gbp"], strict=True)) == [
        ("levies", 100000),
        ("HMRC", 20000),
        ("inter-authority", 5000),
        ("redacted personal data", 800),
    ]
    # all Trafford spend loaded: 1500+800+100000-200+750+5000+20000+2000
    assert df["share_of_total"].iloc[0] == pytest.approx(100000 / 129850)


def test_freshness_names_the_latest_file_and_flags_stale_data(fixture_db):
    df = queries.freshness(_scope(), today=dt.date(2025, 7, 1)).set_index(["council", "dataset"])
    trafford = df.loc[("Trafford", "spend")]
    # Trafford's last line is 1 May (T9): May counts as sent, so the data ages from 31 May
    assert (trafford["latest_file"], trafford["last_date"], trafford["days_old"], trafford["is_stale"]) == (
        "trafford-supplier-spend-2025-04.csv",
        pd.Timestamp("2025-05-01"),
        31,
        False,
    )
    # Tameside's last line is 9 April: from 30 April, 62 days, over the 45 configured
    assert (df.loc[("Tameside", "spend"), "days_old"], df.loc[("Tameside", "spend"), "is_stale"]) == (62, True)
    assert ("STAR", "kpis") in df.index  # STAR's own files, for a user who sees everything
    narrowed = queries.freshness(_scope(councils=("trafford",)), today=dt.date(2025, 7, 1))
    assert set(narrowed["council"]) == {"Trafford"}


# --- supplier matching review ------------------------------------------------------------------

# Tameside pays "Widgit Supplies Ltd" in May: one letter from Trafford's "Widget Supplies Ltd".
TAMESIDE_MAY_TYPO = [
    TAMESIDE_SPEND[0],
    ["T9", "Widgit Supplies Ltd", "Place", "Stationery", "Business Payment", "07/05/25", " 300.00 "],
]


@pytest.fixture()
def review(tmp_path, monkeypatch):
    """The fixture build plus the Widgit line, with its own copy of data/reference/."""
    raw = write_raw(tmp_path / "raw")
    write_csv(raw / "tameside/spend/Tameside Spend May 2025.csv", TAMESIDE_MAY_TYPO)
    shutil.copytree(config.DATA_DIR / "reference", tmp_path / "reference")
    monkeypatch.setenv("STARVIZ_REFERENCE", str(tmp_path / "reference"))
    monkeypatch.setenv("STARVIZ_RAW", str(raw))
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    build.build()
    yield tmp_path
    config.settings.cache_clear()


def _supplier_ids(*names: str) -> set[str]:
    con = duckdb.connect(str(config.settings().db_path), read_only=True)
    try:
        return {
            r[0]
            for r in con.execute(
                "select distinct supplier_id from map_supplier_names where supplier_name in (select unnest(?))", [list(names)]
            ).fetchall()
        }
    finally:
        con.close()


def test_a_one_letter_difference_is_proposed_with_its_score(review):
    df = matching.candidates(_scope())
    pair = df[df["supplier_name_b"] == "Widgit Supplies Ltd"].iloc[0]
    # Widget Supplies: 750 (Trafford) - 120 (Tameside) = 630 > 300, so it is the name kept
    assert pair["supplier_name_a"] == "Widget Supplies Ltd"
    assert (pair["spend_gbp_a"], pair["spend_gbp_b"]) == (630, 300)
    assert pair["councils_a"] == "Tameside, Trafford" and pair["councils_b"] == "Tameside"
    assert 0.85 <= pair["score"] <= 1
    assert len(_supplier_ids("Widget Supplies Ltd", "Widgit Supplies Ltd")) == 2  # suggested, never merged silently


def test_a_trafford_officer_sees_no_pair_involving_only_other_councils(review):
    assert "Widgit Supplies Ltd" not in matching.candidates(_scope(TRAFFORD, ("trafford",)))["supplier_name_b"].tolist()


def test_accepting_a_pair_writes_the_alias_file_and_the_next_build_merges_them(review):
    df = matching.candidates(_scope())
    pair = df[df["supplier_name_b"] == "Widgit Supplies Ltd"]["pair"].tolist()
    assert (
        matching.decide(
            df,
            pair,
            matching.SAME,
            DIRECTOR,
        )
        == 1
    )
    written = (review / "reference" / "supplier_aliases.csv").read_text().splitlines()
    assert written[-1] == f"Widgit Supplies Ltd,Widget Supplies Ltd,director,{dt.date.today().isoformat()}"
    assert "Widgit Supplies Ltd" not in matching.candidates(_scope())["supplier_name_b"].tolist()
    assert matching.waiting_for_build(_scope()) == 1
    outcome = import_store.rebuild(_scope())
    assert outcome.status == "done"
    assert len(_supplier_ids("Widget Supplies Ltd", "Widgit Supplies Ltd")) == 1
    assert outcome.changes.merged_suppliers["supplier_name"].tolist() == ["Widgit Supplies Ltd"]
    assert matching.waiting_for_build(_scope()) == 0


def test_a_rejected_pair_is_remembered_and_not_proposed_again(review):
    df = matching.candidates(_scope())
    pair = df[df["supplier_name_b"] == "Widgit Supplies Ltd"]["pair"].tolist()
    assert matching.decide(df, pair, matching.DIFFERENT, DIRECTOR) == 1
    assert matching.decide(df, pair, matching.DIFFERENT, DIRECTOR) == 0  # never twice
    assert matching.non_matches()[["name_a", "name_b"]].values.tolist() == [["Widget Supplies Ltd", "Widgit Supplies Ltd"]]
    import_store.rebuild(_scope())
    mart = queries.supplier_match_candidates(_scope(), limit=1000)
    assert "Widgit Supplies Ltd" not in mart["supplier_name_b"].tolist()
    assert len(_supplier_ids("Widget Supplies Ltd", "Widgit Supplies Ltd")) == 2


def test_only_an_admin_decides(review):
    df = matching.candidates(_scope())
    with pytest.raises(PermissionError):
        matching.decide(df, df["pair"].tolist(), matching.SAME, ANALYST)


def test_an_alias_of_an_alias_points_at_the_name_kept():
    known = pd.DataFrame({"alias": ["B Ltd"], "canonical": ["C Ltd"]})
    assert matching._canonical("B Ltd", known) == "C Ltd"
    assert matching._canonical("A Ltd", known) == "A Ltd"


# --- the page, per role --------------------------------------------------------------------------


def _page(username: str, **params):
    return run_app(username, page="pages/data_quality.py", **params)


@pytest.mark.parametrize("username", ["director", "category.manager", "board", "trafford.officer"])
def test_each_role_opens_data_quality(app_env, username):
    at = _page(username, fy="2025-26")
    assert not at.exception, at.exception
    assert at.title[0].value == "Data quality"
    # Only the open view computes: coverage first, the classification charts under their own ?tab=.
    assert "tab" not in at.query_params  # coverage, the default view, stays out of the link
    assert len(at.get("plotly_chart")) == 1  # coverage
    if username != "trafford.officer":  # Trafford's May is partial too, but the caption is checked once
        caption = next(c.value for c in at.caption if c.value.startswith(":material/warning: Partial:"))
        assert "Rochdale, Apr 2025 partial: payments to 7 Apr 2025" in caption
    at = _page(username, fy="2025-26", tab="Classification and exclusions")
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 2  # unclassified, exclusions


def test_the_board_sees_counts_not_problem_rows(app_env):
    at = _page("board", fy="2025-26", tab="Rejected rows")
    frames = [d.value for d in at.dataframe]
    assert not any("source_row" in f.columns for f in frames)
    assert any("counted by reason" in i.value for i in at.info)


def test_an_analyst_sees_problem_rows_and_the_review_read_only(app_env):
    at = _page("category.manager", fy="2025-26", tab="Rejected rows")
    rows = next(d.value for d in at.dataframe if "source_row" in d.value.columns)
    assert sorted(rows["source_row"].tolist()) == [4, 5, 7, 8, 9]  # rejected and warnings by default
    at = _page("category.manager", fy="2025-26", tab="Supplier matching")
    assert not [m for m in at.multiselect if m.label == "Pairs to decide"]
    assert any("read-only" in i.value for i in at.info)


@pytest.mark.parametrize("tab", ["Coverage and freshness", "Rejected rows", "Classification and exclusions", "Supplier matching"])
def test_a_trafford_officer_never_sees_another_councils_rows(app_env, tab):
    at = _page("trafford.officer", fy="2025-26", tab=tab)
    for frame in (d.value for d in at.dataframe):
        if "council" in frame.columns:
            assert set(frame["council"]) <= {"Trafford"}, frame


def test_the_data_quality_view_is_in_the_address_and_a_garbage_one_falls_back(app_env):
    at = _page("director", fy="2025-26", tab="Rejected rows")
    assert at.segmented_control(key="tab").value == "Rejected rows"
    at.segmented_control(key="tab").set_value("Supplier matching").run()
    assert at.query_params["tab"] == "Supplier matching"
    at = _page("director", fy="2025-26", tab="<script>")
    assert not at.exception, at.exception
    assert at.segmented_control(key="tab").value == "Coverage and freshness"
    assert "tab" not in at.query_params  # the garbage is dropped; the default view stays out of the link


def test_an_admin_accepts_a_pair_on_the_page(review):
    at = _page("director", fy="2025-26", tab="Supplier matching")
    assert not at.exception
    picker = next(m for m in at.multiselect if m.label == "Pairs to decide")
    label = next(o for o in picker.options if "Widgit" in o)
    picker.set_value([label.split(" ")[0]]).run()
    next(b for b in at.button if b.label == "Same supplier: merge").click().run()
    assert not at.exception
    assert "Widgit Supplies Ltd,Widget Supplies Ltd,director" in (review / "reference/supplier_aliases.csv").read_text()
    assert any(i.value == "1 decision waits for the next build." for i in at.info)  # one pair picked


def test_the_first_supplier_decision_ever_recorded_creates_its_file(tmp_path, monkeypatch):
    """No alias or non-match file yet (a fresh reference folder): the decision is written, with its header."""
    from starviz import auth

    monkeypatch.setattr(matching, "_path", lambda name: tmp_path / name)
    monkeypatch.setattr(auth, "audit", lambda *a, **k: None)
    director = User("director", "Director", "admin")
    assert matching.record([("ABC Ltd", "A.B.C. Limited")], matching.SAME, director) == 1
    assert matching.record([("Acme Ltd", "Acme Plc")], matching.DIFFERENT, director) == 1
    assert list(matching.aliases()[matching.ALIAS_FIELDS[0]]) == ["A.B.C. Limited"]
    assert matching.decided_pairs() == {frozenset(("ABC Ltd", "A.B.C. Limited")), frozenset(("Acme Ltd", "Acme Plc"))}


# --- shares with credits larger than payments (the one share rule, sql/00_functions/known_share.sql) ---

APRIL = dt.date(2025, 4, 1)
# council, supplier, £, addressable, exclusion reason, category source
CREDIT_LINES = [
    ("x", "S1", 1000, True, None, "none"),
    ("x", "S2", 3000, True, None, "line"),
    ("x", "S3", 500, True, None, "none"),  # S3: a £2,000 credit against £500 paid nets -£1,500
    ("x", "S3", -2000, True, None, "none"),
    ("x", "S4", 1000, False, "levies", "line"),
    ("x", "S5", 100, False, "HMRC", "none"),  # S5: -£300 net
    ("x", "S5", -400, False, "HMRC", "none"),
    ("x", "S6", 1000, True, None, "supplier"),
    ("z", "S7", 1000, False, "levies", "line"),
    ("z", "S8", 100, True, None, "none"),  # S8: -£900 net; z's spend nets to £100 in all
    ("z", "S8", -1000, True, None, "none"),
    ("w", "S9", 100, True, None, "none"),  # w: its only supplier nets -£400: nothing to count
    ("w", "S9", -500, True, None, "none"),
]  # council y sent nothing


@pytest.fixture()
def credit_con():
    con = duckdb.connect()
    con.execute("create table dim_councils (council_id varchar, short_name varchar, sort_order integer, is_council boolean)")
    con.execute(
        "insert into dim_councils values ('x', 'X', 1, true), ('y', 'Y', 2, true), ('z', 'Z', 3, true), ('w', 'W', 4, true)"
    )
    con.execute(
        "create table fct_spend (council_id varchar, month date, supplier_id varchar, amount_gbp decimal(18, 2), "
        "is_addressable boolean, exclusion_reason varchar, category_source varchar)"
    )
    con.executemany("insert into fct_spend values (?, ?, ?, ?, ?, ?, ?)", [(c, APRIL, *rest) for c, *rest in CREDIT_LINES])
    build.create_sql(con, build.functions("known_share", "share_part", "share_base", "share_left_out", "supplier_net_spend"))
    con.execute((config.SQL_DIR / "queries" / "scope" / "in_scope.sql").read_text())
    con.execute((config.SQL_DIR / "30_marts" / "mart_classification_by_supplier_month.sql").read_text())
    yield con
    con.close()


def _frame(con, name: str, params: list) -> pd.DataFrame:
    return con.execute((config.SQL_DIR / "queries" / "quality" / f"{name}.sql").read_text(), params).df()


def test_classification_shares_net_credits_per_supplier_and_say_what_they_leave_out(credit_con):
    ids = ["x", "y", "z", "w"]
    got = _frame(credit_con, "unclassified_by_council", [ids, APRIL, APRIL, False, ids]).set_index("council")
    # X: positive supplier nets S1 1,000 (none), S2 3,000, S4 1,000, S6 1,000 (supplier) = 6,000; S3
    # (-1,500) and S5 (-300) are left out, 1,800. Before: -800 net unclassified of 4,200 net = -19.0%.
    assert got.loc["X", "unclassified_share"] == pytest.approx(1000 / 6000)
    assert got.loc["X", "from_supplier_share"] == pytest.approx(1000 / 6000)
    assert got.loc["X", "from_expense_type_share"] == 0
    assert got.loc["X", "share_left_out_gbp"] == 1800
    assert got.loc["X", "unclassified_gbp"] == 1000 - 1500 - 300  # amounts stay net spend
    # Z: only S7's 1,000 counts (S8 nets -900): no unclassified spend counted. Before: -900 / 100 = -900%.
    assert got.loc["Z", "unclassified_share"] == 0 and got.loc["Z", "share_left_out_gbp"] == 900
    # Y sent nothing and W's only supplier nets -400: both "no data", never 0%
    assert got.loc["Y", ["unclassified_share", "from_supplier_share", "from_expense_type_share"]].isna().all()
    assert got.loc["W", ["unclassified_share", "from_supplier_share", "from_expense_type_share"]].isna().all()
    assert got.loc["W", "share_left_out_gbp"] == 400
    # addressable only: X's S1, S2, S3, S6: 1,000 of 5,000, S3's 1,500 left out
    addressable = _frame(credit_con, "unclassified_by_council", [ids, APRIL, APRIL, True, ids]).set_index("council")
    assert addressable.loc["X", "unclassified_share"] == pytest.approx(0.2)
    assert addressable.loc["X", "share_left_out_gbp"] == 1500
    # the chart draws no bar for Y and W and writes "no data" where they would be
    fig = charts.unclassified_by_council(got.reset_index())
    assert sorted(a.y for a in fig.layout.annotations if a.text == "no data") == ["W", "Y"]
    assert {t for bar in fig.data for y, t in zip(bar.y, bar.text, strict=True) if y in ("W", "Y")} == {""}  # no "0.0%"


def test_excluded_shares_stay_within_0_and_100_percent_with_large_credits(credit_con):
    ids = ["x", "y", "z", "w"]
    got = _frame(credit_con, "exclusions_by_reason", [ids, APRIL, APRIL])
    rows = {(r.council, r.exclusion_reason): r for r in got.itertuples()}
    assert set(rows) == {("X", "levies"), ("X", "HMRC"), ("Z", "levies")}  # Y and W excluded nothing
    # X: levies 1,000 of the 6,000 counted (before: 1,000 / 4,200 = 23.8%); HMRC nets -300, left out
    # with S3 (1,800 in all) and counted as nothing (before: -300 / 4,200 = -7.1%)
    assert rows[("X", "levies")].share_of_total == pytest.approx(1000 / 6000)
    assert rows[("X", "HMRC")].share_of_total == 0 and rows[("X", "HMRC")].spend_gbp == -300
    assert rows[("X", "HMRC")].share_left_out_gbp == 1800
    # Z: levies 1,000 of 1,000 counted (S8's -900 left out). Before: 1,000 / 100 = 1,000%.
    assert rows[("Z", "levies")].share_of_total == pytest.approx(1.0)
    assert rows[("Z", "levies")].share_left_out_gbp == 900
