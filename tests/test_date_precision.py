"""Date precision kept from the source: a file that gives only the month ("Sep 2014") loads each
line as its 1st with precision 'month'; a file with days gives 'day'."""

from __future__ import annotations

import pytest

from starviz import config, fmt, ingest
from tests.conftest import sample


def test_month_only_dates_load_with_month_precision(councils, tmp_path):
    import duckdb

    con = duckdb.connect()
    ingest.create_tables(con)
    ingest.load_file(con, sample("stockport-2014", "Stockport September 2014.xls"), councils["stockport"], "spend", 1)
    assert con.execute("select distinct payment_date::varchar, payment_date_precision from raw_spend").fetchall() == [
        ("2014-09-01", "month")
    ]


def test_dates_with_days_load_with_day_precision(councils):
    import duckdb

    con = duckdb.connect()
    ingest.create_tables(con)
    ingest.load_file(con, sample("trafford-2014", "Trafford September 2014.csv"), councils["trafford"], "spend", 1)
    assert con.execute("select distinct payment_date_precision from raw_spend").fetchall() == [("day",)]


def test_precision_is_kept_per_line_in_a_file_mixing_month_and_day_dates(councils, tmp_path):
    """Stockport's formats list a month-only one first ("%b %Y"): each line still reads with a day
    when it has one, and says so; a date no format reads is rejected naming file, row and column."""
    import duckdb

    from tests.fixtures.extracts import write_csv

    rows = [["Clearing Date", "Amount £", "Supplier Name"]]
    rows += [[d, "600.00", "ABC Ltd"] for d in ["Sep 2014", "15/09/2014", "2014-09-16", "31/13/2014", "Sep 2014"]]
    con = duckdb.connect()
    ingest.create_tables(con)
    (result,) = ingest.load_file(con, write_csv(tmp_path / "mixed.csv", rows), councils["stockport"], "spend", 1)
    got = con.execute("select source_row, payment_date::varchar, payment_date_precision from raw_spend order by 1").fetchall()
    assert got == [
        (2, "2014-09-01", "month"),
        (3, "2014-09-15", "day"),
        (4, "2014-09-16", "day"),
        (6, "2014-09-01", "month"),
    ]
    assert result.rows_rejected == 1
    assert con.execute("select source_file, source_row, column_name, value, severity from rejects").fetchall() == [
        ("mixed.csv", 5, "Clearing Date", "31/13/2014", "rejected")
    ]


def test_the_build_keeps_each_lines_precision(db):
    rows = dict(db.execute("select council_id, list(distinct date_precision) from fct_spend group by 1").fetchall())
    assert set(rows) and all(set(v) <= {"day", "month"} for v in rows.values())


def _split_members(lines: list[tuple[str, str, str, float]]) -> list[tuple[str, str]]:
    """The split-order rule's members for May 2025, over stand-in payment lines
    (date, precision, month, amount), one council and supplier, none on contract."""
    import datetime as dt

    import duckdb

    from starviz.queries import pipeline

    con = duckdb.connect()
    con.execute("create macro in_scope(council_id, ids) as list_contains(ids, council_id)")
    con.execute(
        "create table mart_supplier_payments_by_line (line_id varchar, council_id varchar, supplier_id varchar, "
        "payment_date date, date_precision varchar, month date, amount_gbp double, is_on_contract boolean, "
        "is_addressable boolean, is_redacted boolean)"
    )
    for i, (day, precision, month, amount) in enumerate(lines):
        con.execute(
            "insert into mart_supplier_payments_by_line values (?, 'stockport', 'S1', ?, ?, ?, ?, false, true, false)",
            [f"L{i}", day, precision, month, amount],
        )
    params = {
        "thresholds": [5000.0],
        "below_share": 0.1,
        "window_days": 30,
        "min_lines": 2,
        "ids": ["stockport"],
        "month": dt.date(2025, 5, 1),
        "month_end": dt.date(2025, 5, 31),
        "window_start": dt.date(2025, 4, 1),
        "addressable": False,
    }
    sql = pipeline._SPLIT_MEMBERS + "select payment_date::varchar, date_precision from members order by 1"
    return con.execute(sql, params).fetchall()


def test_month_precision_lines_of_consecutive_months_are_not_a_split_order():
    # "Apr 2025" and "May 2025" as published: their 1sts are 30 days apart, the payments perhaps 60
    lines = [("2025-04-01", "month", "2025-04-01", 4900.0), ("2025-05-01", "month", "2025-05-01", 4800.0)]
    assert _split_members(lines) == []


def test_month_precision_lines_of_one_month_can_be_a_split_order():
    lines = [("2025-05-01", "month", "2025-05-01", 4900.0), ("2025-05-01", "month", "2025-05-01", 4800.0)]
    assert [p for _, p in _split_members(lines)] == ["month", "month"]


def test_day_precision_lines_keep_the_thirty_day_window():
    lines = [("2025-04-20", "day", "2025-04-01", 4900.0), ("2025-05-10", "day", "2025-05-01", 4800.0)]
    assert len(_split_members(lines)) == 2


def test_a_month_precision_date_reads_as_the_month_a_day_as_the_day():
    import datetime as dt

    from starviz.scope import line_date_text

    assert line_date_text(dt.date(2026, 10, 1), "month") == "Oct 2026"
    assert line_date_text(dt.date(2026, 10, 1), "day") == "01 Oct 2026"
    assert line_date_text(None, "day") == ""


