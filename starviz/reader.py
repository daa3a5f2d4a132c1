"""The one guarded way into an extract: build, check and import read files only through here.

- The reader is chosen by the file's content, not its name (a CSV published as ``.xls`` is read as
  CSV, with a note); a dataset's ``reader`` setting can pin it.
- Archives (a ZIP, and an ``.xlsx``, which is one) are unpacked counting the bytes actually written
  against ``[reader].max_unzipped_mb``; a damaged archive (false CRC, truncated) is refused.
- Spreadsheets: an ``.xlsx`` sheet's declared extent (``<dimension>``) and real extent (its last
  cell), and every sheet of an ``.ods`` (OpenDocument: its repeated cells and rows counted, not
  expanded), are checked before any cell is read; cells are then read in a worker process whose address
  space is capped (``resource.setrlimit``), so a native crash or a runaway allocation fails that
  file only, never the app or the build. An ``.xls`` is measured inside the worker. At most
  ``[reader] workers`` such processes live at once (more reads wait for one); an idle one ends after
  ``worker_idle_seconds``. ``concurrent.futures.ProcessPoolExecutor`` is not used: one worker that
  crashes breaks the whole executor (every pending read fails), a hung one cannot be killed alone,
  and it keeps idle processes until shutdown.
- CSV is parsed by DuckDB (``starviz.ingest``) with its line length capped here.

Every refusal is an :class:`IngestError` whose message is one line naming the file.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CSV_SUFFIXES = {".csv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}  # the spreadsheets calamine reads (.ods: OpenDocument)
ALLOWED_SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | {".zip"}
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
READERS = ("auto", "csv", "excel", "zip")


class IngestError(ValueError):
    """A whole file cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Limits:
    """What one file may ask of the reader (``[reader]`` in data/settings.toml)."""

    max_cells: int = 20_000_000
    max_rows: int = 1_048_576
    max_columns: int = 500
    max_unzipped_mb: int = 1024
    max_members: int = 200
    max_field_chars: int = 1_048_576
    worker_memory_mb: int = 3072
    worker_seconds: float = 300.0
    workers: int = 2
    worker_idle_seconds: float = 60.0


def limits() -> Limits:
    from starviz import config

    return Limits(**config.settings().reader.model_dump())


def _setting(name: str) -> str:
    return f"[reader] {name} in data/settings.toml"


# --- what a file is ------------------------------------------------------------------------------


def looks_like_text(head: bytes) -> bool:
    """No NUL and no control characters other than tab, new lines and form feed: text (a CSV)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte order mark
        return True
    return b"\x00" not in head and not any(b < 9 or 13 < b < 32 for b in head)


def sniff(path: Path) -> str:
    """``zip``, ``xlsx``, ``ods``, ``xls``, ``text`` or ``binary``, from the first bytes (and a ZIP's index)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(OLE_MAGIC):
        return "xls"
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                ods = is_ods(archive, path.suffix.lower())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
            # A damaged archive: the spreadsheet reader or the unzip names the problem.
            suffix = path.suffix.lower()
            return "xlsx" if suffix in (".xlsx", ".xlsm") else "ods" if suffix == ".ods" else "zip"
        return "xlsx" if "xl/workbook.xml" in names else "ods" if ods else "zip"
    return "text" if looks_like_text(head) else "binary"


def not_a_table(head: bytes, label: str) -> str | None:
    """Why a text file is no table at all (a web page saved as .csv or .xls), from its first bytes, or None."""
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        head = head.removeprefix(bom)
    text = head.replace(b"\x00", b"").decode("latin-1").lstrip().lower()
    if text.startswith(("<!doctype html", "<html")) or (text.startswith("<") and ("<body" in text or "<head" in text)):
        return (
            f"{label}: this is a web page (HTML), not a table: often a sign-in or error page saved in place of the "
            "download; download the file again (a table a website saved as .xls: open it in Excel and save it as .xlsx)"
        )
    if text.startswith("<?xml") and "<workbook" in text:
        return f"{label}: this is an Excel 2003 XML spreadsheet, which is not read; open it in Excel and save it as .xlsx"
    return None


_KIND_NAMES = {
    "text": "text (CSV)",
    "xlsx": "an Excel workbook (.xlsx)",
    "xls": "an Excel 97-2003 workbook (.xls)",
    "ods": "an OpenDocument spreadsheet (.ods)",
}
SPREADSHEET_KINDS = ("xlsx", "xls", "ods")  # read by read_sheet


def choose(path: Path, label: str, pinned: str = "auto") -> tuple[str, str]:
    """How to read a file: (``csv`` | ``xlsx`` | ``xls`` | ``ods`` | ``zip``, a note when its name says otherwise).

    ``pinned`` (the dataset's ``reader`` setting) overrides the content: ``csv``, ``excel`` or ``zip``.
    """
    suffix = path.suffix.lower()
    found = sniff(path)
    if found == "zip" or pinned == "zip":
        return "zip", ""  # a ZIP is always unpacked; a pinned reader applies to what is inside
    if pinned == "csv":
        return "csv", ""
    if pinned == "excel":
        return (found if found in ("xls", "ods") else "xlsx"), ""
    kind = {"text": "csv", "xlsx": "xlsx", "xls": "xls", "ods": "ods"}.get(found)
    if kind is None:
        with path.open("rb") as fh:
            head = fh.read(4096)
        if b"\x00" in head and looks_like_text(head.replace(b"\x00", b"")):  # text, but for NUL bytes
            row = head.count(b"\n", 0, head.index(b"\x00")) + 1
            raise IngestError(
                f"{label}: row {row}: the text holds NUL bytes (character 0), which a CSV cannot: the file is damaged "
                "or saved as UTF-16 without its byte order mark; open it in Excel and save it as CSV UTF-8"
            )
        raise IngestError(
            f"{label}: the content is not CSV text, an Excel or OpenDocument spreadsheet or a ZIP archive; check the file"
        )
    by_name = (
        "csv"
        if suffix in CSV_SUFFIXES
        else "xls"
        if suffix == ".xls"
        else "ods"
        if suffix == ".ods"
        else "xlsx"
        if suffix in EXCEL_SUFFIXES
        else ""
    )
    note = ""
    if kind != by_name:
        note = f"{label}: read as {_KIND_NAMES[found]}: that is what the file holds, whatever its name says"
    return kind, note


# --- archives ------------------------------------------------------------------------------------


try:  # ISA-L's inflate and CRC-32: the same bytes as zlib's, in half the CPU (issue 20)
    from isal import isal_zlib
except ImportError:  # pragma: no cover - pinned in requirements.txt; zlib then does it all
    isal_zlib = None

# what a damaged deflate stream raises, with zlib or ISA-L
_INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error,) + ((isal_zlib.error,) if isal_zlib else ())


