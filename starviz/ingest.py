"""Read one council extract into typed raw rows and rejects, exactly as its config describes.

Bulk work happens in DuckDB: the file is read as text columns by position, then one vectorised
SELECT parses dates and amounts per the council's styles and collects every row-level problem.
Every row keeps its ``source_file`` and ``source_row`` (the spreadsheet row number a person would
see); a row that cannot be parsed goes to ``rejects`` with file, row, column, value and reason,
and ``rows_read = rows_loaded + rows_rejected`` always holds.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from starviz import config, reader
from starviz.config import CouncilConfig, DatasetConfig
from starviz.models import DATASETS, Dataset
from starviz.reader import ALLOWED_SUFFIXES, CSV_SUFFIXES, EXCEL_SUFFIXES, IngestError

__all__ = ["ALLOWED_SUFFIXES", "CSV_SUFFIXES", "EXCEL_SUFFIXES", "IngestError"]
UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}

LEDGER_DDL = """
create table if not exists file_ledger (
    file_id integer,
    council_id varchar,
    dataset varchar,
    source_file varchar,
    sha256 varchar,
    size_bytes bigint,
    status varchar,          -- loaded | duplicate | failed
    message varchar,
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    amount_total decimal(18,2),
    first_date date,
    last_date date,
    loaded_at timestamp,
    received_at timestamp    -- when the file arrived (its modification time under raw/)
)"""

# Rows are written to raw_<dataset> as they are read, each with its problems in this working
# column (null for a clean row); rejected rows are then moved to `rejects` and deleted, and
# `finish_tables` drops the column. The rows are copied once, not through a temporary table.
ISSUES = "_issues"
ISSUES_TYPE = "struct(col varchar, val varchar, why varchar, sev varchar)[]"

REJECTS_DDL = """
create table if not exists rejects (
    council_id varchar,
    dataset varchar,
    source_file varchar,
    source_row bigint,
    column_name varchar,     -- the header as it appears in the file
    value varchar,
    reason varchar,
    severity varchar         -- rejected | skipped | warning (row still loaded)
)"""


@dataclass
class FileResult:
    council_id: str
    dataset: str
    source_file: str
    sha256: str = ""
    size_bytes: int = 0
    status: str = "loaded"
    message: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    amount_total: Decimal | None = None
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    problems: int = 0  # every problem found (rows can have several), however many are listed
    preview: list[dict] = field(default_factory=list)  # first rows as parsed (check_file with preview_limit)
    notes: list[str] = field(default_factory=list)  # how it was read, when its name says otherwise
    months: list[dt.date] = field(default_factory=list)  # months its loaded spend lines fall in (check_file)

    def as_json(self) -> dict:
        return {
            "council_id": self.council_id,
            "dataset": self.dataset,
            "source_file": self.source_file,
            "status": self.status,
            "message": self.message,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "amount_total": None if self.amount_total is None else float(self.amount_total),
            "amount_total_text": None if self.amount_total is None else f"{self.amount_total:.2f}",
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
            "mapping": self.mapping,
            "rejected_by_reason": self.reasons,
            "notes": self.notes,
        }


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The raw tables, derived from the dataset models, plus the ledger and rejects."""
    lineage = "council_id varchar, file_id integer, source_file varchar, source_row bigint"
    for name, model in DATASETS.items():
        con.execute(
            f"create table if not exists raw_{name} ({lineage},\n    {model.raw_columns_sql()},\n    {ISSUES} {ISSUES_TYPE})"
        )
    con.execute(LEDGER_DDL)
    con.execute(REJECTS_DDL)


