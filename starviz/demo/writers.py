"""Writers: CSV (any encoding, BOM or not), a ZIP of one CSV, XLSX (openpyxl, with the data sheet's rows streamed as XML).

Each takes a file's rendered columns (text, null for an empty cell) and returns the file's bytes.
The bytes depend on nothing but the data: ZIP entries carry a fixed date, and the workbook's
created/modified properties are fixed, so the same seed writes byte-identical files.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.compute as pc

from starviz.config import DatasetConfig, DemoStyle
from starviz.demo.render import NULL, Rendered, int_text, join

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FIXED_STAMP = "1980-01-01T00:00:00Z"


def _csv_field(text: str, delimiter: str) -> str:
    if any(ch in text for ch in (delimiter, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_bytes(headers: list[str], cols: list[pa.Array], ds: DatasetConfig, style: DemoStyle, title: str) -> bytes:
    delim = ds.delimiter
    pattern = "[" + re.escape(delim) + '"\r\n]'
    quoted = []
    for c in cols:
        c = pc.fill_null(c, "")
        needs = pc.match_substring_regex(c, pattern)
        quoted.append(pc.if_else(needs, join('"', pc.replace_substring(c, '"', '""'), '"'), c))
    lines = [title] + [""] * (ds.header_row - 2) if ds.header_row > 1 else []
    lines.append(delim.join(_csv_field(h, delim) for h in headers))
    text = "\r\n".join(lines) + "\r\n"
    n = len(cols[0]) if cols else 0
    if n:
        body = pc.binary_join_element_wise(*quoted, delim) if len(quoted) > 1 else quoted[0]
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), body), "\r\n")
        text += joined[0].as_py() + "\r\n"
    encoding = ds.encoding
    if style.bom:
        if re.sub(r"[-_]", "", encoding.lower()) in ("utf8", "utf8sig"):
            encoding = "utf-8-sig"
        else:
            text = "\ufeff" + text
    return text.encode(encoding)


def _zip_entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data, compresslevel=1)


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _xml_escape(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring(arr, "&", "&amp;")
    arr = pc.replace_substring(arr, "<", "&lt;")
    return pc.replace_substring(arr, ">", "&gt;")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _sheet_xml(headers: list[str], cols: list[pa.Array], numeric: list[bool], title: str, header_row: int) -> bytes:
    n = len(cols[0]) if cols else 0
    first = header_row + 1
    rownum = int_text(np.arange(first, first + n))
    cells = []
    for j, (c, is_num) in enumerate(zip(cols, numeric, strict=True)):
        letter = _col_letter(j)
        empty = pc.or_kleene(pc.is_null(c), pc.equal(c, ""))
        if is_num:
            cell = join(f'<c r="{letter}', rownum, '"><v>', pc.utf8_trim_whitespace(c), "</v></c>")
        else:
            esc = _xml_escape(c)
            plain = join(f'<c r="{letter}', rownum, '" t="inlineStr"><is><t>', esc, "</t></is></c>")
            spaced = pc.fill_null(pc.match_substring_regex(c, r"^\s|\s$"), False)
            if pc.any(spaced).as_py():
                keep = join(f'<c r="{letter}', rownum, '" t="inlineStr"><is><t xml:space="preserve">', esc, "</t></is></c>")
                plain = pc.if_else(spaced, keep, plain)
            cell = plain
        cells.append(pc.if_else(pc.fill_null(empty, True), NULL, cell))
    head = []
    if header_row > 1:
        head.append(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{_xml_text(title)}</t></is></c></row>')
    head.append(
        f'<row r="{header_row}">'
        + "".join(
            f'<c r="{_col_letter(j)}{header_row}" t="inlineStr"><is><t>{_xml_text(h)}</t></is></c>' for j, h in enumerate(headers)
        )
        + "</row>"
    )
    body = ""
    if n:
        joined_cells = pc.binary_join_element_wise(*cells, "", null_handling="skip")
        rows = join('<row r="', rownum, '">', joined_cells, "</row>")
        body = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), rows), "")[0].as_py()
    last_col = _col_letter(max(len(headers) - 1, 0))
    xml = (
        f'{_XML_HEAD}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<dimension ref="A1:{last_col}{header_row + n}"/><sheetData>' + "".join(head) + body + "</sheetData></worksheet>"
    )
    return xml.encode("utf-8")


def _xlsx_bytes(headers: list[str], cols: list[pa.Array], numeric: list[bool], ds: DatasetConfig, title: str) -> bytes:
    """openpyxl writes the workbook (content types, relationships, sheets, styles, properties);
    the data sheet's rows are then put in as XML built column-wise by Arrow. openpyxl's own
    cell-by-cell writer made first-run demo generation (scale 0.25) take 27 s instead of 5 s."""
    sheet_name = re.sub(r"[\[\]:*?/\\]", " ", ds.sheet if isinstance(ds.sheet, str) else title)[:31].strip()
    before = ds.sheet if isinstance(ds.sheet, int) else 0  # sheets the data sheet must follow
    book = openpyxl.Workbook()
    book.active.title = "Notes 1" if before else (sheet_name or "Sheet1")
    for k in range(1, before):
        book.create_sheet(f"Notes {k + 1}")
    if before:
        for notes in book.worksheets:
            notes["A1"] = "Notes"
        book.create_sheet(sheet_name or "Sheet1")
    written = io.BytesIO()
    book.save(written)
    rows = _sheet_xml(headers, cols, numeric, title, ds.header_row)
    return _fixed_zip(written.getvalue(), {f"xl/worksheets/sheet{before + 1}.xml": rows})


def _fixed_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same archive with some parts replaced, fixed entry dates and fixed document dates
    (openpyxl stamps the clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            part = replace.get(name) or src.read(name)
            if name == "docProps/core.xml":
                part = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + _FIXED_STAMP.encode(), part)
            _zip_entry(dst, name, part)
    return out.getvalue()


def file_bytes(name: str, r: Rendered, cols: list[pa.Array], ds: DatasetConfig, style: DemoStyle) -> bytes:
    """The bytes of one file, by its extension: .xlsx, .zip (one CSV inside), else CSV."""
    suffix = Path(name).suffix.lower()
    title = Path(name).stem
    if suffix == ".xlsx":
        return _xlsx_bytes(r.headers, cols, r.numeric, ds, title)
    data = _csv_bytes(r.headers, cols, ds, style, title)
    if suffix == ".zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            _zip_entry(zf, f"{title}.csv", data)
        return buf.getvalue()
    return data