def _zip_refusal(label: str, exc: BaseException) -> IngestError:
    text = str(exc)
    if "CRC" in text:
        why = "the archive is damaged (a CRC check failed): the file was altered or cut short in transit"
    elif isinstance(exc, (zipfile.BadZipFile, EOFError, *_INFLATE_ERRORS)):
        why = "the archive is damaged or truncated"
    elif isinstance(exc, NotImplementedError):
        why = "the archive uses a compression method that cannot be read; re-save it as a standard ZIP"
    else:
        why = "cannot be unpacked"
    return IngestError(f"{label}: {why}")


def check_archive(
    path: Path | IO[bytes], label: str, lim: Limits | None = None, suffixes: set[str] | None = None
) -> list[zipfile.ZipInfo]:
    """The CSV/Excel members of a ZIP, after the archive limits (the same for import, check and
    build): member count, password protection, and the sizes its index declares."""
    lim = lim or limits()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IngestError(f"{label}: not a valid ZIP archive") from exc
    suffixes = suffixes or CSV_SUFFIXES | EXCEL_SUFFIXES
    members = [i for i in infos if not i.is_dir() and Path(i.filename).suffix.lower() in suffixes]
    if not members:
        kinds = "CSV or Excel" if suffixes == CSV_SUFFIXES | EXCEL_SUFFIXES else " or ".join(sorted(suffixes))
        raise IngestError(f"{label}: the ZIP holds no {kinds} file")
    if len(members) > lim.max_members:
        raise IngestError(
            f"{label}: the ZIP holds {len(members):,} files, over the {lim.max_members:,} limit ({_setting('max_members')})"
        )
    if any(i.flag_bits & 0x1 for i in members):
        raise IngestError(f"{label}: the ZIP is password-protected; upload the files inside it instead")
    declared = sum(i.file_size for i in members)
    if declared > lim.max_unzipped_mb << 20:
        raise IngestError(
            f"{label}: the ZIP unpacks to {declared / 1048576:,.0f} MB, over the {lim.max_unzipped_mb:,} MB limit "
            f"({_setting('max_unzipped_mb')})"
        )
    return members


_BLANK_LINE = re.compile(rb"\n\r?\n")


def _isal_inflate(src: zipfile.ZipExtFile) -> bool:
    """Inflate a deflated member with ISA-L instead of zlib. zipfile still does all the reading:
    the local header checked against the index, exactly the compressed size read, the output cut
    at the declared size, a stream that ends early refused. Its own CRC check is turned off for
    this member only; the caller checks it with ISA-L's crc32 (True), or zipfile does (False)."""
    if isal_zlib is None or getattr(src, "_compress_type", None) != zipfile.ZIP_DEFLATED:
        return False
    if not hasattr(src, "_decompressor") or getattr(src, "_expected_crc", None) is None:
        return False  # another zipfile than the one this was written against: leave it be
    src._decompressor = isal_zlib.decompressobj(-15)
    src._expected_crc = None
    return True