def finish_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Once every file is read: the raw tables without the working column that carried each row's
    problems (a metadata change, not a rewrite), so they hold exactly the models' fields."""
    for name in DATASETS:
        con.execute(f"alter table raw_{name} drop column if exists {ISSUES}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _norm_header(text: object) -> str:
    return re.sub(r"\s+", " ", str(text or "").replace("\ufeff", "")).strip().lower()


def _loose_header(text: object) -> str:
    """A header with case, spaces and punctuation ignored ("Payment_Date", "payment date" and
    "PaymentDate" are one header): tried only when no header matches as written."""
    return re.sub(r"[^0-9a-z]+", "", _norm_header(text))


def map_headers(headers: list[str], ds: DatasetConfig, model: type[Dataset], file_label: str) -> dict[str, int]:
    """Canonical field -> column position, taking each field's first header variant present
    (as written, case and spacing aside; else with punctuation and spaces ignored too)."""
    position, loose = {}, {}
    for i, h in enumerate(headers):
        position.setdefault(_norm_header(h), i)
        if _loose_header(h):
            loose.setdefault(_loose_header(h), i)
    mapping = {}
    for canonical, variants in ds.fields.items():
        found = next((position[_norm_header(v)] for v in variants if _norm_header(v) in position), None)
        if found is None:
            found = next((loose[_loose_header(v)] for v in variants if _loose_header(v) in loose), None)
        if found is not None:
            mapping[canonical] = found
    missing = [f for f in model.required_fields() if f not in mapping and f not in ds.constants]
    if missing:
        tried = "; ".join(f"{f} (tried {', '.join(repr(v) for v in ds.fields.get(f, []))})" for f in missing)
        found = ", ".join(repr(h) for h in headers if str(h or "").strip()) or "none"
        raise IngestError(
            f"{file_label}: row {ds.header_row}: cannot find the column(s) for required field(s) {tried}. Headers found: {found}"
        )
    return mapping


def duplicate_headers(headers: list[str], mapping: dict[str, int], label: str) -> list[str]:
    """A note for each loaded column whose header appears again further along: the first is read."""
    notes = []
    for position in sorted(set(mapping.values())):
        key = _loose_header(headers[position])
        again = [i for i, h in enumerate(headers) if i > position and key and _loose_header(h) == key]
        if again:
            where = ", ".join(reader.column_letters(i + 1) for i in again)
            notes.append(
                f"{label}: column {reader.column_letters(position + 1)} ({headers[position]!r}) is read; "
                f"column {where} has the same header and is not read"
            )
    return notes


# --- reading files as text columns c0..cN, each row numbered as a spreadsheet shows it -----------


def _not_utf8(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 in a file said to be UTF-8, read as Windows-1252 (what Excel and
    most Windows tools save "ANSI" text in: "Caf\xe9", "\xa3500"); the 5 bytes Windows-1252 leaves
    undefined as Latin-1. Registered as the codec error handler ``starviz-cp1252``."""
    bad = exc.object[exc.start : exc.end]
    try:
        return bytes(bad).decode("cp1252"), exc.end
    except UnicodeDecodeError:
        return bytes(bad).decode("latin-1"), exc.end


codecs.register_error("starviz-cp1252", _not_utf8)


def _text_encoding(ds: DatasetConfig) -> tuple[str, str]:
    """(encoding, error handler) a CSV of this dataset is decoded with: UTF-8 (a byte order mark
    dropped) with stray Windows-1252 bytes read as such, else the configured encoding, strictly."""
    if ds.encoding.lower() in UTF8:
        return "utf-8-sig", "starviz-cp1252"
    return ds.encoding, "strict"


def _csv_rows(path: Path, ds: DatasetConfig, label: str, count: int) -> list[list[str]]:
    """The first ``count`` records of a CSV as the dataset's encoding and delimiter read them."""
    limit = reader.limits().max_field_chars
    csv.field_size_limit(limit)
    encoding, errors = _text_encoding(ds)
    out: list[list[str]] = []
    with path.open("r", encoding=encoding, errors=errors, newline="") as fh:
        rows = csv.reader(fh, delimiter=ds.delimiter)
        try:
            for row in rows:
                out.append(row)
                if len(out) >= count:
                    break
        except UnicodeDecodeError as exc:
            raise IngestError(_encoding_message(path, label, ds.encoding)) from exc
        except csv.Error as exc:
            raise IngestError(
                f"{label}: row {rows.line_num}: a field is longer than {limit:,} characters (perhaps a quote "
                f"that is never closed); the limit is [reader] max_field_chars in data/settings.toml"
            ) from exc
    return out


def _csv_header(path: Path, ds: DatasetConfig, label: str) -> list[str]:
    rows = _csv_rows(path, ds, label, ds.header_row)
    header = rows[ds.header_row - 1] if len(rows) >= ds.header_row else None
    if not header or not any(h.strip() for h in header):
        raise IngestError(f"{label}: empty file: no header row at row {ds.header_row}")
    return [h.replace("\ufeff", "") for h in header]


_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_DELIMITER_WORD = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
HEADER_SEARCH_ROWS = 30  # how far down a header is looked for when it is not where the settings say


def _bom_encoding(path: Path) -> str | None:
    """The encoding a byte order mark declares (Excel's "Unicode text" is UTF-16 with one)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    return None


def _same_encoding(a: str, b: str) -> bool:
    name, other = codecs.lookup(a).name, codecs.lookup(b).name
    return name == other or {name, other} <= {"utf-8", "utf-8-sig"} or (name.startswith("utf-16") and other.startswith("utf-16"))


def _not_a_table(path: Path, label: str) -> str | None:
    with path.open("rb") as fh:
        return reader.not_a_table(fh.read(4096), label)


def _csv_layout(
    path: Path, ds: DatasetConfig, model: type[Dataset], label: str
) -> tuple[DatasetConfig, list[str], dict[str, int], list[str]]:
    """How a CSV is really laid out: (the dataset settings adjusted to it, its headers, the field
    mapping, notes saying what differs from the settings). A byte order mark decides the encoding;
    when the required columns are not on the configured header row, the first rows are searched
    with each common delimiter for the row that has them (title rows above the header, a file
    saved with semicolons or tabs). Only a file that fails as configured is searched."""
    notes = []
    bom = _bom_encoding(path)
    if bom and not _same_encoding(bom, ds.encoding):
        notes.append(
            f"{label}: read as {bom.upper()}, as the file's byte order mark says (the council's settings say "
            f"encoding = {ds.encoding!r})"
        )
        ds = ds.model_copy(update={"encoding": bom})
    try:
        headers = _csv_header(path, ds, label)
        return ds, headers, map_headers(headers, ds, model, label), notes
    except IngestError as first:
        failure = first
    if why := _not_a_table(path, label):
        raise IngestError(why) from failure
    rows_by_delimiter = {}
    for delimiter in dict.fromkeys([ds.delimiter, ",", ";", "\t", "|"]):
        try:
            trial = ds.model_copy(update={"delimiter": delimiter})
            rows_by_delimiter[delimiter] = _csv_rows(path, trial, label, HEADER_SEARCH_ROWS)
        except IngestError:
            continue
    for delimiter, rows in rows_by_delimiter.items():
        for number, row in enumerate(rows, 1):
            if (delimiter, number) == (ds.delimiter, ds.header_row) or len(row) < 2:
                continue
            trial = ds.model_copy(update={"delimiter": delimiter, "header_row": number})
            headers = [h.replace("\ufeff", "") for h in row]
            try:
                mapping = map_headers(headers, trial, model, label)
            except IngestError:
                continue
            if number != ds.header_row:
                notes.append(
                    f"{label}: the header is on row {number}, not row {ds.header_row} as the council's settings say "
                    "(header_row); the rows above it are not read"
                )
            if delimiter != ds.delimiter:
                notes.append(
                    f"{label}: the columns are separated by {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}, not "
                    f"{_DELIMITER_NAMES.get(ds.delimiter, repr(ds.delimiter))} as the council's settings say (delimiter)"
                )
            return trial, headers, mapping, notes
    raise failure


def _encoding_message(path: Path, label: str, encoding: str) -> str:
    data = path.read_bytes()
    try:
        data.decode(encoding)
        return f"{label}: cannot be decoded as {encoding}"
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 4]
        return (
            f"{label}: row {row}: bytes {bad!r} are not valid {encoding}; the council config says "
            f"encoding = {encoding!r}. Save the file as {encoding} or fix the encoding in the council's TOML."
        )


def _lines_not_utf8(data: bytes, label: str) -> str | None:
    """A note naming the lines of a UTF-8 file that hold bytes read as Windows-1252, or None."""
    lines, shown = [], []
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            lines.append(number)
            if len(shown) < 3:
                shown.append(line[exc.start : exc.start + 1].decode("cp1252", "replace"))
    if not lines:
        return None
    where = ", ".join(f"{n:,}" for n in lines[:5]) + (f" and {len(lines) - 5:,} more" if len(lines) > 5 else "")
    return (
        f"{label}: row{'s' if len(lines) > 1 else ''} {where}: characters that are not UTF-8 were read as "
        f"Windows-1252 ({' '.join(dict.fromkeys(shown))}), as Excel saves them; check the names there"
    )


def _utf8_copy(path: Path, ds: DatasetConfig, tmp: Path, label: str, notes: list[str] | None = None) -> Path:
    """A UTF-8 copy DuckDB can read with rows in place: re-encoded, blank lines kept as empty rows."""
    encoding, errors = _text_encoding(ds)
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise IngestError(_encoding_message(path, label, ds.encoding)) from exc
        text = data.decode(encoding, errors)
        if notes is not None and (note := _lines_not_utf8(data, label)):
            notes.append(note)
    out = tmp / (path.stem + ".utf8.csv")
    # A blank line becomes a row of empty cells so row numbers match what a person sees. Lines end
    # at CR LF, LF or CR only (str.splitlines also splits at form feeds and Unicode separators,
    # which can sit inside a value).
    text = text.removesuffix("\n").removesuffix("\r")
    lines = (line if line.strip() else ds.delimiter for line in re.split(r"\r\n|\n|\r", text))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _physical_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _has_blank_line(path: Path) -> bool:
    data = path.read_bytes()
    return b"\n\n" in data or b"\n\r\n" in data


def _csv_sources(readable: Path, ds: DatasetConfig, width: int) -> list[str]:
    """read_csv expressions for text columns c0..cN: parallel first, then serial (which copes with
    quoted new lines alongside short rows)."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    base = (
        f"read_csv({_lit(str(readable))}, auto_detect=false, header=false, skip={ds.header_row}, "
        f"delim={_lit(ds.delimiter)}, quote='\"', escape='\"', null_padding=true, "
        f"max_line_size={reader.limits().max_field_chars}, {{parallel}} columns={columns})"
    )
    return [base.replace("{parallel}", ""), base.replace("{parallel}", "parallel=false,")]


@dataclass
class _Source:
    """Where `_stage` reads text columns from: SQL sources to try in order, and how rows are numbered."""

    headers: list[str]
    sources: list[str]
    first_row: int | None  # CSV: spreadsheet row of the first record (rowid + first_row); Excel: column _row
    excel: bool
    blank_check: Path | None = None  # a UTF-8 file whose blank lines DuckDB would skip
    text_file: Path | None = None  # the CSV DuckDB reads (UTF-8), to say where it cannot tell rows apart
    width: int = 0  # CSV: the columns read when some rows have more cells than the header (else the header's)


def _read_csv(
    path: Path, ds: DatasetConfig, tmp: Path, label: str, headers: list[str], notes: list[str], blank: bool | None = None
) -> _Source:
    """``ds`` as :func:`_csv_layout` found the file laid out, ``headers`` its header row; ``blank``:
    whether the file has a blank line, when unzipping it found out (else it is read for it)."""
    # Small files are checked for blank lines up front; big ones only when the record count says so.
    has_blank = _has_blank_line if blank is None else (lambda _path: blank)
    if ds.encoding.lower() in UTF8 and (path.stat().st_size > (16 << 20) or not has_blank(path)):
        return _Source(headers, _csv_sources(path, ds, len(headers)), ds.header_row + 1, False, blank_check=path, text_file=path)
    readable = _utf8_copy(path, ds, tmp, label, notes)
    return _Source(headers, _csv_sources(readable, ds, len(headers)), ds.header_row + 1, False, text_file=readable)


class _NotUtf8(IngestError):
    """DuckDB met bytes that are not UTF-8 in a file it read as it is: read a re-encoded copy."""


def _text_sql(col: str, kind: pa.DataType) -> str:
    """SQL turning a typed Excel column into the text a person sees (as `_cell_text` does)."""
    if pa.types.is_floating(kind):
        return f"case when {col} = trunc({col}) and abs({col}) < 1e15 then {col}::bigint::varchar else {col}::varchar end"
    if pa.types.is_boolean(kind):
        return f"case when {col} then 'Y' when not {col} then 'N' end"
    if pa.types.is_timestamp(kind):
        return (
            f"case when {col}::time = '00:00:00' then strftime({col}, '%Y-%m-%d') else strftime({col}, '%Y-%m-%d %H:%M:%S') end"
        )
    if pa.types.is_string(kind):
        return f"nullif({col}, '')"
    return f"{col}::varchar"


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path, ds: DatasetConfig, tmp: Path, label: str) -> _Source:
    """The sheet read in the guarded worker (``reader.read_sheet``), then typed cells turned into
    the text a person sees, in DuckDB."""
    out = tmp / (path.name + ".arrow")
    headers = reader.read_sheet(path, ds.sheet, ds.header_row, label, out)
    with pa.memory_map(str(out)) as source:
        table = pa.ipc.open_file(source).read_all()
    texts = [f"{_text_sql(name, table.schema.field(name).type)} as {name}" for name in table.column_names if name != "_row"]
    con.register("_arrow_src", table)
    try:
        con.execute(f"create or replace temp table _sheet as select {', '.join(texts)}, _row from _arrow_src")
    finally:
        con.unregister("_arrow_src")
    out.unlink(missing_ok=True)
    return _Source(headers, ["_sheet"], None, True)