@pytest.fixture()
def fixture_db(fixture_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def test_freshness_speaks_in_months_for_a_council_publishing_months(fixture_db):
    import datetime as dt

    from starviz import queries
    from starviz.scope import Filters, User

    user = User("d", "D", "admin")
    # the Stockport fixture dates its lines "Apr 2025", "May 2025" (as the real file does); Trafford gives days
    fresh = queries.freshness(
        queries.Scope(Filters(councils=("stockport", "trafford"), period="all"), user), today=dt.date(2025, 9, 15)
    )
    spend = fresh[fresh["dataset"] == "spend"].set_index("council")
    assert spend.loc["Stockport", "date_precision"] == "month"
    assert spend.loc["Stockport", "data_up_to"] == "May 2025" and spend.loc["Stockport", "age"] == "4 months"
    # Trafford's data ends in May too (1 May: aged from 31 May, 107 days): past 90 days an age is in months
    # for every council, so the two read alike; a young age of a council giving days stays in days
    assert spend.loc["Trafford", "date_precision"] == "day" and spend.loc["Trafford", "age"] == "4 months"
    assert (fmt.age(45), fmt.age(45, by_month=True)) == ("45 days", "1 month")


def test_drill_down_lines_carry_their_date_precision(fixture_db):
    from starviz import queries
    from starviz.scope import Filters, User

    scope = queries.Scope(Filters(councils=("stockport",), period="all", addressable_only=False), User("d", "D", "admin"))
    lines = queries.drill_lines(scope, ())
    assert set(lines["date_precision"]) == {"month"}


def _expired(
    lines: list[tuple[str, str]], contracts: list[tuple[str, str, str]], columns: str = "strftime(month, '%Y-%m'), contract_id"
) -> list[tuple]:
    """The expiry-but-paid mart over stand-in tables: off-contract lines (payment date, precision) of
    one council and supplier, and that supplier's contracts (id, start, maximum end)."""
    from pathlib import Path

    import duckdb

    con = duckdb.connect()
    con.execute(
        "create table fct_spend (line_id varchar, council_id varchar, supplier_id varchar, payment_date date, "
        "date_precision varchar, month date, amount_gbp double, is_addressable boolean, is_on_contract boolean)"
    )
    for i, (day, precision) in enumerate(lines):
        con.execute(
            "insert into fct_spend values (?, 'stockport', 'S1', ?, ?, date_trunc('month', ?::date), 100, true, false)",
            [f"L{i}", day, precision, day],
        )
    con.execute(
        "create table fct_contracts (contract_id varchar, covered_council_ids varchar[], supplier_id varchar, "
        "start_date date, max_end_date date)"
    )
    for contract_id, start, end in contracts:
        con.execute("insert into fct_contracts values (?, ['stockport'], 'S1', ?, ?)", [contract_id, start, end])
    con.execute(Path("sql/30_marts/mart_expired_contract_spend_by_month.sql").read_text())
    return con.execute(f"select {columns} from mart_expired_contract_spend_by_month order by 1").fetchall()


def test_a_month_precision_line_is_expired_only_when_the_contract_ended_before_its_month():
    # "Sep 2025" as published, kept as 1 Sep: a contract ending 31 Aug ended before it; one ending
    # 15 Sep may have been live when it was paid (the line is then "on contract" or not flagged)
    ended_august = [("C1", "2024-09-01", "2025-08-31")]
    assert _expired([("2025-09-01", "month")], ended_august) == [("2025-09", "C1")]
    assert _expired([("2025-09-01", "month")], [("C1", "2024-09-01", "2025-09-15")]) == []


def test_a_month_precision_line_in_a_month_a_new_contract_began_is_not_expired():
    # C1 ended in August; C2 with the same supplier began on 15 September. "Sep 2025" is kept as
    # 1 Sep, before C2 began, so it is off contract on its stored day; but it may have been paid on
    # the 20th, under C2: by the month it is not spend after an expired contract.
    contracts = [("C1", "2024-09-01", "2025-08-31"), ("C2", "2025-09-15", "2026-09-14")]
    assert _expired([("2025-09-01", "month")], contracts) == []


def test_day_precision_lines_keep_the_day_rule():
    # paid on 1 Sep, C2 not yet begun: after C1 ended, with no live contract that day
    contracts = [("C1", "2024-09-01", "2025-08-31"), ("C2", "2025-09-15", "2026-09-14")]
    assert _expired([("2025-09-01", "day")], contracts) == [("2025-09", "C1")]
    # paid on C1's last day: on contract (the line mart would not list it as off contract); a day after: expired
    assert _expired([("2025-08-31", "day")], [("C1", "2024-09-01", "2025-08-31")]) == []
    assert _expired([("2025-09-01", "day")], [("C1", "2024-09-01", "2025-08-31")]) == [("2025-09", "C1")]


def test_the_last_payment_of_an_expired_contract_keeps_its_precision():
    # the exception report showed "Sep 2025" as "01 Sep 2025": the list needs the precision of the
    # line that gave the last payment date
    ended_august = [("C1", "2024-09-01", "2025-08-31")]
    columns = "strftime(month, '%Y-%m'), last_payment_date::varchar, last_payment_precision"
    assert _expired([("2025-09-01", "month")], ended_august, columns) == [("2025-09", "2025-09-01", "month")]
    assert _expired([("2025-09-01", "month"), ("2025-09-12", "day")], ended_august, columns) == [("2025-09", "2025-09-12", "day")]
    import datetime

    from starviz.scope import line_date_text

    assert line_date_text(datetime.date(2025, 9, 1), "month") == "Sep 2025"