def unzip_members(
    path: Path, tmp: Path, label: str, lim: Limits | None = None, blank_lines: dict[Path, bool] | None = None
) -> Iterator[tuple[Path, str]]:
    """Each CSV/Excel member of a ZIP copied out to a fixed name (member paths are never trusted),
    counting the bytes really written: an index that understates sizes cannot get past the limit.
    ``blank_lines`` learns, for each member, whether it has an empty line (seen while unpacking, so
    the CSV reader need not read the file again to find out)."""
    lim = lim or limits()
    budget = lim.max_unzipped_mb << 20
    members = check_archive(path, label, lim)
    with zipfile.ZipFile(path) as archive:
        for i, info in enumerate(sorted(members, key=lambda m: m.filename)):
            member_label = f"{label}!{Path(info.filename).name}"
            target = tmp / f"member{i}{Path(info.filename).suffix.lower()}"
            try:
                blank, tail, crc = False, b"", 0
                with archive.open(info) as src, target.open("wb") as dst:
                    own_crc = _isal_inflate(src)
                    while chunk := src.read(1 << 22):
                        if own_crc:
                            crc = isal_zlib.crc32(chunk, crc)
                        budget -= len(chunk)
                        if budget < 0:
                            raise IngestError(
                                f"{member_label}: the ZIP unpacks to more than the {lim.max_unzipped_mb:,} MB limit "
                                f"({_setting('max_unzipped_mb')})"
                            )
                        if not blank:  # one regex pass: several times faster than `in` for "\n\n"
                            blank = _BLANK_LINE.search(tail + chunk[:2]) is not None or _BLANK_LINE.search(chunk) is not None
                            tail = chunk[-2:]
                        dst.write(chunk)
                if own_crc and crc != info.CRC:
                    raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
                if blank_lines is not None:
                    blank_lines[target] = blank
            except (zipfile.BadZipFile, EOFError, *_INFLATE_ERRORS, NotImplementedError, RuntimeError) as exc:
                target.unlink(missing_ok=True)
                raise _zip_refusal(member_label, exc) from exc
            yield target, member_label


def member_bytes(path: Path, label: str, suffixes: set[str], lim: Limits | None = None) -> Iterator[tuple[str, str, bytes]]:
    """(label, suffix, bytes) of each member of a ZIP with one of ``suffixes`` (for readers that
    take bytes, such as the notices), under the same limits and checks as :func:`unzip_members`."""
    lim = lim or limits()
    budget = lim.max_unzipped_mb << 20
    members = check_archive(path, label, lim, suffixes)
    with zipfile.ZipFile(path) as archive:
        for info in sorted(members, key=lambda m: m.filename):
            member_label = f"{label}!{Path(info.filename).name}"
            try:
                with archive.open(info) as src:
                    data = src.read(budget + 1)
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
                raise _zip_refusal(member_label, exc) from exc
            budget -= len(data)
            if budget < 0:
                raise IngestError(
                    f"{member_label}: the ZIP unpacks to more than the {lim.max_unzipped_mb:,} MB limit "
                    f"({_setting('max_unzipped_mb')})"
                )
            yield member_label, Path(info.filename).suffix.lower(), data


# --- spreadsheets: measure first ---------------------------------------------------------------


def column_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")


