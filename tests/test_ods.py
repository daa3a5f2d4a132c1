"""OpenDocument spreadsheets (.ods, the UK government's open standard) are read wherever an .xlsx is:
import, raw/ folders (the council's patterns), inside a ZIP; under the same limits, measured before
calamine opens the file, and refused in one line naming the file (and the sheet, row and column).

The files are made here with zipfile (an .ods is a ZIP of mimetype, META-INF/manifest.xml and
content.xml); none is committed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from starviz import config, imports, ingest, reader

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)
# What LibreOffice writes after the data: a million empty rows a thousand cells wide.
LIBREOFFICE_TAIL = (
    '<table:table-row table:number-rows-repeated="1048570">'
    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)


def text(value: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-cell office:value-type="string"{rep}><text:p>{escape(value)}</text:p></table:table-cell>'


def number(value: float, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-cell office:value-type="float" office:value="{value}"{rep}><text:p>{value}</text:p></table:table-cell>'


def date(iso: str) -> str:
    return f'<table:table-cell office:value-type="date" office:date-value="{iso}"><text:p>{iso}</text:p></table:table-cell>'


def row(*cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{''.join(cells)}</table:table-row>"


def content(sheets: dict[str, str], prolog: str = "") -> bytes:
    body = "".join(f'<table:table table:name="{name}">{rows}</table:table>' for name, rows in sheets.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<office:document-content {NS} office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    ).encode()


def ods_bytes(sheets: dict[str, str], content_xml: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("content.xml", content_xml or content(sheets), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_ods(path: Path, sheets: dict[str, str], content_xml: bytes | None = None) -> Path:
    path.write_bytes(ods_bytes(sheets, content_xml))
    return path


HEADERS = row(text("Clearing Date"), text("Amount £"), text("Supplier Name"))


def stockport_spend() -> dict[str, str]:
    """A month of Stockport spend as LibreOffice saves it: typed cells, one bad amount, the empty tail."""
    return {
        "April 2025": HEADERS
        + row(text("Apr 2025"), number(1250.5), text("Acme Ltd"))
        + row(date("2025-04-17"), number(640), text("Bolt & Co"))
        + row(text("Apr 2025"), text("about a grand"), text("Cog Ltd"))
        + LIBREOFFICE_TAIL
    }


@pytest.fixture(autouse=True)
def _staging_in_tmp(staging_in_tmp):
    """Staged uploads live beside the database, away from the repository (conftest)."""


@pytest.fixture
def no_calamine(monkeypatch):
    """Fail the test if a file reaches the spreadsheet reader (calamine, in the worker)."""
    monkeypatch.setattr(reader, "_ask_worker", lambda *a, **k: pytest.fail("calamine was asked to open a refused file"))


def _limits(monkeypatch, **changes) -> None:
    s = config.settings()
    changed = s.model_copy(update={"reader": s.reader.model_copy(update=changes)})
    monkeypatch.setattr(config, "settings", lambda: changed)


# --- read as an .xlsx is -------------------------------------------------------------------------


def test_an_ods_is_read_like_an_xlsx_with_row_level_reasons_naming_file_row_and_column(tmp_path, councils):
    path = write_ods(tmp_path / "Stockport April 2025.ods", stockport_spend())
    assert reader.sniff(path) == "ods" and reader.choose(path, path.name) == ("ods", "")
    assert reader.ods_extent(path, 0, path.name) == ("April 2025", 4, 3)  # the empty tail is not the extent
    summary, rejects = ingest.check_file(path, councils["stockport"], "spend")
    assert summary.status != "failed", summary.message
    assert (summary.rows_read, summary.rows_loaded) == (3, 2)
    assert summary.amount_total == pytest.approx(1890.5)
    [(source, line, column, value, reason, _severity)] = rejects
    assert (source, line, column, value) == ("Stockport April 2025.ods", 4, "Amount £", "about a grand")
    assert reason


def test_an_ods_inside_a_zip_is_read_and_an_ods_in_raw_matches_the_councils_patterns(tmp_path, councils):
    archive = tmp_path / "Stockport 2025.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("April 2025.ods", ods_bytes(stockport_spend()))
    summary, _ = ingest.check_file(archive, councils["stockport"], "spend")
    assert summary.rows_loaded == 2, summary.message
    from starviz import build

    raw = tmp_path / "raw" / "stockport" / "spend"
    raw.mkdir(parents=True)
    write_ods(raw / "Stockport April 2025.ods", stockport_spend())
    found = build.discover(tmp_path / "raw", {"stockport": councils["stockport"]})
    assert [p.name for _c, _d, p in found] == ["Stockport April 2025.ods"]


def test_the_import_accepts_an_ods_and_refuses_one_that_is_not(tmp_path):
    assert "ods" in imports.allowed_types() and "ODS" in imports.limits_text()
    staged = imports.stage("Stockport April 2025.ods", ods_bytes(stockport_spend()))
    assert staged.refusal is None and staged.name == "Stockport April 2025.ods"
    fake = imports.stage("spend.ods", b"\x00\x01not a spreadsheet at all" * 10)
    assert fake.refusal == "spend.ods: the content is not an OpenDocument spreadsheet (.ods); check the file or its extension."


def test_a_sheet_named_or_numbered_that_is_not_there_is_named(tmp_path):
    path = write_ods(tmp_path / "two.ods", {"Notes": row(text("read me")), "Data": HEADERS})
    assert reader.ods_extent(path, "Data", "two.ods") == ("Data", 1, 3)
    with pytest.raises(reader.IngestError) as caught:
        reader.ods_extent(path, 2, "two.ods")
    assert str(caught.value) == "two.ods: no sheet 2 (the sheets are 'Notes', 'Data')"


# --- hostile files: refused before calamine opens them ---------------------------------------------


def test_repeated_cells_that_would_expand_to_billions_are_refused_before_reading(tmp_path, councils, no_calamine):
    # 17 billion cells in under 1 KB: one value repeated 16,384 columns across, that row a million times.
    hostile = {"April 2025": HEADERS + row(number(1, repeat=16_384), repeat=1_048_576)}
    path = write_ods(tmp_path / "Stockport April 2025.ods", hostile)
    assert path.stat().st_size < 2_000
    summary, _ = ingest.check_file(path, councils["stockport"], "spend")
    assert summary.status == "failed"
    expected = (
        "Stockport April 2025.ods: sheet refused: its cells reach row 1,048,577 (cell XFD1048577), over the "
        "1,048,576-row limit ([reader] max_rows in data/settings.toml); delete the stray cells or re-save the sheet"
    )
    assert summary.message == expected
    # The import refuses it on upload, before detection reads any header; so does a renamed copy.
    assert imports.stage(path.name, path.read_bytes()).refusal == expected + "."
    renamed = imports.stage("Stockport April 2025.xlsx", path.read_bytes()).refusal
    assert renamed == expected.replace(".ods", ".xlsx", 1) + "."


def test_repeated_columns_and_the_cell_limit_name_the_column_and_the_cell(tmp_path, councils, monkeypatch, no_calamine):
    wide = write_ods(tmp_path / "wide.ods", {"S": HEADERS + row(text("x"), text("y", repeat=600), number(3))})
    summary, _ = ingest.check_file(wide, councils["stockport"], "spend")
    assert summary.message == (
        "wide.ods: sheet refused: its cells reach column WD (602 columns, cell WD2), over the 500-column limit "
        "([reader] max_columns in data/settings.toml); delete the stray cells or re-save the sheet"
    )
    _limits(monkeypatch, max_cells=1_000_000)
    tall = write_ods(tmp_path / "tall.ods", {"S": HEADERS + row(text("a"), text("b"), text("c"), repeat=400_000)})
    summary, _ = ingest.check_file(tall, councils["stockport"], "spend")
    assert summary.message.startswith(
        "tall.ods: sheet refused: its cells span A1:C400001, 1,200,003 cells, over the 1,000,000-cell limit"
    )


def test_a_hostile_sheet_behind_the_one_read_is_refused_and_named(tmp_path, councils, no_calamine):
    # calamine parses every sheet when it opens the file, so the measure covers every sheet.
    sheets = stockport_spend() | {"Hidden": row(text("x", repeat=2_000_000_000), repeat=2_000_000_000)}
    path = write_ods(tmp_path / "Stockport April 2025.ods", sheets)
    summary, _ = ingest.check_file(path, councils["stockport"], "spend")
    assert summary.message.startswith(
        "Stockport April 2025.ods (sheet 'Hidden'): sheet refused: its cells reach row 2,000,000,000 "
    )


def test_an_ods_bomb_is_stopped_by_the_unzip_budget(tmp_path, councils, monkeypatch, no_calamine):
    _limits(monkeypatch, max_unzipped_mb=1)
    padding = "<text:p>" + "0" * (3 << 20) + "</text:p>"
    bomb = write_ods(tmp_path / "bomb.ods", {}, content({"S": HEADERS + row(f"<table:table-cell>{padding}</table:table-cell>")}))
    assert bomb.stat().st_size < 20_000
    summary, _ = ingest.check_file(bomb, councils["stockport"], "spend")
    assert (
        summary.message
        == "bomb.ods: the spreadsheet unpacks to 3 MB, over the 1 MB limit ([reader] max_unzipped_mb in data/settings.toml)"
    )
    # An index that understates the size is caught while streaming, by the bytes really read.
    data = bytearray(bomb.read_bytes())
    entry = data.rfind(b"PK\x01\x02")  # content.xml is the last entry of the central directory
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")
    (tmp_path / "liar.ods").write_bytes(bytes(data))
    summary, _ = ingest.check_file(tmp_path / "liar.ods", councils["stockport"], "spend")
    assert summary.status == "failed" and summary.message.startswith("liar.ods: ")
    assert "\n" not in summary.message and "Traceback" not in summary.message


def test_entities_broken_xml_and_a_missing_part_are_refused_in_one_line(tmp_path, councils, no_calamine):
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    cases = {
        "dtd.ods": (
            content({"S": HEADERS}, prolog=laughs),
            "dtd.ods: cannot open as a spreadsheet (its content.xml declares a DTD)",
        ),
        "broken.ods": (
            content({"S": HEADERS})[:-40],
            "broken.ods: cannot open as a spreadsheet (its content.xml is not well-formed at line 1)",
        ),
    }
    for name, (xml, expected) in cases.items():
        summary, _ = ingest.check_file(write_ods(tmp_path / name, {}, xml), councils["stockport"], "spend")
        assert summary.message == expected
    partless = tmp_path / "partless.ods"
    with zipfile.ZipFile(partless, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml.bak", "x")
    summary, _ = ingest.check_file(partless, councils["stockport"], "spend")
    assert summary.message == "partless.ods: cannot open as a spreadsheet (a part of the workbook is missing)"


def test_an_uploaded_ods_is_measured_once_for_staging_detection_and_preview(monkeypatch):
    calls = []
    measure = reader._ods_measure
    monkeypatch.setattr(reader, "_ods_measure", lambda *a: calls.append(a[1]) or measure(*a))
    reader._ods_measured.cache_clear()
    data = ods_bytes(stockport_spend())
    staged = imports.stage("Stockport April 2025.ods", data)
    assert imports.stage("Stockport April 2025.ods", data).refusal is None  # the page's next run stages it again
    detection = imports.detect(staged)
    assert detection.best is not None and (detection.best.council_id, detection.best.dataset) == ("stockport", "spend")
    assert calls == ["Stockport April 2025.ods"]