def _excel_layout(
    con: duckdb.DuckDBPyConnection, path: Path, ds: DatasetConfig, model: type[Dataset], tmp: Path, label: str
) -> tuple[DatasetConfig, _Source, dict[str, int], list[str]]:
    """The sheet read as configured; when the required columns are not on its header row (or the
    sheet is empty or missing), the first rows of every sheet are searched for the row that has
    them (a notes sheet before the data, a title above the header, merged or not) and that sheet is
    read instead, with a note. Only a workbook that fails as configured is searched."""
    try:
        src = _read_excel(con, path, ds, tmp, label)
        return ds, src, map_headers(src.headers, ds, model, label), []
    except IngestError as exc:
        if not any(w in str(exc) for w in ("cannot find the column", "empty sheet", "no sheet")):
            raise
        failure = exc
    sheets = list(enumerate(reader.read_head(path, label, HEADER_SEARCH_ROWS)))
    sheets.sort(key=lambda item: not _is_sheet(ds.sheet, item[0], item[1][0]))  # the configured sheet first
    for index, (name, rows) in sheets:
        configured = _is_sheet(ds.sheet, index, name)
        for number, row in enumerate(rows, 1):
            if (configured and number == ds.header_row) or sum(1 for c in row if c) < 2:
                continue
            trial = ds.model_copy(update={"sheet": index, "header_row": number})
            try:
                map_headers(row, trial, model, label)
            except IngestError:
                continue
            notes = []
            if not configured:
                said = f"sheet {ds.sheet + 1}" if isinstance(ds.sheet, int) else f"sheet {ds.sheet!r}"
                notes.append(f"{label}: the data is on sheet {name!r}, not {said} as the council's settings say (sheet)")
            if number != ds.header_row:
                notes.append(
                    f"{label}: the header is on row {number}, not row {ds.header_row} as the council's settings say "
                    "(header_row); the rows above it are not read"
                )
            src = _read_excel(con, path, trial, tmp, label)
            return trial, src, map_headers(src.headers, trial, model, label), notes
    raise failure


def _is_sheet(configured: str | int, index: int, name: str) -> bool:
    return configured == index if isinstance(configured, int) else configured == name


# --- parsing: one SELECT over the source -----------------------------------------------------------


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _money_sql(col: str, ds: DatasetConfig, cast: str) -> str:
    style = ds.amount
    strip = "".join(re.escape(s) for s in style.currency_symbols) + r"\s" + re.escape(style.thousands)
    body = f"regexp_replace({col}, {_lit('[' + strip + '()+-]')}, '', 'g')"
    if style.decimal != ".":
        body = f"replace({body}, {_lit(style.decimal)}, '.')"
    # Every negative convention is recognised whatever the config says: reading "(12.00)" or "12-"
    # as a positive amount would be silently wrong.
    neg = [
        f"starts_with(ltrim({col}, {_lit(''.join(style.currency_symbols) + ' ')}), '-')",
        f"(starts_with({col}, '(') and ends_with({col}, ')'))",
        f"ends_with({col}, '-')",
    ]
    sign = f"(case when {' or '.join(neg)} then -1 else 1 end)"
    # Only digits, one decimal point, and the allowed decorations may appear.
    # Thousands separators only between groups of three ("1,234,567"); "1,2,3" is not an amount.
    deco = "".join(re.escape(s) for s in style.currency_symbols) + r"\s"
    groups = r"([0-9]+|[0-9]{1,3}(" + re.escape(style.thousands) + r"[0-9]{3})+)?" if style.thousands else "[0-9]*"
    allowed = "^[" + deco + r"()+\-]*" + groups + r"(\.[0-9]*)?[" + deco + r"()\-]*$"
    # Fast path: most files hold plain numbers, which a cast reads directly.
    plain = f"try_cast({col} as {cast})" if style.decimal == "." else "null"
    return (
        f"coalesce({plain}, case when regexp_matches(replace({col}, {_lit(style.decimal)}, '.'), {_lit(allowed)}) "
        f"and contains({col}, '(') = ends_with({col}, ')') and length({col}) - length(replace({col}, '(', '')) <= 1 "
        f"then try_cast({body} as {cast}) * {sign} end)"
    )