def _sheet_part(archive: zipfile.ZipFile, sheet: str | int, label: str) -> str:
    """The ZIP path of a workbook's sheet (by position or name), from workbook.xml and its rels."""
    import xml.etree.ElementTree as ET

    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    }
    try:
        book = ET.fromstring(archive.read("xl/workbook.xml")[: 8 << 20])
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels")[: 8 << 20])
    except (KeyError, ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise IngestError(f"{label}: cannot open as a spreadsheet (its workbook index is damaged)") from exc
    sheets = book.findall("m:sheets/m:sheet", ns)
    chosen = sheets[sheet] if isinstance(sheet, int) and sheet < len(sheets) else None
    if isinstance(sheet, str):
        chosen = next((s for s in sheets if s.get("name") == sheet), None)
    if chosen is None:
        names = ", ".join(repr(s.get("name")) for s in sheets) or "none"
        raise IngestError(f"{label}: no sheet {sheet!r} (the sheets are {names})")
    rid = chosen.get(f"{{{ns['r']}}}id")
    target = next((r.get("Target") for r in rels if r.get("Id") == rid), None)
    if not target:
        raise IngestError(f"{label}: cannot open as a spreadsheet (sheet {sheet!r} has no part)")
    target = target.lstrip("/")
    return target if target.startswith("xl/") else "xl/" + target


def _part_chunks(fh: IO[bytes], lim: Limits, what: str, size: int = 1 << 22) -> Iterator[bytes]:
    """The bytes of one part of a ZIP (a sheet's XML), chunk by chunk, counting what really comes out:
    past ``max_unzipped_mb`` the one-line refusal "<what> unpacks to more than …", whatever the index
    declared."""
    budget = lim.max_unzipped_mb << 20
    while chunk := fh.read(size):
        budget -= len(chunk)
        if budget < 0:
            raise IngestError(f"{what} unpacks to more than the {lim.max_unzipped_mb:,} MB limit ({_setting('max_unzipped_mb')})")
        yield chunk


def xlsx_extent(path: Path, sheet: str | int, label: str, lim: Limits | None = None) -> tuple[str, int, int]:
    """(declared range, real rows, real columns) of one sheet of an .xlsx, measured by streaming its
    XML without building any cell; IngestError when the real extent is over the limits."""
    lim = lim or limits()
    declared, rows, cols = "", 0, 0
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet, label)
            with archive.open(part) as fh:
                tail = b""
                for chunk in _part_chunks(fh, lim, f"{label}: the sheet"):
                    data = tail + chunk
                    if not declared and (m := re.search(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"([^\"]{1,40})\"", data)):
                        declared = m.group(1).decode("ascii", "replace")
                    # The last cell of a row is the row's widest; a regex over every cell is still fast.
                    for m in _CELL.finditer(data):
                        c = _column_number(m.group(1))
                        if c > cols:
                            cols = c
                        r = int(m.group(2))
                        if r > rows:
                            rows = r
                    for m in _ROW.finditer(data):
                        rows = max(rows, int(m.group(1)))
                    cut = data.rfind(b"<")
                    tail = data[cut:] if cut >= 0 and len(data) - cut < 4096 else b""
    except KeyError as exc:
        raise IngestError(f"{label}: cannot open as a spreadsheet (a part of the workbook is missing)") from exc
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, OSError) as exc:
        raise IngestError(f"{label}: cannot open as a spreadsheet: {_zip_refusal(label, exc).args[0].split(': ', 1)[1]}") from exc
    check_extent(label, rows, cols, lim, declared)
    return declared, rows, cols


def check_extent(label: str, rows: int, cols: int, lim: Limits, declared: str = "") -> None:
    """Refuse a sheet whose cells span more rows, columns or cells than the limits allow."""
    said = f" (it declares {declared})" if declared else ""
    last = f"{column_letters(cols)}{rows}" if rows and cols else f"row {rows}"
    if rows > lim.max_rows:
        why = f"its cells reach row {rows:,} (cell {last}){said}, over the {lim.max_rows:,}-row limit ({_setting('max_rows')})"
    elif cols > lim.max_columns:
        why = (
            f"its cells reach column {column_letters(cols)} ({cols:,} columns, cell {last}){said}, "
            f"over the {lim.max_columns:,}-column limit ({_setting('max_columns')})"
        )
    elif rows * cols > lim.max_cells:
        why = (
            f"its cells span A1:{last}{said}, {rows * cols:,} cells, "
            f"over the {lim.max_cells:,}-cell limit ({_setting('max_cells')})"
        )
    else:
        return
    raise IngestError(f"{label}: sheet refused: {why}; delete the stray cells or re-save the sheet")


# --- spreadsheets: OpenDocument (.ods), measured first -----------------------------------------

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "


def is_ods(archive: zipfile.ZipFile, suffix: str = "") -> bool:
    """An OpenDocument spreadsheet: a ZIP whose ``mimetype`` member says so (or, with no ``mimetype``,
    named .ods and holding content.xml)."""
    names = set(archive.namelist())
    if "mimetype" not in names:
        return suffix == ".ods" and "content.xml" in names
    with archive.open("mimetype") as fh:
        return fh.read(100).strip().startswith(ODS_MIMETYPE)


