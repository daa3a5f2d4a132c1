"""Parsing every date and amount style the partners publish, and bad input named precisely."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from starviz import ingest
from tests.fixtures.extracts import TRAFFORD_SPEND, write_csv, write_xlsx

DATE_CASES = [
    ("stockport", "Sep 2014", dt.date(2014, 9, 1)),
    ("trafford", "24/09/2014", dt.date(2014, 9, 24)),
    ("tameside", "24/09/14", dt.date(2014, 9, 24)),
    ("trafford", "2025-03-31", dt.date(2025, 3, 31)),
    ("rochdale", "05-Mar-24", dt.date(2024, 3, 5)),
]

AMOUNT_CASES = [
    ("trafford", "1,100.00", Decimal("1100.00")),
    ("rochdale", "-£16,902.11", Decimal("-16902.11")),
    ("rochdale", "(1,234.50)", Decimal("-1234.50")),
    ("rochdale", "(£1,234.50)", Decimal("-1234.50")),
    ("tameside", " 973.62 ", Decimal("973.62")),
    ("tameside", "120.00-", Decimal("-120.00")),
    ("rochdale", "£2,681.94", Decimal("2681.94")),
    ("trafford", "-16.66", Decimal("-16.66")),
    ("stockport", "1134.5", Decimal("1134.50")),
]


def _one_line_spend(tmp_path: Path, council, date: str, amount: str) -> Path:
    ds = council.datasets["spend"]
    headers = [ds.fields["payment_date"][0], ds.fields["amount_gbp"][0], ds.fields["supplier_name"][0]]
    path = tmp_path / f"{council.id}.csv"
    with path.open("w", encoding=ds.encoding, newline="") as fh:
        fh.write(",".join(headers) + "\n")
        fh.write(f'{date},"{amount}",ABC Ltd\n')
    return path


def _check_csv(tmp_path, councils, council_id, date, amount):
    council = councils[council_id]
    # Stockport publishes Excel; the parsing rules are the same for its text cells in a CSV.
    if council_id == "stockport":
        council = council.model_copy(
            update={"datasets": {"spend": council.datasets["spend"].model_copy(update={"patterns": ["*.csv"]})}}
        )
    return ingest.check_file(_one_line_spend(tmp_path, council, date, amount), council, "spend")


@pytest.mark.parametrize(("council_id", "text", "expected"), DATE_CASES)
def test_each_published_date_style_parses(tmp_path, councils, council_id, text, expected):
    summary, rejects = _check_csv(tmp_path, councils, council_id, text, "10.00")
    assert rejects == []
    assert summary.first_date == expected


@pytest.mark.parametrize(("council_id", "text", "expected"), AMOUNT_CASES)
def test_each_published_amount_style_parses_to_the_penny(tmp_path, councils, council_id, text, expected):
    date = {"stockport": "Sep 2014", "tameside": "24/09/14", "rochdale": "05-Mar-24"}.get(council_id, "2025-03-31")
    summary, rejects = _check_csv(tmp_path, councils, council_id, date, text)
    assert rejects == []
    assert summary.amount_total == expected


def test_unparseable_date_and_na_amount_are_rejected_with_file_row_and_column(tmp_path, councils):
    path = write_csv(tmp_path / "t.csv", TRAFFORD_SPEND, bom=True)
    summary, rejects = ingest.check_file(path, councils["trafford"], "spend")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (10, 8, 2)
    by_row = {r[1]: r for r in rejects}
    assert by_row[7][0] == "t.csv" and by_row[7][2] == "PaymentDate" and by_row[7][3] == "31/04/2025"
    assert "date" in by_row[7][4]
    assert by_row[8][2] == "Amount" and by_row[8][3] == "N/A" and "amount" in by_row[8][4]


def test_rows_read_equal_rows_loaded_plus_rows_rejected_with_blank_and_total_rows(fixture_build):
    tameside = next(f for f in fixture_build.files if f.council_id == "tameside")
    assert tameside.rows_read == tameside.rows_loaded + tameside.rows_rejected == 5
    assert tameside.reasons == {"blank row": 1, "summary row (skipped by config rule)": 1}


def test_empty_file_is_refused_by_name(tmp_path, councils):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed" and "empty.csv" in summary.message and "empty" in summary.message


def test_header_only_file_says_there_are_no_rows(tmp_path, councils):
    path = write_csv(tmp_path / "header.csv", TRAFFORD_SPEND[:1])
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed" and "no data rows" in summary.message


def test_unknown_headers_name_missing_fields_and_list_headers_found(tmp_path, councils):
    path = write_csv(tmp_path / "odd.csv", [["When", "HowMuch", "Who"], ["2025-01-01", "1", "x"]])
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed"
    assert "payment_date" in summary.message and "amount_gbp" in summary.message
    assert "'When', 'HowMuch', 'Who'" in summary.message and "odd.csv" in summary.message


def test_truncated_xlsx_is_refused_clearly(tmp_path, councils):
    good = write_xlsx(tmp_path / "good.xlsx", [["Clearing Date", "Amount £", "Supplier Name"], ["Apr 2025", 1, "x"]])
    bad = tmp_path / "cut.xlsx"
    bad.write_bytes(good.read_bytes()[:300])
    summary, _ = ingest.check_file(bad, councils["stockport"], "spend")
    assert summary.status == "failed" and "cut.xlsx" in summary.message and "spreadsheet" in summary.message


def test_windows_1252_file_keeps_pound_and_accents(fixture_build, db):
    purpose = db.execute("select purpose from fct_spend where council_id = 'rochdale' and source_row = 2").fetchone()[0]
    assert purpose == "Repairs – café"


def test_disallowed_file_type_is_refused(tmp_path, councils):
    path = tmp_path / "evil.py"
    path.write_text("print('x')")
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed" and "not allowed" in summary.message


def test_files_read_in_parallel_give_what_one_at_a_time_gives_in_file_order(fixture_raw, councils, tmp_path):
    import duckdb

    from starviz import build

    broken = tmp_path / "broken.csv"
    broken.write_text("Nothing,We,Know\n1,2,3\n", encoding="utf-8")
    files = build.discover(fixture_raw, councils)
    jobs = [ingest.Job(path, council, dataset, n, path.name) for n, (council, dataset, path) in enumerate(files, 1)]
    jobs.insert(2, ingest.Job(broken, councils["trafford"], "spend", 999, "broken.csv"))

    def load(workers: int):
        con = duckdb.connect()
        ingest.create_tables(con)
        con.execute("set threads = 3")
        results = ingest.load_files(con, jobs, workers)
        # files are read one DuckDB thread each; what the build does next gets its threads back
        assert con.execute("select current_setting('threads')").fetchone()[0] == 3
        rows = con.execute("select file_id, count(*), sum(amount_gbp) from raw_spend group by all order by 1").fetchall()
        rejects = con.execute("select count(*) from rejects").fetchone()[0]
        return results, rows, rejects

    one_by_one, rows_1, rejects_1 = load(1)
    parallel, rows_2, rejects_2 = load(2)
    assert rows_2 == rows_1 and rejects_2 == rejects_1 and rows_1
    assert isinstance(parallel[2], ingest.IngestError) and "broken.csv" in str(parallel[2])
    for job, a, b in zip(jobs, one_by_one, parallel, strict=True):
        if isinstance(a, ingest.IngestError):
            assert str(a) == str(b)
        else:
            assert [(r.source_file, r.rows_read, r.rows_loaded, r.amount_total) for r in a] == [
                (r.source_file, r.rows_read, r.rows_loaded, r.amount_total) for r in b
            ]
            assert all(r.source_file.startswith(job.label) for r in b)


def test_a_zip_whose_second_member_fails_leaves_no_row_of_the_first(tmp_path, councils):
    # The ledger marks the whole ZIP failed; the first member's rows stayed in raw_spend before, so
    # the pages counted part of a file the data quality page said was not loaded.
    import zipfile

    import duckdb

    council = councils["trafford"]
    good = _one_line_spend(tmp_path, council, "24/09/2014", "10.00")
    header_only = good.read_text(encoding=council.datasets["spend"].encoding).splitlines()[0] + "\n"
    with zipfile.ZipFile(tmp_path / "month.zip", "w") as zf:
        zf.write(good, "a.csv")
        zf.writestr("b.csv", header_only)
    con = duckdb.connect()
    ingest.create_tables(con)
    with pytest.raises(ingest.IngestError, match=r"b\.csv: no data rows"):
        ingest.load_file(con, tmp_path / "month.zip", council, "spend", 7)
    assert con.execute("select count(*) from raw_spend").fetchone()[0] == 0
    assert con.execute("select count(*) from rejects").fetchone()[0] == 0
    # the same ZIP without the bad member loads its one row
    with zipfile.ZipFile(tmp_path / "good.zip", "w") as zf:
        zf.write(good, "a.csv")
    assert [r.rows_loaded for r in ingest.load_file(con, tmp_path / "good.zip", council, "spend", 8)] == [1]