UNAMBIGUOUS_DATES = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%B-%Y",
    "%d %b %y",
]


def _date_formats(ds: DatasetConfig, excel: bool) -> tuple[list[str], list[str]]:
    """The dataset's date formats split into those that give a day and those that give only the
    month ("%b %Y"), in config order; an Excel date cell reads as ISO text, so Excel adds ISO."""
    formats = list(ds.date_formats) + (["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"] if excel else [])
    # After the configured formats: each with a time of day after it (a date exported from a system
    # that stores midnight, "01/04/2024 00:00"), then the formats no reader can take for another
    # (ISO, with or without a time; the month as a word), whatever the settings say.
    with_time = [f"{f}{t}" for f in ds.date_formats if "%H" not in f for t in (" %H:%M:%S", " %H:%M")]
    formats = list(dict.fromkeys(formats + with_time + UNAMBIGUOUS_DATES))
    has_day = [f for f in formats if "%d" in f or "%j" in f or "%e" in f]
    return has_day, [f for f in formats if f not in has_day]


def _strptime_sql(col: str, formats: list[str]) -> str:
    fmts = "[" + ", ".join(_lit(f) for f in formats) + "]"
    parse = f"try_strptime({col}, {fmts})::date"
    if "%Y-%m-%d" in formats:  # fast path: ISO dates cast directly (exactly 10 characters, no time)
        return f"coalesce(case when length({col}) = 10 then try_cast({col} as date) end, {parse})"
    return parse


def _serial_sql(col: str) -> str:
    """An Excel date serial (days since 30 Dec 1899: 45383 is 1 April 2024) as a date. A date cell
    whose format was lost reads as its serial, often beside real dates in the same column; only
    in a spreadsheet, and only a whole number of five digits (1927 to 2173; plausibility decides)."""
    return f"case when regexp_full_match({col}, '[1-9][0-9]{{4}}') then DATE '1899-12-30' + {col}::integer end"


def _day_sql(col: str, ds: DatasetConfig, excel: bool) -> str:
    """The date a text reads as with a format that gives the day (in a spreadsheet, or as an Excel
    serial); null when none does."""
    has_day, _month_only = _date_formats(ds, excel)
    day = _strptime_sql(col, has_day) if has_day else "null::date"
    return f"coalesce({day}, {_serial_sql(col)})" if excel else day


def _date_sql(col: str, ds: DatasetConfig, excel: bool, day: str | None = None) -> str:
    """The date a text reads as: with a format that gives the day, else with one that gives only
    the month (as its 1st). ``day``: the column already holding :func:`_day_sql` of ``col``, so a
    date whose precision is kept is parsed once, not once for its value and again for its precision."""
    has_day, month_only = _date_formats(ds, excel)
    day = day or (_day_sql(col, ds, excel) if has_day or excel else None)
    month = _strptime_sql(col, month_only) if month_only else None
    return f"coalesce({day}, {month})" if day and month else day or month or "null::date"


def _parse_sql(kind: str, col: str, ds: DatasetConfig, excel: bool, day: str | None = None) -> str:
    if kind == "text":
        return col
    if kind == "date":
        return _date_sql(col, ds, excel, day)
    if kind == "money":
        return _money_sql(col, ds, "decimal(18,2)")
    if kind == "number":
        return _money_sql(f"rtrim({col}, '%')", ds, "double")
    if kind == "flag":
        return (
            f"case when upper({col}) in ('Y', 'YES', 'TRUE', '1', 'T') then true "
            f"when upper({col}) in ('N', 'NO', 'FALSE', '0', 'F') then false end"
        )
    raise ValueError(kind)


def _precision_sql(day: str, value: str) -> str:
    """'day' when the text read with a format that has a day (or is an ISO date), 'month' when only
    a format without one read it ("Sep 2014"): a month-only date is kept as its 1st but must not be
    shown or compared as that day. From the parse already done (``day``: the day-format parse,
    ``value``: the date), never a second one."""
    return f"case when {day} is not null then 'day' when {value} is not null then 'month' end"


def _expected(kind: str, ds: DatasetConfig) -> str:
    if kind == "date":
        return "a date like " + " or ".join(dt.date(2025, 3, 31).strftime(f) for f in ds.date_formats)
    if kind in ("money", "number"):
        return "an amount like 1,234.56"
    return "Y or N"


_NO_VALUE = r"\s*(-+|–|—|n/?a|none|nil|null|tbc|tba|\?+)\s*"  # what is written where there is no value


def _unreadable_sql(kind: str, raw: str, ds: DatasetConfig, why: str) -> str:
    """The reason a value cannot be read, as SQL over the text (evaluated only for such values):
    a mark for "no value" ("-", "N/A") said to be one, never read as 0; an amount written with a
    decimal comma (1.234,56) where the settings read a decimal point said to be one; else ``why``."""
    if kind not in ("money", "number"):
        return _lit(why)
    what = raw_label(kind)
    cases = [
        f"when regexp_full_match({raw}, {_lit(_NO_VALUE)}, 'i') then " + _lit(f"no {what} given: read as missing, never as 0")
    ]
    if ds.amount.decimal == "." and ds.amount.thousands != ".":
        cases.append(
            f"when regexp_full_match({raw}, '[^0-9,.]*[0-9]{{1,3}}([.][0-9]{{3}})*,[0-9]{{1,2}}[^0-9,.]*') then "
            + _lit(
                f"cannot read {what}: written with a decimal comma (1.234,56), but the council's settings read a "
                "decimal point (1,234.56); save the file with a decimal point, or set amount.decimal in its TOML"
            )
        )
    return f"case {' '.join(cases)} else {_lit(why)} end"


def _trim_sql(col: str) -> str:
    """``trim(col)``, computed only where it can change the text. DuckDB's trim strips the Unicode
    space separators (Zs: the space, U+00A0, U+2000-U+200A, U+3000 ...), every one non-ASCII but
    the space, and costs a pass decoding every character to find a text's end: on the real Trafford
    files a fifth of the read. A text all ASCII (as many bytes as characters) that neither starts
    with a space (or anything below "!") nor ends with one is its own trim."""
    return f"case when {col} < '!' or strlen({col}) <> length({col}) or ends_with({col}, ' ') then trim({col}) else {col} end"