def _repeat(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 1


_T_TABLE, _T_ROW = _ODS_TABLE + "table", _ODS_TABLE + "table-row"
_T_CELLS = (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell")
_A_NAME, _A_ROWS, _A_COLUMNS = _ODS_TABLE + "name", _ODS_TABLE + "number-rows-repeated", _ODS_TABLE + "number-columns-repeated"
_A_VALUE_TYPE = _ODS_OFFICE + "value-type"


class _OdsExtent:
    """The real extent of every sheet of an OpenDocument content.xml, fed in chunks to expat (no tree,
    no cell built). A repeat (``table:number-columns-repeated``, ``table:number-rows-repeated``) counts
    as that many cells or rows; a cell counts as filled when it has a value type or anything inside it
    (text, a nested table), and empty cells and rows count only when a filled one comes after them, so
    the million empty rows LibreOffice writes after the data are not part of the extent (calamine
    drops them too). Stops with IngestError as soon as a sheet is past the limits."""

    def __init__(self, label: str, lim: Limits) -> None:
        from xml.parsers import expat

        self.label, self.lim = label, lim
        self.sheets: list[list] = []  # [name, rows, columns] in the workbook's order
        self.depth = 0  # tables open (a table inside a cell is part of that cell)
        self.row = self.row_repeat = self.col = self.row_cols = 0
        self.cell: list | None = None  # [columns repeated, filled, elements open inside it] of the open cell
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.StartDoctypeDeclHandler = self._doctype

    def feed(self, data: bytes, final: bool = False) -> None:
        from xml.parsers import expat

        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise IngestError(
                f"{self.label}: cannot open as a spreadsheet (its content.xml is not well-formed at line {exc.lineno})"
            ) from exc

    def _doctype(self, *_args) -> None:  # entities could expand without limit: no DTD in a spreadsheet
        raise IngestError(f"{self.label}: cannot open as a spreadsheet (its content.xml declares a DTD)")

    def _start(self, name: str, attrs: dict) -> None:
        cell = self.cell
        if cell is not None:  # inside a cell: whatever is there fills it
            cell[1] = True
            cell[2] += 1
        elif name in _T_CELLS:
            if self.depth == 1:
                self.cell = [_repeat(attrs.get(_A_COLUMNS)), _A_VALUE_TYPE in attrs, 0]
        elif name == _T_ROW:
            self.row_repeat = _repeat(attrs.get(_A_ROWS))
            self.col = self.row_cols = 0
        elif name == _T_TABLE:
            self.depth += 1
            if self.depth == 1:
                self.sheets.append([attrs.get(_A_NAME, ""), 0, 0])
                self.row = 0

    def _end(self, name: str) -> None:
        cell = self.cell
        if cell is not None:
            if cell[2]:  # an element inside the cell closes
                cell[2] -= 1
                return
            self.col += cell[0]
            if cell[1]:
                self.row_cols = self.col
            self.cell = None
        elif name == _T_ROW:
            if self.depth != 1:
                return
            sheet = self.sheets[-1]
            if self.row_cols:
                sheet[1] = self.row + self.row_repeat
                sheet[2] = max(sheet[2], self.row_cols)
                if sheet[1] > self.lim.max_rows or sheet[2] > self.lim.max_columns or sheet[1] * sheet[2] > self.lim.max_cells:
                    self.refuse(sheet)
            self.row += self.row_repeat
        elif name == _T_TABLE:
            self.depth -= 1

    def refuse(self, sheet: list) -> None:
        check_extent(f"{self.label} (sheet {sheet[0]!r})" if len(self.sheets) > 1 else self.label, sheet[1], sheet[2], self.lim)


def ods_extent(path: Path | IO[bytes], sheet: str | int, label: str, lim: Limits | None = None) -> tuple[str, int, int]:
    """(sheet name, real rows, real columns) of one sheet of an .ods, after measuring every sheet
    (calamine parses them all when it opens the file) by streaming content.xml against
    ``max_unzipped_mb``; IngestError when any sheet is over the limits, naming it. A file's measure
    is kept while it is unchanged (import detection reads its headers several ways)."""
    lim = lim or limits()
    if isinstance(path, Path):
        stat = path.stat()
        sheets, refusal = _ods_measured(str(path), stat.st_size, stat.st_mtime_ns, label, lim)
    else:
        sheets, refusal = _ods_measure(path, label, lim)
    if refusal:
        raise IngestError(refusal)
    chosen = sheets[sheet] if isinstance(sheet, int) and sheet < len(sheets) else None
    if isinstance(sheet, str):
        chosen = next((s for s in sheets if s[0] == sheet), None)
    if chosen is None:
        names = ", ".join(repr(s[0]) for s in sheets) or "none"
        raise IngestError(f"{label}: no sheet {sheet!r} (the sheets are {names})")
    return chosen


@functools.lru_cache(maxsize=16)
def _ods_measured(path: str, _size: int, _mtime_ns: int, label: str, lim: Limits) -> tuple[tuple, str]:
    return _ods_measure(Path(path), label, lim)


def _ods_measure(path: Path | IO[bytes], label: str, lim: Limits) -> tuple[tuple, str]:
    """((name, rows, columns) of each sheet, "") or ((), the one-line refusal)."""
    budget = lim.max_unzipped_mb << 20
    measure = _OdsExtent(label, lim)
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(i.file_size for i in archive.infolist())
            if declared > budget:
                raise IngestError(
                    f"{label}: the spreadsheet unpacks to {declared / 1048576:,.0f} MB, over the {lim.max_unzipped_mb:,} MB "
                    f"limit ({_setting('max_unzipped_mb')})"
                )
            with archive.open("content.xml") as fh:
                for chunk in _part_chunks(fh, lim, f"{label}: the spreadsheet", size=1 << 20):
                    measure.feed(chunk)
            measure.feed(b"", final=True)
    except IngestError as exc:
        return (), str(exc)
    except KeyError:
        return (), f"{label}: cannot open as a spreadsheet (a part of the workbook is missing)"
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, OSError, ValueError) as exc:
        return (), f"{label}: cannot open as a spreadsheet: {_zip_refusal(label, exc).args[0].split(': ', 1)[1]}"
    return tuple(tuple(found) for found in measure.sheets), ""


# --- spreadsheets: read in a worker ------------------------------------------------------------


class _Worker:
    """One long-lived reader process with its address space capped. Requests and answers are one
    JSON line each; a worker that dies or overruns is killed and replaced."""

    def __init__(self, lim: Limits) -> None:
        from starviz import config

        env = dict(os.environ, PYTHONPATH=str(config.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env["RUST_BACKTRACE"] = "0"
        self.memory_mb = lim.worker_memory_mb
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "starviz.reader", "--worker", str(lim.worker_memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a native crash prints a backtrace: never shown to anyone
            cwd=str(config.ROOT),
            env=env,
        )

    def ask(self, request: dict, seconds: float) -> dict | None:
        """The answer, or None when the worker died or ran out of time (then it is gone)."""
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], seconds)
            line = self.proc.stdout.readline() if ready else b""
        except (BrokenPipeError, OSError, ValueError):
            line = b""
        if not line:
            self.kill()
            return None
        return json.loads(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    @property
    def died_of(self) -> str:
        code = self.proc.returncode
        return "ran out of time" if code in (None, -9) else "ran out of memory or crashed"


class _Pool:
    """The reader processes: at most ``[reader] workers`` alive at once (busy or idle); a read that
    finds them all busy waits for one. An idle worker ends after ``worker_idle_seconds``; a worker
    that crashed or overran is killed at once and its place given to the next read."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._idle: list[tuple[_Worker, float]] = []  # (worker, time.monotonic() it fell idle)
        self._live = 0  # processes started and not yet ended, busy or idle
        self.peak = 0  # the most alive at once (tests read it)
        self._idle_seconds = 60.0
        self._reaper: threading.Thread | None = None

    @property
    def live(self) -> int:
        with self._cond:
            return self._live

    def take(self, lim: Limits, label: str) -> _Worker:
        """An idle worker with the same memory cap, or a new one when fewer than ``lim.workers``
        are alive; else wait (at most twice ``worker_seconds``: every busy read ends by then)."""
        wait = 2 * lim.worker_seconds
        deadline = time.monotonic() + wait
        ended: list[_Worker] = []
        worker = None
        with self._cond:
            while True:
                for w, _since in list(self._idle):  # ended on their own: their places are free
                    if w.proc.poll() is not None:
                        self._idle.remove((w, _since))
                        self._live -= 1
                        ended.append(w)
                match = next((item for item in self._idle if item[0].memory_mb == lim.worker_memory_mb), None)
                if match is not None:
                    self._idle.remove(match)
                    worker = match[0]
                    break
                if self._live >= lim.workers and self._idle:  # an idle worker with another cap makes way
                    ended.append(self._idle.pop(0)[0])
                    self._live -= 1
                if self._live < lim.workers:
                    self._live += 1
                    self.peak = max(self.peak, self._live)
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IngestError(
                        f"{label}: the spreadsheet readers stayed busy for {wait:.0f} s (at most {lim.workers} at once, "
                        f"{_setting('workers')}); nothing from it was loaded; try again"
                    )
                self._cond.wait(remaining)
        for w in ended:
            w.kill()
        if worker is not None:
            return worker
        try:
            return _Worker(lim)
        except BaseException:
            self._ended()
            raise

    def give_back(self, worker: _Worker, lim: Limits) -> None:
        """A worker whose read is over: kept idle while it lives, else its place freed."""
        if worker.proc.poll() is not None:
            worker.kill()
            self._ended()
            return
        with self._cond:
            self._idle_seconds = lim.worker_idle_seconds
            self._idle.append((worker, time.monotonic()))
            self._cond.notify_all()
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="starviz-reader-reaper", daemon=True)
                self._reaper.start()

    def _ended(self) -> None:
        with self._cond:
            self._live -= 1
            self._cond.notify_all()

    def _reap(self) -> None:
        """End each worker idle for ``worker_idle_seconds``; this thread ends with the last idle one."""
        while True:
            with self._cond:
                now = time.monotonic()
                expired = [item for item in self._idle if now - item[1] >= self._idle_seconds]
                for item in expired:
                    self._idle.remove(item)
                self._live -= len(expired)
                if expired:
                    self._cond.notify_all()
                if not self._idle:
                    self._reaper = None
                else:
                    self._cond.wait(min(since for _w, since in self._idle) + self._idle_seconds - now)
                done = self._reaper is None
            for w, _since in expired:
                w.kill()
            if done:
                return

    def shutdown(self) -> None:
        """End the idle workers now (busy ones end when their read does: nothing keeps them)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._live -= len(idle)
            self._cond.notify_all()
        for w, _since in idle:
            w.kill()


_pool = _Pool()
atexit.register(lambda: _pool.shutdown())


def _ask_worker(request: dict, label: str, lim: Limits) -> dict:
    worker = _pool.take(lim, label)
    answer = None
    try:
        answer = worker.ask(request, lim.worker_seconds)
    finally:
        if answer is None:  # died, overran, or this thread was interrupted mid-request
            worker.kill()
        _pool.give_back(worker, lim)
    if answer is None:
        how = (
            f"took longer than {lim.worker_seconds:.0f} s ({_setting('worker_seconds')})"
            if worker.proc.returncode in (None, -9)
            else f"needed more than the {lim.worker_memory_mb:,} MB it may use ({_setting('worker_memory_mb')}) or crashed"
        )
        raise IngestError(f"{label}: reading the spreadsheet {how}; nothing from it was loaded")
    if "error" in answer:
        raise IngestError(f"{label}: {answer['error']}")
    return answer


def shutdown_workers() -> None:
    """Stop the idle reader processes (they also exit when this process does)."""
    _pool.shutdown()


def read_sheet(path: Path, sheet: str | int, header_row: int, label: str, out: Path, headers_only: bool = False) -> list[str]:
    """Read one sheet in a worker into an Arrow IPC file at ``out`` (columns c0..cN typed where the
    cells agree, and _row, the spreadsheet row); return its headers. ``path`` must be an .xlsx, .ods
    or .xls as :func:`choose` found it."""
    lim = limits()
    found = sniff(path)
    if found == "xlsx":
        xlsx_extent(path, sheet, label, lim)
    elif found == "ods":
        ods_extent(path, sheet, label, lim)
    request = {
        "path": str(path),
        "sheet": sheet,
        "header_row": header_row,
        "out": str(out),
        "headers_only": headers_only,
        "limits": lim.__dict__,
        "label": label,
        "by_content": _misnamed(path, found),
    }
    return _ask_spreadsheet(path, request, label, lim)["headers"]


def _misnamed(path: Path, found: str) -> bool:
    """Whether a spreadsheet's name says another type than its content (an .xlsx saved as .xls):
    calamine picks its reader by the name, so such a file is opened by its content instead."""
    return path.suffix.lower() not in {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",), "ods": (".ods",)}.get(found, ())


_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # the stream a password-protected .xlsx keeps its content in


def _ask_spreadsheet(path: Path, request: dict, label: str, lim: Limits) -> dict:
    """:func:`_ask_worker`; a workbook protected with a password (an encrypted .xlsx is an OLE file
    holding an EncryptedPackage stream; an .xls says so to calamine) is named as such."""
    try:
        return _ask_worker(request, label, lim)
    except IngestError as exc:
        if "password" in str(exc).lower() or (sniff(path) == "xls" and _holds(path, _ENCRYPTED)):
            raise IngestError(
                f"{label}: the workbook is protected with a password, so it cannot be read; open it in Excel, "
                "remove the password (File > Info > Protect Workbook) and save it again"
            ) from exc
        raise


def _holds(path: Path, needle: bytes) -> bool:
    import mmap

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(needle) >= 0


def read_head(path: Path, label: str, rows: int) -> list[tuple[str, list[list[str]]]]:
    """(name, the first ``rows`` rows as text) of every sheet of a workbook, read in a worker: where
    to look for a header that is not where the settings say (a notes sheet first, a title above)."""
    lim = limits()
    by_content = _misnamed(path, sniff(path))
    request = {"path": str(path), "head": rows, "limits": lim.__dict__, "label": label, "by_content": by_content}
    return [(name, head) for name, head in _ask_spreadsheet(path, request, label, lim)["sheets"]]


# --- the worker's side -------------------------------------------------------------------------


def cell_text(value: object) -> str | None:
    import datetime as dt

    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _excel_column(values: tuple):
    """A column of cells as one Arrow array: typed when the cells agree (fast), else as text."""
    import pyarrow as pa

    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([cell_text(v) for v in values], pa.string())
    kind = array.type
    if (
        pa.types.is_string(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
        or pa.types.is_null(kind)
    ):
        return array
    return pa.array([cell_text(v) for v in values], pa.string())


def _work(request: dict) -> dict:
    import itertools

    import pyarrow as pa

    lim = Limits(**request["limits"])
    if request.get("head"):
        return _head(request, lim)
    label, header_row, sheet = request["label"], request["header_row"], request["sheet"]
    try:
        book = _open_book(request)
        names = book.sheet_names
        if (isinstance(sheet, int) and sheet >= len(names)) or (isinstance(sheet, str) and sheet not in names):
            return {"error": f"no sheet {sheet!r} (the sheets are {', '.join(repr(n) for n in names) or 'none'})"}
        found = book.get_sheet_by_index(sheet) if isinstance(sheet, int) else book.get_sheet_by_name(sheet)
    except Exception as exc:  # calamine raises its own types for corrupt or truncated files
        return {"error": f"cannot open as a spreadsheet ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"}
    try:
        check_extent(label, found.total_height, found.total_width, lim)
    except IngestError as exc:
        return {"error": str(exc).split(": ", 1)[1]}
    rows = found.to_python(skip_empty_area=False)
    if len(rows) < header_row or not any(cell_text(v) for v in rows[header_row - 1]):
        return {"error": f"empty sheet: no header row at row {header_row}"}
    headers = [cell_text(v) or "" for v in rows[header_row - 1]]
    if request.get("headers_only"):
        return {"headers": headers}
    width = len(headers)
    body = rows[header_row:]
    arrays = {}
    for i, column in enumerate(itertools.zip_longest(*body, fillvalue=None)):
        if i >= width:
            break
        arrays[f"c{i}"] = _excel_column(column)
    for i in range(len(arrays), width):  # columns with a header and no cell below it
        arrays[f"c{i}"] = pa.nulls(len(body), pa.string())
    arrays["_row"] = pa.array(range(header_row + 1, header_row + 1 + len(body)), pa.int64())
    table = pa.table(arrays)
    with pa.OSFile(request["out"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return {"headers": headers, "rows": len(body)}


def _open_book(request: dict):
    from python_calamine import CalamineWorkbook

    if request.get("by_content"):  # calamine reads a file-like object by its content, a path by its name
        with open(request["path"], "rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    return CalamineWorkbook.from_path(request["path"])


def _head(request: dict, lim: Limits) -> dict:
    """The first rows of every sheet as text (a sheet over the limits, or unreadable, as none)."""

    try:
        book = _open_book(request)
    except Exception as exc:  # calamine raises its own types for corrupt or truncated files
        return {"error": f"cannot open as a spreadsheet ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"}
    sheets = []
    for name in book.sheet_names:
        try:
            found = book.get_sheet_by_name(name)
            check_extent(request["label"], found.total_height, found.total_width, lim)
            rows = found.to_python(skip_empty_area=False, nrows=request["head"])
        except Exception:  # this sheet cannot be the data: the others still can
            rows = []
        sheets.append([name, [[cell_text(v) or "" for v in row[: lim.max_columns]] for row in rows]])
    return {"sheets": sheets}


def _worker_main(memory_mb: int) -> None:
    import resource

    cap = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for line in sys.stdin.buffer:
        try:
            answer = _work(json.loads(line))
        except MemoryError:
            answer = {"error": f"reading the spreadsheet needed more than the {memory_mb:,} MB the reader may use"}
        sys.stdout.write(json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()


# --- one place that opens any file -------------------------------------------------------------


def members(
    path: Path,
    tmp: Path,
    label: str,
    pinned: str = "auto",
    notes: list[str] | None = None,
    blank_lines: dict[Path, bool] | None = None,
) -> Iterator[tuple[Path, str, str]]:
    """(path, label, kind) of each extract in a file: the file itself, or each member of a ZIP
    (unpacked under the limits). ``kind`` is ``csv``, ``xlsx``, ``ods`` or ``xls``, chosen by content; a
    note goes to ``notes`` when a name says otherwise."""
    notes = notes if notes is not None else []
    if path.stat().st_size == 0:
        raise IngestError(f"{label}: empty file (0 bytes)")
    kind, note = choose(path, label, pinned)
    if note:
        notes.append(note)
    if kind != "zip":
        yield path, label, kind
        return
    inner_pin = pinned if pinned in ("csv", "excel") else "auto"
    read, empty = 0, []
    for member, member_label in unzip_members(path, tmp, label, blank_lines=blank_lines):
        if member.stat().st_size == 0:  # nothing in it to lose: the others are read
            empty.append(member_label.rsplit("!", 1)[-1])
            notes.append(f"{label}: {empty[-1]} inside it is empty (0 bytes) and was skipped")
            continue
        read += 1
        inner, inner_note = choose(member, member_label, inner_pin)
        if inner == "zip":
            raise IngestError(f"{member_label}: a ZIP inside a ZIP is not read; unpack it first")
        if inner_note:
            notes.append(inner_note)
        yield member, member_label, inner
    if not read:
        raise IngestError(f"{label}: every file inside the ZIP is empty (0 bytes): {', '.join(empty)}")


def scratch_dir() -> str | None:
    """Scratch copies (ZIP members, re-encoded text) go to memory-backed /dev/shm where there is one."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


SCRATCH_PREFIX = "starviz-"


def scratch_prefix() -> str:
    """Scratch folders carry the pid of the process that made them, so a later start can tell the
    ones left by a killed process (see :func:`remove_stale_scratch`)."""
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


_swept = False


def remove_stale_scratch(once: bool = False) -> list[Path]:
    """Remove scratch folders left by processes that no longer run (a killed build or app).
    ``once``: only the first call in this process sweeps (the app calls it on every run)."""
    import tempfile

    global _swept
    if once and _swept:
        return []
    _swept = True

    removed = []
    for root in {scratch_dir() or tempfile.gettempdir(), tempfile.gettempdir()}:
        for folder in Path(root).glob(f"{SCRATCH_PREFIX}*-*"):
            pid = folder.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
            if not pid.isdigit() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            try:
                os.kill(int(pid), 0)
                continue  # still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker_main(int(sys.argv[2]))
