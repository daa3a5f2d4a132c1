"""Files as councils and careless uploaders really produce them: the encoding, delimiter and
header row not what the settings say, headers written another way, web pages saved as CSV.
Each is read (with a note saying what differed) or refused in one plain line naming the file."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from starviz import ingest
from tests.fixtures.extracts import STOCKPORT_SPEND, TRAFFORD_SPEND

HEADER = TRAFFORD_SPEND[0]  # Trafford's current layout


def _text(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


def _record(supplier: str = "ABC Ltd", amount: str = "1500.00", date: str = "2025-04-10", n: int = 1) -> list[str]:
    values = dict(zip(HEADER, TRAFFORD_SPEND[1], strict=True))
    values.update(BeneficiaryName=supplier, Amount=amount, PaymentDate=date, TransactionNumber=f"T{n}")
    return [values[h] for h in HEADER]


def _check(path: Path, councils, data: bytes | str):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    summary, rejects = ingest.check_file(path, councils["trafford"], "spend", preview_limit=20)
    return summary, rejects


def test_utf8_with_bom_and_stray_windows_1252_bytes_is_read_with_a_note(tmp_path, councils):
    # Excel-edited: saved with a UTF-8 byte order mark, but one pasted name carries Windows-1252 bytes
    body = _text([HEADER, _record("Café Nero Ltd", n=1), _record("Smith & Sons", n=2)])
    data = b"\xef\xbb\xbf" + body.replace("Café", "CAFE_").encode("utf-8").replace(b"CAFE_", "Café".encode("cp1252"))
    summary, rejects = _check(tmp_path / "spend.csv", councils, data)
    assert summary.status == "loaded" and summary.rows_loaded == 2 and not rejects
    assert [r["supplier_name"] for r in summary.preview] == ["Café Nero Ltd", "Smith & Sons"]
    assert "spend.csv: row 2: characters that are not UTF-8 were read as Windows-1252 (é)" in summary.message


def test_a_strict_encoding_still_names_the_row(tmp_path, councils):
    trafford = councils["trafford"]
    spend = trafford.datasets["spend"].model_copy(update={"encoding": "ascii"})
    council = trafford.model_copy(update={"datasets": {**trafford.datasets, "spend": spend}})
    path = tmp_path / "latin.csv"
    path.write_bytes("PaymentDate,Amount,BeneficiaryName\n2025-01-01,1.00,ok\n2025-01-02,2.00,Caf\xe9 Ltd\n".encode("cp1252"))
    summary, _ = ingest.check_file(path, council, "spend")
    assert summary.status == "failed"
    assert "latin.csv: row 3: bytes" in summary.message and "'ascii'" in summary.message


def test_semicolon_and_tab_files_are_read_with_a_note(tmp_path, councils):
    for delimiter, word in ((";", "semicolons"), ("\t", "tabs")):
        summary, rejects = _check(tmp_path / "spend.csv", councils, _text([HEADER, _record("A, B and C Ltd")], delimiter))
        assert summary.status == "loaded" and summary.rows_loaded == 1 and not rejects, summary.message
        assert summary.preview[0]["supplier_name"] == "A, B and C Ltd"
        assert f"the columns are separated by {word}, not commas" in summary.message


def test_title_and_blank_rows_above_the_header_are_skipped_and_rows_keep_their_numbers(tmp_path, councils):
    rows = [["Trafford Council: payments to suppliers, April 2025"], [], HEADER, _record(n=1), _record(amount="ten", n=2)]
    summary, rejects = _check(tmp_path / "spend.csv", councils, _text(rows))
    assert summary.rows_read == 2 and summary.rows_loaded == 1
    assert "the header is on row 3, not row 1" in summary.message
    assert [(r[1], r[2], r[3]) for r in rejects] == [(5, "Amount", "ten")]  # the row a spreadsheet shows


def test_headers_written_another_way_are_matched(tmp_path, councils):
    loose = [h.replace("PaymentDate", "Payment_Date ").replace("BeneficiaryName", "beneficiary name") for h in HEADER]
    loose = [h.upper() if h == "Amount" else h for h in loose]
    summary, _ = _check(tmp_path / "spend.csv", councils, _text([loose, _record()]))
    assert summary.status == "loaded" and summary.amount_total == Decimal("1500.00")
    assert summary.mapping["payment_date"] == "Payment_Date " and summary.mapping["supplier_name"] == "beneficiary name"


def test_a_duplicated_header_says_which_column_is_read(tmp_path, councils):
    summary, _ = _check(tmp_path / "spend.csv", councils, _text([[*HEADER, "Amount"], [*_record(), "99.00"]]))
    assert summary.amount_total == Decimal("1500.00")
    assert "column E ('Amount') is read; column L has the same header and is not read" in summary.message


def test_utf16_unicode_text_from_excel_is_read(tmp_path, councils):
    data = _text([HEADER, _record("Café Ltd")], "\t").encode("utf-16")  # Excel's "Unicode text": BOM, tabs
    summary, rejects = _check(tmp_path / "spend.txt", councils, data)
    assert summary.status == "loaded" and not rejects and summary.preview[0]["supplier_name"] == "Café Ltd"
    assert "read as UTF-16" in summary.message


def test_a_web_page_saved_as_csv_is_refused_in_plain_words(tmp_path, councils):
    page = "\ufeff<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>Password</form></body></html>\n"
    for name in ("spend.csv", "spend.xls"):
        summary, _ = _check(tmp_path / name, councils, page)
        assert summary.status == "failed"
        assert summary.message.startswith(f"{name}: this is a web page (HTML), not a table")
        assert "\n" not in summary.message and str(tmp_path) not in summary.message


def test_a_row_with_more_cells_than_the_header_is_rejected_and_the_rest_loaded(tmp_path, councils):
    # a supplier name with a comma, not quoted: the row has one cell too many and its values are shifted
    shifted = ",".join(_record(n=2)).replace("ABC Ltd", "Smith, J Ltd")
    body = _text([HEADER, _record(n=1)]) + shifted + "\r\n" + _text([_record(n=3)])
    summary, rejects = _check(tmp_path / "spend.csv", councils, body)
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (3, 2, 1)
    assert summary.amount_total == Decimal("3000.00")
    assert [r[1:4] for r in rejects] == [(3, "column L", "T2")]  # the last cell, pushed past the header
    assert rejects[0][4].startswith("this row has more cells than the header's 11 columns: perhaps a value holds a comma")


def test_a_lone_line_break_after_a_quoted_one_names_the_spreadsheet_row(tmp_path, councils):
    rows = [HEADER, _record(n=1), _record(n=2), _record(n=3)]
    rows[1][HEADER.index("Purpose")] = "two\r\nlines"  # quoted by the writer: one spreadsheet row
    body = _text(rows)
    body = body.replace(",Roof repair,", ",Roof\nrepair,")  # typed into rows 3 and 4, not quoted: bare LF
    assert body.count("\nrepair") == 2  # rows 3 and 4
    summary, _ = _check(tmp_path / "spend.csv", councils, body)
    assert summary.status == "failed"
    assert summary.message.startswith("spend.csv: row 3, column Purpose: a line break inside a value that is not in quotes")


def test_a_file_cut_short_inside_quotes_says_so(tmp_path, councils):
    body = _text([HEADER, _record(n=1)]) + '"Trafford Council","2025-04-11","ABC'
    summary, _ = _check(tmp_path / "spend.csv", councils, body)
    assert summary.status == "failed"
    assert 'row 3: cannot read as CSV: a quote (") opened in this row is never closed: the file may be cut short' in (
        summary.message
    )


def test_an_empty_member_of_a_zip_is_skipped_with_a_note(tmp_path, councils):
    import zipfile

    path = tmp_path / "spend.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("april.csv", _text([HEADER, _record()]))
        archive.writestr("may.csv", "")
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "loaded" and summary.rows_loaded == 1
    assert summary.message == "spend.zip: may.csv inside it is empty (0 bytes) and was skipped"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("may.csv", "")
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed" and summary.message == "spend.zip: every file inside the ZIP is empty (0 bytes): may.csv"


# --- spreadsheets --------------------------------------------------------------------------------

STOCKPORT = STOCKPORT_SPEND[0][:7]  # its published columns up to the supplier


def _stockport(supplier: str, date: object = "Sep 2014", amount: object = 600.5, n: int = 1) -> list:
    return ["SMBC", "ADULT SOCIAL CARE", "PREMISES RELATED", date, 1900502870 + n, amount, supplier]


def _workbook(path: Path, sheets: dict[str, list[list]], merge: str | None = None) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if merge:
        book.worksheets[-1].merge_cells(merge)
    book.save(path)
    return path


def _check_sheet(path: Path, councils):
    return ingest.check_file(path, councils["stockport"], "spend", preview_limit=20)


def test_the_data_on_a_later_sheet_under_a_merged_title_is_found(tmp_path, councils):
    notes = [["About this file"], ["Payments over £500, September 2014"]]
    data = [["Stockport Council: spend over £500"], STOCKPORT, _stockport("1ST ALARM SECURITY")]
    path = _workbook(tmp_path / "spend.xlsx", {"Notes": notes, "Sep 14 Over £500 Spend": data}, merge="A1:G1")
    summary, rejects = _check_sheet(path, councils)
    assert summary.status == "loaded" and summary.rows_loaded == 1 and not rejects, summary.message
    assert summary.preview[0]["source_row"] == 3 and summary.preview[0]["supplier_name"] == "1ST ALARM SECURITY"
    assert "the data is on sheet 'Sep 14 Over £500 Spend', not sheet 1 as the council's settings say" in summary.message
    assert "the header is on row 2, not row 1" in summary.message


def test_a_date_column_with_serials_text_and_date_cells_and_amounts_as_text(tmp_path, councils):
    import datetime as dt

    rows = [
        STOCKPORT,
        _stockport("A", dt.datetime(2014, 9, 3), 600.5, 1),
        _stockport("B", "04/09/2014", "£1,234.56", 2),  # text typed over the cells
        _stockport("C", 41887, "(1,234.56)", 3),  # a date whose format was lost: its serial, 5 Sep 2014
        _stockport("D", "Sep 2014", "-", 4),  # no amount: rejected, never 0
        _stockport("E", "Sep 2014", None, 5),
    ]
    summary, rejects = _check_sheet(_workbook(tmp_path / "spend.xlsx", {"Data": rows}), councils)
    got = [(r["supplier_name"], r["payment_date"], r["payment_date_precision"], r["amount_gbp"]) for r in summary.preview]
    assert got == [
        ("A", dt.date(2014, 9, 3), "day", Decimal("600.50")),
        ("B", dt.date(2014, 9, 4), "day", Decimal("1234.56")),
        ("C", dt.date(2014, 9, 5), "day", Decimal("-1234.56")),
    ]
    assert [(r[1], r[2], r[3]) for r in rejects] == [(5, "Amount £", "-"), (6, "Amount £", None)]


def test_a_spreadsheet_whose_name_says_another_type_is_read_by_its_content(tmp_path, councils):
    rows = [STOCKPORT, _stockport("1ST ALARM SECURITY")]
    path = _workbook(tmp_path / "spend.xlsx", {"Data": rows})
    renamed = tmp_path / "spend.xls"  # an .xlsx saved under an old name
    path.rename(renamed)
    summary, _ = _check_sheet(renamed, councils)
    assert summary.status == "loaded" and summary.rows_loaded == 1
    assert "read as an Excel workbook (.xlsx): that is what the file holds" in summary.message


def test_a_password_protected_workbook_says_so(tmp_path, councils):
    from starviz import reader

    # what Excel writes for "Encrypt with Password": an OLE compound file holding an EncryptedPackage stream
    path = tmp_path / "spend.xlsx"
    directory = "EncryptionInfo".encode("utf-16-le").ljust(128, b"\0") + "EncryptedPackage".encode("utf-16-le").ljust(128, b"\0")
    path.write_bytes(reader.OLE_MAGIC + bytes(504) + directory + bytes(4096))
    summary, _ = _check_sheet(path, councils)
    assert summary.status == "failed"
    assert summary.message == (
        "spend.xlsx: the workbook is protected with a password, so it cannot be read; open it in Excel, remove the "
        "password (File > Info > Protect Workbook) and save it again"
    )


# --- dates ---------------------------------------------------------------------------------------


def _dates(tmp_path: Path, councils, dates: list[str]):
    rows = [HEADER, *(_record(date=d, n=n) for n, d in enumerate(dates, 1))]
    return _check(tmp_path / "spend.csv", councils, _text(rows))


def test_dates_no_reader_can_take_for_another_are_read_whatever_the_settings(tmp_path, councils):
    import datetime as dt

    # Trafford's settings: %Y-%m-%d and %d/%m/%Y; these come from other exports of the same system
    written = ["2024-04-01T00:00:00", "2024-04-02 00:00:00", "03/04/2024 00:00", "04-Apr-24", "5 April 2024", "6 Apr 2024"]
    summary, rejects = _dates(tmp_path, councils, written)
    assert not rejects and [r["payment_date"] for r in summary.preview] == [dt.date(2024, 4, d) for d in range(1, 7)]
    assert {r["payment_date_precision"] for r in summary.preview} == {"day"}


def test_a_file_written_month_first_is_read_month_first_with_a_note(tmp_path, councils):
    import datetime as dt

    summary, rejects = _dates(tmp_path, councils, ["04/05/2024", "04/13/2024", "12/01/2024"])
    assert not rejects and summary.rows_loaded == 3
    assert [r["payment_date"] for r in summary.preview] == [dt.date(2024, 4, 5), dt.date(2024, 4, 13), dt.date(2024, 12, 1)]
    assert "the dates in PaymentDate are written month first (row 3: 04/13/2024 can only be month/day/year)" in summary.message


def test_a_day_first_file_with_one_month_first_typo_keeps_day_first(tmp_path, councils):
    import datetime as dt

    summary, rejects = _dates(tmp_path, councils, ["04/05/2024", "04/13/2024", "25/01/2024"])
    assert [r["payment_date"] for r in summary.preview] == [dt.date(2024, 5, 4), dt.date(2024, 1, 25)]
    assert [(r[1], r[3]) for r in rejects] == [(3, "04/13/2024")] and "month first" not in summary.message


# --- through the build ---------------------------------------------------------------------------


def test_odd_files_under_raw_load_through_the_build_and_a_bad_one_stops_nothing(tmp_path):
    import duckdb

    from starviz import build
    from tests.fixtures.extracts import write_raw

    raw = write_raw(tmp_path / "raw")
    folder = raw / "trafford" / "spend"
    june = [_record("June Supplier Ltd", "1000.00", "2025-06-10", 1), _record("June Supplier Ltd", "250.00", "2025-06-11", 2)]
    title = [["Trafford Council - payments to suppliers - June 2025"], [], HEADER, *june]
    (folder / "trafford-spend-2025-06.csv").write_bytes(_text(title, ";").encode("utf-16"))
    july = [_record("July Supplier Ltd", "300.00", d, n) for n, d in enumerate(["07/01/2025", "07/14/2025"], 1)]
    (folder / "trafford-spend-2025-07.csv").write_text(_text([HEADER, *july]), encoding="utf-8")
    (folder / "trafford-spend-2025-08.csv").write_text("<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
    summary = build.build(raw_dir=raw, db_path=tmp_path / "star.duckdb")
    ledger = {Path(f.source_file).name: f"{f.status}: {f.message}" for f in summary.files}
    con = duckdb.connect(str(tmp_path / "star.duckdb"), read_only=True)
    try:
        spend = con.execute(
            "select supplier_name, payment_date::varchar, amount_gbp from fct_spend "
            "where supplier_name like 'Ju% Supplier Ltd' order by payment_date"
        ).fetchall()
    finally:
        con.close()
    assert ledger["trafford-spend-2025-06.csv"].startswith("loaded: trafford/spend/trafford-spend-2025-06.csv: read as UTF-16")
    assert "the header is on row 3" in ledger["trafford-spend-2025-06.csv"]
    assert "written month first" in ledger["trafford-spend-2025-07.csv"]
    assert ledger["trafford-spend-2025-08.csv"].startswith(
        "failed: trafford/spend/trafford-spend-2025-08.csv: this is a web page"
    )
    assert [(s, d, float(a)) for s, d, a in spend] == [
        ("June Supplier Ltd", "2025-06-10", 1000.0),
        ("June Supplier Ltd", "2025-06-11", 250.0),
        ("July Supplier Ltd", "2025-07-01", 300.0),
        ("July Supplier Ltd", "2025-07-14", 300.0),
    ]


# --- amounts -------------------------------------------------------------------------------------


def test_amounts_as_councils_write_them_and_no_missing_amount_becomes_zero(tmp_path, councils):
    written = ["£1,234.56", "(1,234.56)", "1234.56-", "-£5.00", "0", "1.234,56", "-", "N/A", ""]
    rows = [HEADER, *(_record(amount=a, n=n) for n, a in enumerate(written, 1))]
    summary, rejects = _check(tmp_path / "spend.csv", councils, _text(rows))
    loaded = [r["amount_gbp"] for r in summary.preview]
    assert loaded == [Decimal("1234.56"), Decimal("-1234.56"), Decimal("-1234.56"), Decimal("-5.00"), Decimal("0.00")]
    assert [(r[1], r[3], r[4]) for r in rejects] == [
        (
            7,
            "1.234,56",
            "cannot read amount: written with a decimal comma (1.234,56), but the council's settings read a "
            "decimal point (1,234.56); save the file with a decimal point, or set amount.decimal in its TOML",
        ),
        (8, "-", "no amount given: read as missing, never as 0"),
        (9, "N/A", "no amount given: read as missing, never as 0"),
        (10, None, "missing amount gbp"),
    ]


def test_a_file_cut_short_mid_row_says_so(tmp_path, councils):
    body = _text([HEADER, _record(n=1), _record(n=2)])
    summary, rejects = _check(tmp_path / "spend.csv", councils, body[: body.rindex("ABC Ltd") + 3])  # cut in row 3
    assert summary.rows_loaded == 1 and [r[1] for r in rejects] == [3]
    assert summary.message == (
        "spend.csv: the file ends in the middle of row 3 (no line break after it): it may have been cut short in the "
        "download; that row is left out, so check the file is complete"
    )
    whole, _ = _check(tmp_path / "spend.csv", councils, body.rstrip("\r\n"))  # no final line break, nothing cut
    assert whole.rows_loaded == 2 and whole.message == ""


def test_nul_bytes_in_a_csv_name_the_row_in_plain_words(tmp_path, councils):
    body = _text([HEADER, _record(n=1), _record(n=2)]).replace("T2", "T\x002")
    summary, _ = _check(tmp_path / "spend.csv", councils, body)
    assert summary.status == "failed" and summary.message == (
        "spend.csv: row 3: the text holds NUL bytes (character 0), which a CSV cannot: the file is damaged or saved "
        "as UTF-16 without its byte order mark; open it in Excel and save it as CSV UTF-8"
    )
    no_bom = _text([HEADER, _record()]).encode("utf-16-le")  # every other byte NUL
    summary, _ = _check(tmp_path / "spend.txt", councils, no_bom)
    assert summary.message.startswith("spend.txt: row 1: the text holds NUL bytes")