def _stage(
    con: duckdb.DuckDBPyConnection,
    model: type[Dataset],
    ds: DatasetConfig,
    mapping: dict[str, int],
    src: _Source,
    path: Path,
    label: str,
    lineage: list,
) -> int:
    """Every record of the source read, parsed and written to ``raw_<dataset>`` in one pass: typed
    canonical columns, the spreadsheet row, and the row's problems (``_issues``; null when clean).
    ``lineage`` is the council id, file id and label every row carries. Returns the number of
    records, with the rows written in a transaction left open: the caller commits it once the
    rejected rows are settled (:func:`_settle`), or rolls it back. Nothing is left written when
    this raises."""
    headers, excel = src.headers, src.excel
    # Three layers, so each cell is trimmed once and parsed once: the text of each loaded column
    # (_t_<field>), then its parsed value, then the problems, which compare the two.
    texts = [f"nullif({_trim_sql(f'c{i}')}, '') as _t_{f}" for f, i in mapping.items()]
    clean = {f: f"_t_{f}" for f in mapping}
    # A date whose precision is kept is read with its day formats once, in a layer of its own
    # (_d_<field>); its value and its precision both come from that one parse.
    names = set(model.field_names())
    days = {f: f"_d_{f}" for f in clean if model.kind(f) == "date" and f"{f}_precision" in names}
    day_cols = [f"{_day_sql(clean[f], ds, excel)} as {col}" for f, col in days.items()]
    selects, parsed_cols, problems, conditions = [], [], [], []
    for name in model.field_names():
        kind = model.kind(name)
        base = name.removesuffix("_precision")
        if base != name and base in days:  # the date's parsed value is in scope in this outer layer
            selects.append(f"{_precision_sql(days[base], base)} as {name}")
            continue
        if name in clean:
            raw = clean[name]
        elif name in ds.constants:
            raw = _lit(ds.constants[name])
        else:
            selects.append(f"null::{_sql_type(kind)} as {name}")
            continue
        parsed_cols.append(f"{_parse_sql(kind, raw, ds, excel, days.get(name))} as {name}")
        selects.append(name)
        header = _lit(headers[mapping[name]] if name in mapping else name)
        required = name in model.required_fields()
        if required:
            conditions.append(f"{raw} is null")
            problems.append(
                f"case when {raw} is null then struct_pack(col := {header}, val := null::varchar, "
                f"why := {_lit('missing ' + name.replace('_', ' '))}, sev := 'rejected') end"
            )
        if kind != "text":
            severity = "rejected" if required else "warning"
            why = f"cannot read {raw_label(kind)}: expected {_expected(kind, ds)}"
            conditions.append(f"({raw} is not null and {name} is null)")
            problems.append(
                f"case when {raw} is not null and {name} is null then struct_pack(col := {header}, "
                f"val := {raw}, why := {_unreadable_sql(kind, raw, ds, why)}, sev := {_lit(severity)}) end"
            )
        if name in mapping or name in ds.constants:
            for condition, why in _implausible(kind, name):
                conditions.append(condition)
                problems.append(
                    f"case when {condition} then struct_pack(col := {header}, val := {raw}, "
                    f"why := {_lit(why)}, sev := 'rejected') end"
                )
    # Blank = nothing in any column we load; unmapped columns are never read, which keeps this fast.
    all_blank = " and ".join(f"{clean[f]} is null" for f in clean) or "false"
    skips = [
        f"case when regexp_matches(coalesce({clean[f]}, ''), {_lit(rx)}) then struct_pack(col := "
        f"{_lit(headers[mapping[f]])}, val := {clean[f]}, why := 'summary row (skipped by config rule)', "
        f"sev := 'skipped') end"
        for f, rx in ds.skip_rows_where.items()
        if f in clean
    ]
    blank = "struct_pack(col := '', val := null::varchar, why := 'blank row', sev := 'skipped')"
    extra = ""
    if src.width > len(headers):  # cells beyond the header: the row's values cannot be placed
        letter = reader.column_letters(len(headers) + 1)
        why = (
            f"this row has more cells than the header's {len(headers)} columns: perhaps a value holds a "
            f"{_DELIMITER_WORD.get(ds.delimiter, 'delimiter')} and is not in quotes; put it in quotes and load the file again"
        )
        texts.append(f"coalesce({', '.join(f'c{i}' for i in range(len(headers), src.width))}) as _extra")
        extra = (
            f"when _extra is not null then [struct_pack(col := {_lit('column ' + letter)}, val := _extra, "
            f"why := {_lit(why)}, sev := 'rejected')] "
        )
    issues = (
        f"case {extra}when {all_blank} then [{blank}] "
        + (
            f"when list_filter([{', '.join(skips)}], lambda x: x is not null) <> [] "
            f"then list_filter([{', '.join(skips)}], lambda x: x is not null) "
            if skips
            else ""
        )
        # Most rows are clean: test that first rather than build and filter a list for every row.
        + (
            f"when {' or '.join(conditions)} then list_filter([{', '.join(problems)}], lambda x: x is not null) "
            if conditions
            else ""
        )
        + "else null end"
    )
    row = "_row, " if src.first_row is None else ""
    text_layer = f"select {row}{', '.join(texts) or 'null as _none'} from {{source}}"
    if day_cols:
        text_layer = f"select *, {', '.join(day_cols)} from ({text_layer})"
    parsed_layer = f"select *, {', '.join(parsed_cols) or 'null as _none2'} from ({text_layer})"
    # The spreadsheet row: Excel carries it; a CSV's records are numbered in file order (DuckDB
    # keeps the reader's order through this streaming window).
    numbering = "_row" if src.first_row is None else f"row_number() over () + {src.first_row - 1}"
    fields = ", ".join(model.field_names())
    sql = (
        f"insert into raw_{model.dataset} (council_id, file_id, source_file, source_row, {fields}, {ISSUES}) "
        f"select ?, ?, ?, {numbering}, {fields}, {ISSUES} from ("
        f"select {row}{', '.join(selects)}, {issues} as {ISSUES} from ({parsed_layer}))"
    )
    for n, source in enumerate(src.sources):
        con.execute("begin transaction")
        try:
            records = con.execute(sql.replace("{source}", source), lineage).fetchone()[0]
            return records
        except duckdb.Error as exc:
            con.execute("rollback")
            message = str(exc)
            if "parallel" in message and n + 1 < len(src.sources):
                continue
            if "unicode" in message.lower() or "utf" in message.lower():
                if src.blank_check is not None and ds.encoding.lower() in UTF8:
                    raise _NotUtf8(f"{label}: bytes that are not UTF-8") from exc
                raise IngestError(_encoding_message(path, label, ds.encoding)) from exc
            if "maximum line size" in message.lower():
                line = re.search(r"Line: (\d+)", message)  # the file's own line number
                where = f"row {int(line.group(1))}: " if line else ""
                raise IngestError(
                    f"{label}: {where}a line is longer than {reader.limits().max_field_chars:,} characters "
                    "(perhaps a quote that is never closed); the limit is [reader] max_field_chars in data/settings.toml"
                ) from exc
            if "Expected Number of Columns" in message and src.text_file and not src.width:
                src.width = _widest_row(src.text_file, ds)
                src.sources = _csv_sources(src.text_file, ds, src.width)
                return _stage(con, model, ds, mapping, src, path, label, lineage)
            if "invalid state" in message and src.text_file and (where := _lone_line_break(src.text_file, headers, ds.delimiter)):
                raise IngestError(f"{label}: {where}") from exc
            raise IngestError(f"{label}: {_csv_reason(message, label)}") from exc
        except BaseException:
            con.execute("rollback")
            raise
    raise AssertionError("unreachable: the last source either loads or raises")


