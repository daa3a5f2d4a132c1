"""The real published files in ../shared/samples read exactly as the councils published them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from decimal import Decimal

import duckdb

from starviz import config, ingest
from tests.conftest import sample


def test_trafford_2024_25_zip_through_check_json_matches_the_published_totals():
    path = sample("trafford-current", "trafford-supplier-spend-2024-25.zip")
    out = subprocess.run(
        [sys.executable, "-m", "starviz", "check", str(path), "--council", "trafford", "--dataset", "spend", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=config.ROOT,
    )
    result = json.loads(out.stdout)
    assert result["rows_read"] == 210068
    assert result["rows_loaded"] == 210068
    assert result["rows_rejected"] == 0
    assert result["amount_total_text"] == "565219573.74"
    assert result["first_date"] == "2024-04-02" and result["last_date"] == "2025-03-31"


def test_stockport_2014_legacy_xls_gives_2620_rows(councils):
    summary, rejects = ingest.check_file(sample("stockport-2014", "Stockport September 2014.xls"), councils["stockport"], "spend")
    assert summary.rows_read == 2620 and summary.rows_loaded == 2620 and rejects == []
    assert str(summary.first_date) == "2014-09-01"


def test_trafford_2014_layout_gives_9670_rows_with_thousands_separators(councils):
    summary, _ = ingest.check_file(sample("trafford-2014", "Trafford September 2014.csv"), councils["trafford"], "spend")
    assert summary.rows_read == 9670 and summary.rows_loaded == 9670
    assert summary.amount_total > Decimal("1000000")
    assert summary.mapping["payment_date"] == "Date" and summary.mapping["amount_gbp"] == "Amount"


def test_every_row_of_a_big_real_file_keeps_the_row_a_spreadsheet_shows(councils):
    """Rows are numbered as they stream into the raw table; DuckDB reads a file this size in
    parallel, and each loaded row must still carry its own row number."""
    path = sample("trafford-current", "trafford-supplier-spend-2025-26.zip")
    con = duckdb.connect()
    ingest.create_tables(con)
    ingest.load_file(con, path, councils["trafford"], "spend", 1)
    loaded = con.execute("select source_row, transaction_number, amount_gbp from raw_spend order by source_row").fetchall()
    with zipfile.ZipFile(path) as archive, archive.open(archive.namelist()[0]) as fh:
        rows = csv.reader(io.TextIOWrapper(fh, "utf-8-sig", newline=""))
        header = next(rows)
        tx, amount = header.index("TransactionNumber"), header.index("Amount")
        expected = [(n, r[tx].strip() or None, Decimal(r[amount])) for n, r in enumerate(rows, start=2)]
    assert loaded == expected
