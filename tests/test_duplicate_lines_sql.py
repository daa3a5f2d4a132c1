"""mart_duplicate_spend_lines: the same council, transaction, date and amount in more than one file."""

from __future__ import annotations

import duckdb

from starviz import config


def test_lines_repeated_across_files_are_grouped_and_lines_repeated_in_one_file_are_not():
    con = duckdb.connect()
    con.execute(
        "create table fct_spend (council_id varchar, transaction_number varchar, payment_date date,"
        " amount_gbp decimal(18, 2), source_file varchar, source_row integer)"
    )
    con.execute(
        """insert into fct_spend values
        ('trafford', 'T1', '2025-04-03', 100.00, 'b.csv', 7),
        ('trafford', 'T1', '2025-04-03', 100.00, 'a.csv', 2),
        ('trafford', 'T2', null, 50.00, 'a.csv', 3),      -- no date in either file: still the same line
        ('trafford', 'T2', null, 50.00, 'b.csv', 4),
        ('trafford', 'T3', '2025-04-03', 10.00, 'a.csv', 5),  -- twice in one file: not across files
        ('trafford', 'T3', '2025-04-03', 10.00, 'a.csv', 6),
        ('stockport', 'T1', '2025-04-03', 100.00, 'c.csv', 1), -- another council's T1
        ('trafford', 'T4', '2025-04-03', 20.00, 'a.csv', 8),   -- another amount
        ('trafford', 'T4', '2025-04-03', 21.00, 'b.csv', 9),
        ('trafford', null, '2025-04-03', 30.00, 'a.csv', 10), -- no transaction number: not matched
        ('trafford', null, '2025-04-03', 30.00, 'b.csv', 11)"""
    )
    con.execute((config.ROOT / "sql" / "30_marts" / "mart_duplicate_spend_lines.sql").read_text())
    rows = con.execute(
        "select transaction_number, payment_date, count_lines, count_files, source_rows"
        " from mart_duplicate_spend_lines order by transaction_number"
    ).fetchall()
    assert [(r[0], str(r[1]), r[2], r[3], r[4]) for r in rows] == [
        ("T1", "2025-04-03", 2, 2, ["a.csv row 2", "b.csv row 7"]),
        ("T2", "None", 2, 2, ["a.csv row 3", "b.csv row 4"]),
    ]