def plausible_dates(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The window a payment (or period) date must fall in (``[plausibility]`` in settings)."""
    return config.settings().plausibility.window(today)


def _implausible(kind: str, name: str) -> list[tuple[str, str]]:
    """(SQL condition on the parsed value, reason) for values that parse but cannot be true."""
    rules = config.settings().plausibility
    if kind == "date" and name in rules.date_fields:
        first, last = plausible_dates()
        return [
            (
                f"({name} < DATE '{first}' or {name} > DATE '{last}')",
                f"implausible date: outside {first:%-d %b %Y} to {last:%-d %b %Y} (the build date plus "
                f"{rules.latest_months_ahead} month(s)); [plausibility] in data/settings.toml",
            )
        ]
    if kind == "money":
        bound = rules.max_amount_gbp
        return [(f"abs({name}) > {bound!r}", f"implausible amount: beyond ±£{bound:,.0f}; [plausibility] in data/settings.toml")]
    return []


def raw_label(kind: str) -> str:
    return {"date": "date", "money": "amount", "number": "number", "flag": "flag"}.get(kind, kind)


def _sql_type(kind: str) -> str:
    from starviz.models import SQL_TYPES

    return SQL_TYPES[kind]


def _settle(con: duckdb.DuckDBPyConnection, model: type[Dataset], result: FileResult, file_id: int, records: int) -> None:
    """The rows :func:`_stage` has just written for one file: each problem to ``rejects``, the
    rejected rows out of ``raw_<dataset>``, and the file's counts, total and dates."""
    table, these = f"raw_{model.dataset}", "file_id = ? and source_file = ?"
    key = [file_id, result.source_file]
    con.execute(
        "insert into rejects select ?, ?, source_file, source_row, i.col, i.val, i.why, i.sev from "
        f"(select source_file, source_row, unnest({ISSUES}) as i from {table} where {these} and {ISSUES} is not null) "
        "order by source_row",
        [result.council_id, model.dataset, *key],
    )
    result.reasons = dict(
        con.execute(
            f"select i.why, count(distinct source_row) from (select source_row, unnest({ISSUES}) as i from {table} "
            f"where {these} and {ISSUES} is not null) where i.sev <> 'warning' group by all order by 2 desc",
            key,
        ).fetchall()
    )
    rejected = con.execute(
        f"delete from {table} where {these} and {ISSUES} is not null and list_bool_or([x.sev <> 'warning' for x in {ISSUES}])",
        key,
    ).fetchone()[0]
    money = "amount_gbp" if model.dataset == "spend" else "value_gbp" if model.dataset == "contracts" else None
    date = {"spend": "payment_date", "contracts": "start_date"}.get(model.dataset, "period_date")
    row = con.execute(
        f"select count(*), {f'sum({money})' if money else 'null'}, min({date}), max({date}) from {table} where {these}", key
    ).fetchone()
    result.rows_read, result.rows_rejected = records, int(rejected)
    result.rows_loaded = result.rows_read - result.rows_rejected
    if int(row[0]) != result.rows_loaded:  # every record is either loaded or rejected, never lost
        raise IngestError(f"{result.source_file}: {records:,} rows read but {row[0]:,} + {rejected:,} accounted for")
    result.amount_total = row[1] if money else None
    if money and result.amount_total is None:
        result.amount_total = Decimal("0.00")
    result.first_date, result.last_date = row[2], row[3]


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("rollback")
    except duckdb.TransactionException:
        pass  # none open: the statement that failed had already rolled it back


_PATHS = re.compile(r"""['"]?(?:/[\w.+@=,~-]+){2,}/?['"]?""")


def _without_paths(text: str, label: str) -> str:
    """An engine's message with any server path replaced by the file's label, on one line."""
    return _PATHS.sub(label, text.splitlines()[0] if text else "")[:300]


def _lone_line_break(path: Path, headers: list[str], delimiter: str = ",") -> str | None:
    """Where a file whose lines end CR LF has a bare LF outside quotes (a line break typed into a
    cell and saved without quotes), which DuckDB's reader cannot place: the row (as a spreadsheet
    numbers it: a quoted line break inside a value does not start a row) and the column, as a
    reason a person can act on; None when the file has no such break."""
    import mmap

    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(b"\r\n", 0, 1 << 20) < 0:
            return None
        quoted, row, start = False, 1, 0
        for found in re.finditer(rb'["\n]', data):
            if found.group() == b'"':
                quoted = not quoted  # an escaped quote ("") turns it twice
                continue
            at = found.start()
            if quoted:
                continue
            if at and data[at - 1] == 13:  # CR LF: the row ends
                row, start = row + 1, at + 1
                continue
            before = data[start:at].decode("utf-8", "replace")
            cells = next(csv.reader([before], delimiter=delimiter), [""])
            column = headers[len(cells) - 1] if 0 < len(cells) <= len(headers) else f"column {len(cells)}"
            return (
                f"row {row:,}, column {column}: a line break inside a value that is not in quotes (the file's "
                "lines end CR LF); put the value in quotes or remove the line break, and load the file again"
            )
    return None


def _widest_row(path: Path, ds: DatasetConfig) -> int:
    """The most cells any record of a UTF-8 CSV has (read only when some row has more than the header)."""
    csv.field_size_limit(reader.limits().max_field_chars)
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        return max((len(row) for row in csv.reader(fh, delimiter=ds.delimiter)), default=0)


def _csv_reason(message: str, label: str) -> str:
    """DuckDB's CSV error as one line: the row and the reason, never the offending line itself
    (it can be a megabyte of data) or a server path."""
    line = re.search(r"CSV Error on Line: (\d+)", message)
    known = re.search(
        r"Value with unterminated quote found\.|Expected Number of Columns: \d+ Found: \d+|Invalid unicode[^\n.]*", message
    )
    reason = known.group(0) if known else ("the text does not follow the CSV format here" if line else "")
    if reason.startswith("Value with unterminated quote"):
        reason = (
            'a quote (") opened in this row is never closed: the file may be cut short, or a value holds a stray '
            "quote; check the row (or download the file again) and load it again"
        )
    if line and reason:
        return f"row {line.group(1)}: cannot read as CSV: {_without_paths(reason, label)}"
    return f"cannot read as CSV: {_without_paths(message, label)}"


def load_file(
    con: duckdb.DuckDBPyConnection, path: Path, council: CouncilConfig, dataset: str, file_id: int = 0, label: str | None = None
) -> list[FileResult]:
    """Read one file (a ZIP yields one result per member) into raw_<dataset> and rejects, through
    the guarded reader (``starviz.reader``): its type is found from its content.

    Raises IngestError when the whole file cannot be read; nothing is written then: a ZIP whose
    later member fails takes back the rows its earlier members wrote, so the ledger's "failed" is
    true of every row (a ZIP is one published file).
    """
    if dataset not in council.datasets:
        raise IngestError(f"{council.id} has no configuration for dataset {dataset!r}")
    ds = council.datasets[dataset]
    model = DATASETS[dataset]
    label = label or path.name
    if path.suffix.lower() not in ALLOWED_SUFFIXES and ds.reader == "auto":
        raise IngestError(f"{label}: file type {path.suffix or '(none)'} is not allowed; use CSV, XLSX, XLS, ODS or ZIP")
    if path.stat().st_size == 0:
        raise IngestError(f"{label}: empty file (0 bytes)")
    results: list[FileResult] = []
    try:
        return _load_members(con, path, council, dataset, ds, model, file_id, label, results)
    except BaseException:
        _take_back(con, model, file_id, results)
        raise


def _take_back(con: duckdb.DuckDBPyConnection, model: type[Dataset], file_id: int, results: list[FileResult]) -> None:
    """Delete what the members in ``results`` (each committed on its own) wrote: their rows and rejects."""
    if not results:
        return
    _rollback(con)
    con.execute("begin")
    for r in results:
        con.execute(f"delete from raw_{model.dataset} where file_id = ? and source_file = ?", [file_id, r.source_file])
        con.execute(
            "delete from rejects where council_id = ? and dataset = ? and source_file = ?",
            [r.council_id, model.dataset, r.source_file],
        )
    con.execute("commit")


def _load_members(con, path, council, dataset, ds, model, file_id, label, results) -> list[FileResult]:
    notes: list[str] = []
    blank_lines: dict[Path, bool] = {}  # learnt while unzipping
    with tempfile.TemporaryDirectory(prefix=reader.scratch_prefix(), dir=reader.scratch_dir()) as tmpdir:
        tmp = Path(tmpdir)
        for member, member_label, kind in reader.members(path, tmp, label, ds.reader, notes, blank_lines):
            member_ds = ds
            if kind in reader.SPREADSHEET_KINDS:
                member_ds, src, mapping, layout = _excel_layout(con, member, ds, model, tmp, member_label)
                notes.extend(layout)
            else:
                member_ds, csv_headers, mapping, layout = _csv_layout(member, ds, model, member_label)
                notes.extend(layout)
                src = _read_csv(member, member_ds, tmp, member_label, csv_headers, notes, blank_lines.get(member))
            headers = src.headers
            notes.extend(duplicate_headers(headers, mapping, member_label))
            result = FileResult(council.id, dataset, member_label)
            result.headers = headers
            result.mapping = {f: headers[i] for f, i in mapping.items()}
            lineage = [council.id, file_id, member_label]
            try:
                records = _stage(con, model, member_ds, mapping, src, member, member_label, lineage)
            except _NotUtf8:
                src = _Source(headers, [], src.first_row, False, text_file=None)
                src.text_file = _utf8_copy(member, member_ds, tmp, member_label, notes)
                src.sources = _csv_sources(src.text_file, member_ds, len(headers))
                records = _stage(con, model, member_ds, mapping, src, member, member_label, lineage)
            try:
                # DuckDB skips blank lines; when records and lines disagree, re-read a copy that keeps them.
                if (
                    src.blank_check
                    and blank_lines.get(member, True)
                    and records != _physical_lines(member) - member_ds.header_row
                    and _has_blank_line(member)
                ):
                    _rollback(con)
                    src.sources = _csv_sources(_utf8_copy(member, member_ds, tmp, member_label, notes), member_ds, len(headers))
                    records = _stage(con, model, member_ds, mapping, src, member, member_label, lineage)
                _settle(con, model, result, file_id, records)
                if any(why.startswith("cannot read date") for why in result.reasons) and (
                    month_first := _month_first(con, model, member_ds, mapping, headers, result, file_id)
                ):
                    _rollback(con)
                    member_ds, note = month_first
                    notes.append(note)
                    records = _stage(con, model, member_ds, mapping, src, member, member_label, lineage)
                    _settle(con, model, result, file_id, records)
                if result.rows_read == 0:
                    raise IngestError(f"{member_label}: no data rows below the header (row {member_ds.header_row})")
                if kind == "csv" and result.rows_rejected and (cut := _cut_short(con, member, result, file_id)):
                    notes.append(cut)
                con.execute("commit")
            except BaseException:
                _rollback(con)
                raise
            results.append(result)
    for result in results:  # notes learnt after a member was read (a later empty member) included
        result.notes = [n for n in notes if n.startswith(result.source_file) or n.startswith(label + ":")]
        result.message = "; ".join(result.notes)
    return results


def _cut_short(con: duckdb.DuckDBPyConnection, path: Path, result: FileResult, file_id: int) -> str | None:
    """A note when a CSV ends without a line break and its last row was rejected: the file was
    probably cut short (a download or copy that stopped), so that row is only part of one."""
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        if fh.read(1) in (b"\n", b"\r"):
            return None
    last = con.execute(
        "select max(source_row) from rejects where council_id = ? and dataset = ? and source_file = ? and severity = 'rejected'",
        [result.council_id, result.dataset, result.source_file],
    ).fetchone()[0]
    loaded = con.execute(
        f"select max(source_row) from raw_{result.dataset} where file_id = ? and source_file = ?", [file_id, result.source_file]
    ).fetchone()[0]
    if last is None or (loaded is not None and loaded > last):
        return None
    return (
        f"{result.source_file}: the file ends in the middle of row {last:,} (no line break after it): it may have been "
        "cut short in the download; that row is left out, so check the file is complete"
    )


_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})(\s.*)?")
_DAY_FIRST = re.compile(r"%d([/.-])%m")


