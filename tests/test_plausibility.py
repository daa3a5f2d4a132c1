"""Values that parse but cannot be true are rejected like unreadable ones (file, row, column, reason)."""

from __future__ import annotations

import datetime as dt

from starviz import ingest
from tests.fixtures.extracts import TRAFFORD_SPEND, write_csv


def _spend(tmp_path, councils, lines: list[tuple[str, str]]):
    header = TRAFFORD_SPEND[0]
    date_at, amount_at = header.index("PaymentDate"), header.index("Amount")
    rows = [header]
    for date, amount in lines:
        row = list(TRAFFORD_SPEND[1])
        row[date_at], row[amount_at] = date, amount
        rows.append(row)
    return ingest.check_file(write_csv(tmp_path / "spend.csv", rows), councils["trafford"], "spend")


def test_a_far_future_or_ancient_payment_date_is_rejected_with_its_row(tmp_path, councils):
    first, last = ingest.plausible_dates()
    summary, rejects = _spend(tmp_path, councils, [("31/12/9999", "10"), ("1999-12-31", "10"), ("2025-04-01", "10")])
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 2)
    why = (
        f"implausible date: outside 1 Jan 2000 to {last:%-d %b %Y} (the build date plus 1 month(s)); "
        "[plausibility] in data/settings.toml"
    )
    assert [(r[1], r[2], r[3], r[4]) for r in rejects] == [
        (2, "PaymentDate", "31/12/9999", why),
        (3, "PaymentDate", "1999-12-31", why),
    ]
    assert first == dt.date(2000, 1, 1)


def test_the_date_window_ends_a_month_after_the_build_date():
    assert ingest.plausible_dates(dt.date(2026, 1, 31))[1] == dt.date(2026, 2, 28)
    assert ingest.plausible_dates(dt.date(2026, 12, 6))[1] == dt.date(2027, 1, 6)


def test_malformed_thousands_grouping_and_absurd_amounts_are_rejected(tmp_path, councils):
    summary, rejects = _spend(
        tmp_path,
        councils,
        [("2025-04-01", "1,2,3"), ("2025-04-01", "9,999,999,999,999,999.99"), ("2025-04-01", "1,234,567.89")],
    )
    assert summary.rows_loaded == 1 and summary.amount_total == ingest.Decimal("1234567.89")
    assert [(r[1], r[3], r[4]) for r in rejects] == [
        (2, "1,2,3", "cannot read amount: expected an amount like 1,234.56"),
        (3, "9,999,999,999,999,999.99", "implausible amount: beyond ±£1,000,000,000; [plausibility] in data/settings.toml"),
    ]


def test_a_stray_far_future_date_in_the_database_stops_no_page(fixture_build, tmp_path, monkeypatch):
    """A database built before the rules held 31/12/9999: every page opened with a traceback."""
    import shutil

    import duckdb

    from starviz import config
    from tests.conftest import run_app

    db = tmp_path / "star.duckdb"
    shutil.copy(fixture_build.db_path, db)
    con = duckdb.connect(str(db))
    for (table,) in con.execute("select table_name from information_schema.tables where table_type = 'BASE TABLE'").fetchall():
        columns = {r[0] for r in con.execute(f"describe {table}").fetchall()}
        for column in ("payment_date", "month"):
            if column in columns:
                con.execute(f"insert into {table} select * replace (DATE '9999-12-01' as {column}) from {table} limit 1")
    con.close()
    monkeypatch.setenv("STARVIZ_DB", str(db))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    try:
        for page in ["pages/overview.py", "pages/benchmarking.py", "pages/social_value.py", "pages/present.py"]:
            at = run_app("director", page)
            assert not at.exception, (page, at.exception[0].value)
        assert not run_app("director", "pages/overview.py", fy="all").exception
    finally:
        config.settings.cache_clear()


def test_month_arithmetic_holds_at_the_ends_of_the_calendar():
    from starviz.scope import add_months, month_end

    assert month_end(dt.date(9999, 12, 1)) == dt.date(9999, 12, 31)
    assert add_months(dt.date(9999, 12, 1), 1) == dt.date(9999, 12, 1)
    assert month_end(dt.date(2024, 2, 10)) == dt.date(2024, 2, 29)
