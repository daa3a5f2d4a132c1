"""Files crafted to hurt: every one is refused with one line naming it, and nothing else stops.

The files are made here (none is committed): a sheet with a cell at XFD1048576, a ZIP bomb, a ZIP
with a false CRC, a CSV field of 131,073 characters, a CSV published with an .xls name.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from starviz import config, imports, ingest, reader
from tests.fixtures.extracts import TRAFFORD_SPEND, write_csv, write_xlsx

STOCKPORT_HEADERS = ["Clearing Date", "Amount £", "Supplier Name"]


def _limits(monkeypatch, **changes) -> None:
    s = config.settings()
    changed = s.model_copy(update={"reader": s.reader.model_copy(update=changes)})
    monkeypatch.setattr(config, "settings", lambda: changed)


def far_cell_xlsx(path: Path, cell: str = "XFD1048576") -> Path:
    """A 5 KB workbook with one stray value far away: reading it naively allocates ~550 GB."""
    book = Workbook()
    sheet = book.active
    sheet.append(STOCKPORT_HEADERS)
    sheet.append(["Apr 2025", 12.5, "ABC Ltd"])
    sheet[cell] = "x"
    book.save(path)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _trafford_csv_bytes() -> bytes:
    buffer = io.StringIO()
    for row in TRAFFORD_SPEND[:3]:
        buffer.write(",".join(row) + "\n")
    return buffer.getvalue().encode()


def test_a_cell_at_xfd1048576_is_refused_before_any_cell_is_read(tmp_path, councils):
    bomb = far_cell_xlsx(tmp_path / "Stockport April 2025.xlsx")
    assert bomb.stat().st_size < 10_000
    summary, _ = ingest.check_file(bomb, councils["stockport"], "spend")
    assert summary.status == "failed"
    assert summary.message == (
        "Stockport April 2025.xlsx: sheet refused: its cells reach column XFD (16,384 columns, cell XFD1048576) "
        "(it declares A1:XFD1048576), over the 500-column limit ([reader] max_columns in data/settings.toml); "
        "delete the stray cells or re-save the sheet"
    )


def test_cells_far_down_are_refused_by_the_cell_limit(tmp_path, councils, monkeypatch):
    _limits(monkeypatch, max_cells=1_000_000, max_columns=1000)
    summary, _ = ingest.check_file(far_cell_xlsx(tmp_path / "far.xlsx", "ZZ100000"), councils["stockport"], "spend")
    assert "its cells span A1:ZZ100000" in summary.message and "1,000,000-cell limit" in summary.message


def test_a_declared_extent_alone_does_not_refuse_a_small_sheet(tmp_path, councils):
    good = write_xlsx(tmp_path / "good.xlsx", [STOCKPORT_HEADERS, ["Apr 2025", 1, "x"]])
    lying = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:C2"', b'<dimension ref="A1:XFD1048576"')
            dst.writestr(info, data)
    assert reader.xlsx_extent(lying, 0, "lying.xlsx") == ("A1:XFD1048576", 2, 3)
    summary, _ = ingest.check_file(lying, councils["stockport"], "spend")
    assert summary.rows_loaded == 1


def test_a_spreadsheet_that_crashes_its_reader_fails_alone(tmp_path, councils, monkeypatch):
    # Limits high enough to let the stray cell through: the worker process aborts (SIGABRT on the
    # failed allocation), the file is refused, and this process carries on reading the next file.
    _limits(monkeypatch, max_columns=20_000, max_rows=2_000_000, max_cells=10**12, worker_memory_mb=1024)
    summary, _ = ingest.check_file(far_cell_xlsx(tmp_path / "crash.xlsx"), councils["stockport"], "spend")
    assert summary.status == "failed"
    assert summary.message.startswith("crash.xlsx: reading the spreadsheet needed more than the 1,024 MB")
    good = write_xlsx(tmp_path / "good.xlsx", [STOCKPORT_HEADERS, ["Apr 2025", 1, "x"]])
    assert ingest.check_file(good, councils["stockport"], "spend")[0].rows_loaded == 1


def test_a_zip_bomb_is_refused_by_the_same_limit_in_check_build_and_import(tmp_path, councils, monkeypatch):
    _limits(monkeypatch, max_unzipped_mb=1)
    bomb = _zip(tmp_path / "bomb.zip", {"spend.csv": _trafford_csv_bytes() + b"0" * (3 << 20)})
    assert bomb.stat().st_size < 20_000
    expected = "bomb.zip: the ZIP unpacks to 3 MB, over the 1 MB limit ([reader] max_unzipped_mb in data/settings.toml)"
    assert ingest.check_file(bomb, councils["trafford"], "spend")[0].message == expected
    assert imports.stage("bomb.zip", bomb.read_bytes()).refusal == expected + "."


def test_a_zip_whose_index_understates_its_size_is_stopped_while_unpacking(tmp_path, monkeypatch):
    _limits(monkeypatch, max_unzipped_mb=1)
    bomb = _zip(tmp_path / "liar.zip", {"a.csv": b"0" * (3 << 20)})
    data = bytearray(bomb.read_bytes())
    # the central directory's uncompressed size (offset 24 of its entry) says 10 bytes
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")
    bomb.write_bytes(bytes(data))
    with pytest.raises(ingest.IngestError, match=r"^liar.zip!a.csv: the archive is damaged"):
        list(reader.unzip_members(bomb, tmp_path, "liar.zip"))


def test_a_zip_with_a_false_crc_is_refused_in_one_line(tmp_path, councils):
    good = _zip(tmp_path / "crc.zip", {"spend.csv": _trafford_csv_bytes()})
    data = bytearray(good.read_bytes())
    # stored (not deflated) would be clearer, but flipping a byte of deflated data breaks it too
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.infolist()[0]
    start = info.header_offset + 30 + len(info.filename)
    data[start + 5] ^= 0x01
    good.write_bytes(bytes(data))
    summary, _ = ingest.check_file(good, councils["trafford"], "spend")
    assert summary.status == "failed"
    assert summary.message.startswith("crc.zip!spend.csv: the archive is damaged")
    assert "/" not in summary.message and "Traceback" not in summary.message


def test_a_field_of_131073_characters_loads_and_one_over_the_limit_is_refused(tmp_path, councils, monkeypatch):
    rows = [TRAFFORD_SPEND[0], [*TRAFFORD_SPEND[1][:5], "x" * 131_073, *TRAFFORD_SPEND[1][6:]]]
    path = write_csv(tmp_path / "long.csv", rows)
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.rows_loaded == 1
    _limits(monkeypatch, max_field_chars=100_000)
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.message == (
        "long.csv: row 2: a line is longer than 100,000 characters (perhaps a quote that is never closed); "
        "the limit is [reader] max_field_chars in data/settings.toml"
    )
    header = write_csv(tmp_path / "header.csv", [['"' + "x" * 200_000]])
    assert (
        "row 1: a field is longer than 100,000 characters" in ingest.check_file(header, councils["trafford"], "spend")[0].message
    )


def test_a_csv_named_xls_is_read_as_csv_with_a_note(tmp_path, councils):
    path = tmp_path / "Stockport April 2025.xls"
    path.write_text("Clearing Date,Amount £,Supplier Name\nApr 2025,12.50,ABC Ltd\n", encoding="utf-8")
    summary, _ = ingest.check_file(path, councils["stockport"], "spend")
    assert summary.rows_loaded == 1
    assert summary.notes == ["Stockport April 2025.xls: read as text (CSV): that is what the file holds, whatever its name says"]


def test_configuration_can_pin_the_reader(tmp_path, councils):
    stockport = councils["stockport"]
    pinned = stockport.model_copy(
        update={"datasets": {"spend": stockport.datasets["spend"].model_copy(update={"reader": "excel"})}}
    )
    path = tmp_path / "text.xls"
    path.write_text("Clearing Date,Amount £,Supplier Name\nApr 2025,12.50,ABC Ltd\n", encoding="utf-8")
    summary, _ = ingest.check_file(path, pinned, "spend")
    assert summary.status == "failed" and summary.message.startswith("text.xls: cannot open as a spreadsheet")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "starviz", *args], cwd=config.ROOT, capture_output=True, text=True, timeout=120)


def test_check_on_crafted_files_prints_one_line_without_traceback_or_path(tmp_path):
    bomb = far_cell_xlsx(tmp_path / "bomb.xlsx")
    done = _cli("check", str(bomb), "--council", "stockport", "--dataset", "spend")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr and str(tmp_path) not in done.stderr
    assert done.stderr.startswith("bomb.xlsx: sheet refused")


def test_build_exits_non_zero_when_a_file_failed_unless_keep_going(fixture_raw, tmp_path):
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(fixture_raw, raw)
    far_cell_xlsx(raw / "stockport" / "spend" / "Stockport May 2025.xlsx")
    db = tmp_path / "star.duckdb"
    done = _cli("build", "--raw", str(raw), "--db", str(db))
    assert done.returncode == 1, done.stderr
    assert "failed: stockport/spend/Stockport May 2025.xlsx: sheet refused" in done.stdout
    assert "1 file failed" in done.stderr and "Traceback" not in done.stderr
    assert db.exists()  # built from the rest
    done = _cli("build", "--raw", str(raw), "--db", str(db), "--keep-going")
    assert done.returncode == 0, done.stderr


def test_a_blank_line_inside_a_zipped_csv_keeps_row_numbers_as_a_person_sees_them(tmp_path, councils):
    rows = _trafford_csv_bytes().split(b"\n")
    data = b"\n".join([rows[0], rows[1], b"", rows[2]]) + b"\n"
    seen: dict[Path, bool] = {}
    path = _zip(tmp_path / "blank.zip", {"spend.csv": data})
    assert [m.name for m, _ in reader.unzip_members(path, tmp_path, "blank.zip", blank_lines=seen)] == ["member0.csv"]
    assert list(seen.values()) == [True]
    summary, rejects = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.rows_loaded == 2 and [(r[1], r[4]) for r in rejects] == [(3, "blank row")]


def test_a_quote_never_closed_is_one_line_naming_the_row_without_the_data(tmp_path, councils):
    rows = _trafford_csv_bytes().split(b"\n")
    path = tmp_path / "long.csv"
    path.write_bytes(rows[0] + b"\n" + rows[1] + b"\n" + b'"' + b"x" * 200_000 + b"\n")
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.message == (
        'long.csv: row 3: cannot read as CSV: a quote (") opened in this row is never closed: the file may be cut short, '
        "or a value holds a stray quote; check the row (or download the file again) and load it again"
    )


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_member_whose_bytes_do_not_match_the_indexed_crc_is_refused(tmp_path, councils, method):
    """The stream itself is sound (it inflates), only its CRC-32 disagrees with the index: the
    check is made whichever inflater reads the member (ISA-L for deflated ones, zipfile for stored)."""
    path = tmp_path / "crc.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("spend.csv", _trafford_csv_bytes())
    data = bytearray(path.read_bytes())
    entry = data.rfind(b"PK\x01\x02")  # the central directory's CRC-32 is at offset 16 of its entry
    data[entry + 16 : entry + 20] = (int.from_bytes(data[entry + 16 : entry + 20], "little") ^ 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed"
    assert summary.message == (
        "crc.zip!spend.csv: the archive is damaged (a CRC check failed): the file was altered or cut short in transit"
    )


def test_a_deflate_stream_that_cannot_be_inflated_is_refused_in_one_line(tmp_path, councils):
    path = _zip(tmp_path / "bad.zip", {"spend.csv": _trafford_csv_bytes() * 20})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.infolist()[0]
    start = info.header_offset + 30 + len(info.filename)
    data[start : start + 8] = b"\xff" * 8  # an invalid block type
    path.write_bytes(bytes(data))
    summary, _ = ingest.check_file(path, councils["trafford"], "spend")
    assert summary.status == "failed"
    assert summary.message == "bad.zip!spend.csv: the archive is damaged or truncated"


def test_members_unpack_to_the_same_bytes_as_zipfile_reads(tmp_path):
    payload = {"a.csv": _trafford_csv_bytes() * 3000, "b.csv": b"x,y\n" * 200_000 + b"\n\n1,2\n"}
    path = _zip(tmp_path / "two.zip", payload)
    blank: dict[Path, bool] = {}
    out = {label: member.read_bytes() for member, label in reader.unzip_members(path, tmp_path, "two.zip", blank_lines=blank)}
    assert out == {f"two.zip!{name}": data for name, data in payload.items()}
    assert sorted(blank.values()) == [False, True]