def _month_first(
    con: duckdb.DuckDBPyConnection,
    model: type[Dataset],
    ds: DatasetConfig,
    mapping: dict[str, int],
    headers: list[str],
    result: FileResult,
    file_id: int,
) -> tuple[DatasetConfig, str] | None:
    """A file whose dates are written month first (04/13/2024) where the settings read day first:
    some dates then cannot be read, and the others were read with day and month swapped. When a
    date column has a rejected date that reads only month first and no loaded date that reads only
    day first (a day over 12), the settings with day and month swapped, and a note; else None.
    Looked at only when a date was rejected, on the file's rows just settled (not yet committed)."""
    if not any(_DAY_FIRST.search(f) for f in ds.date_formats):
        return None
    for name, position in mapping.items():
        if model.kind(name) != "date":
            continue
        header = headers[position]
        rejected = con.execute(
            "select source_row, value from rejects where council_id = ? and dataset = ? and source_file = ? "
            "and column_name = ? and starts_with(reason, 'cannot read date') order by source_row limit 1000",
            [result.council_id, model.dataset, result.source_file, header],
        ).fetchall()
        evidence = next(
            (
                (row, value)
                for row, value in rejected
                if (m := _NUMERIC_DATE.fullmatch(value or "")) and int(m.group(1)) <= 12 < int(m.group(3)) <= 31
            ),
            None,
        )
        if evidence is None:
            continue
        day_first = con.execute(
            f"select count(*) from raw_{model.dataset} where file_id = ? and source_file = ? and day({name}) > 12",
            [file_id, result.source_file],
        ).fetchone()[0]
        if day_first:
            continue
        swapped = [_DAY_FIRST.sub(r"%m\1%d", f) for f in ds.date_formats]
        row, value = evidence
        note = (
            f"{result.source_file}: the dates in {header} are written month first (row {row}: {value.strip()} can only "
            "be month/day/year), not day first as the council's settings say (date_formats); every date was read month first"
        )
        return ds.model_copy(update={"date_formats": swapped}), note
    return None


def guarded_load(
    con: duckdb.DuckDBPyConnection, path: Path, council: CouncilConfig, dataset: str, file_id: int, label: str
) -> list[FileResult] | IngestError:
    """:func:`load_file`, with whatever else goes wrong reading this one file (the engine running
    out of memory, a disk error, an input nobody foresaw) turned into a one-line IngestError for
    that file: no file can stop the others or show a traceback."""
    try:
        return load_file(con, path, council, dataset, file_id=file_id, label=label)
    except IngestError as exc:
        return exc
    except (duckdb.IOException, duckdb.FatalException):
        raise  # the database being written failed: the build stops, the live file stays
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS):
            raise  # a full or failing disk is the build's problem, not this file's
        return IngestError(f"{label}: could not be read ({type(exc).__name__}: {_without_paths(str(exc), label)})")
    except (duckdb.Error, MemoryError, ValueError, UnicodeError, OverflowError) as exc:
        return IngestError(f"{label}: could not be read ({type(exc).__name__}: {_without_paths(str(exc), label)})")


@dataclass
class Job:
    """One file for :func:`load_files`: what it is, and the id and label its rows and messages carry."""

    path: Path
    council: CouncilConfig
    dataset: str
    file_id: int
    label: str


@contextmanager
def one_thread_per_file(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's threads set to one while files are read, then put back. A file's rows are read,
    parsed and written by one pipeline that DuckDB runs on one thread (the streaming row numbering
    keeps file order, so it cannot be split); the parallelism is files read at once, each on its own
    cursor. With more threads DuckDB's CSV scanner still prepares a parallel read the pipeline
    cannot use: on the real Trafford zips each file then costs a fifth more CPU (bench: ingest)."""
    before = int(con.execute("select current_setting('threads')").fetchone()[0])
    con.execute("set threads = 1")
    try:
        yield
    finally:
        con.execute(f"set threads = {before}")


def load_files(
    con: duckdb.DuckDBPyConnection, jobs: list[Job], workers: int = 2, on_done: Callable[[Job], None] | None = None
) -> list[list[FileResult] | IngestError]:
    """:func:`guarded_load` for each job, ``workers`` at a time, each on its own cursor of ``con``
    (its own temp tables; appends to the shared raw tables do not conflict) and one DuckDB thread
    (:func:`one_thread_per_file`). Unzipping and checking one file then overlaps DuckDB parsing
    another. Results come back in job order: the file's results, or the :class:`IngestError` that
    stopped it."""
    with one_thread_per_file(con):
        return _load_files(con, jobs, workers, on_done or (lambda _job: None))


def _load_files(
    con: duckdb.DuckDBPyConnection, jobs: list[Job], workers: int, on_done: Callable[[Job], None]
) -> list[list[FileResult] | IngestError]:

    def one(job: Job) -> list[FileResult] | IngestError:
        with con.cursor() as cursor:
            return guarded_load(cursor, job.path, job.council, job.dataset, job.file_id, job.label)

    if workers <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(one(job))
            on_done(job)
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="starviz-ingest") as pool:
        futures = {pool.submit(one, job): job for job in jobs}
        for future in as_completed(futures):  # progress is reported from the calling thread
            on_done(futures[future])
        return [future.result() for future in futures]


def check_file(
    path: Path, council: CouncilConfig, dataset: str, label: str | None = None, preview_limit: int = 0, limit: int | None = None
) -> tuple[FileResult, list[tuple]]:
    """Read a file exactly as the build would, in memory; return the summary and its rejects (the
    first `limit` of them when given; `summary.problems` counts them all).

    With ``preview_limit`` the summary also carries the first rows as parsed (one read, not two).
    """
    con = duckdb.connect(config={"memory_limit": config.settings().build_memory_limit})
    create_tables(con)
    label = label or path.name
    summary = FileResult(council.id, dataset, label, sha256=sha256_of(path), size_bytes=path.stat().st_size)
    with one_thread_per_file(con):
        parts = guarded_load(con, path, council, dataset, 0, label)
    if isinstance(parts, IngestError):
        con.close()
        summary.status, summary.message = "failed", str(parts)
        return summary, []
    summary.notes = [n for p in parts for n in p.notes]
    summary.message = "; ".join(dict.fromkeys(summary.notes))
    summary.rows_read = sum(p.rows_read for p in parts)
    summary.rows_loaded = sum(p.rows_loaded for p in parts)
    summary.rows_rejected = sum(p.rows_rejected for p in parts)
    totals = [p.amount_total for p in parts if p.amount_total is not None]
    summary.amount_total = sum(totals, Decimal("0.00")) if totals else None
    dates = [d for p in parts for d in (p.first_date, p.last_date) if d]
    summary.first_date, summary.last_date = (min(dates), max(dates)) if dates else (None, None)
    summary.mapping = parts[0].mapping
    summary.headers = parts[0].headers
    for p in parts:
        for k, v in p.reasons.items():
            summary.reasons[k] = summary.reasons.get(k, 0) + v
    if dataset == "spend":  # what an import compares with the months already loaded
        months = "select distinct date_trunc('month', payment_date)::date as m from raw_spend where payment_date is not null"
        summary.months = [r[0] for r in con.execute(months + " order by m").fetchall()]
    summary.problems = con.execute("select count(*) from rejects").fetchone()[0]
    rejects = con.execute(
        "select source_file, source_row, column_name, value, reason, severity from rejects "
        "order by source_file, source_row limit ?",
        [limit if limit is not None else summary.problems],
    ).fetchall()
    if preview_limit:
        cur = con.execute(
            f"select * exclude (council_id, file_id, {ISSUES}) from raw_{dataset} order by source_file, source_row limit ?",
            [preview_limit],
        )
        cols = [d[0] for d in cur.description]
        summary.preview = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    con.close()
    return summary, rejects


def preview_rows(path: Path, council: CouncilConfig, dataset: str, limit: int = 20) -> list[dict]:
    """The first rows as parsed, for the import preview."""
    con = duckdb.connect()
    create_tables(con)
    load_file(con, path, council, dataset)
    cur = con.execute(f"select * exclude (council_id, file_id, {ISSUES}) from raw_{dataset} order by source_row limit ?", [limit])
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    con.close()
    return rows


# --- headers only (import detection) -----------------------------------------------------------


def header_rows(path: Path, ds: DatasetConfig, label: str | None = None) -> list[list[str]]:
    """Rows of a file (a ZIP's first CSV/Excel member) that could be its header, without loading it:
    the configured header row first, then the first rows as :func:`_csv_layout` and
    :func:`_excel_layout` search them (each common delimiter; every sheet). Raises IngestError when
    the file cannot be read at all."""
    label = label or path.name
    with tempfile.TemporaryDirectory(prefix=reader.scratch_prefix(), dir=reader.scratch_dir()) as tmpdir:
        member, member_label, kind = next(reader.members(path, Path(tmpdir), label, ds.reader))
        if kind in reader.SPREADSHEET_KINDS:
            sheets = list(enumerate(reader.read_head(member, member_label, HEADER_SEARCH_ROWS)))
            sheets.sort(key=lambda item: not _is_sheet(ds.sheet, item[0], item[1][0]))
            rows = [row for _i, (_name, head) in sheets for row in head]
            configured = sheets[0][1][1][ds.header_row - 1 : ds.header_row] if sheets else []
            return [*configured, *rows]
        if bom := _bom_encoding(member):
            ds = ds.model_copy(update={"encoding": bom})
        if why := _not_a_table(member, member_label):
            raise IngestError(why)
        rows = []
        for delimiter in dict.fromkeys([ds.delimiter, ",", ";", "\t", "|"]):
            head = _csv_rows(member, ds.model_copy(update={"delimiter": delimiter}), member_label, HEADER_SEARCH_ROWS)
            rows.extend(head[ds.header_row - 1 : ds.header_row] + head)
        return [[h.replace("\ufeff", "") for h in row] for row in rows]
