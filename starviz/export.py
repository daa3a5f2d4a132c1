"""Tables to CSV and XLSX that are safe to open: numbers stay numbers, text never becomes a formula."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from starviz.escape import CELL_LIMIT, MAY_NEED_NEUTRALISING, neutral_text, neutralise, sheet_name, unplotly

LICENCE = "Contains public sector information licensed under the Open Government Licence v3.0."
BRAND = "STAR Procurement"
BRAND_COLOUR = "#00546B"
CHROMIUM_HINT = "Image export needs Chromium on the server: `apt-get install -y chromium` (Debian/Ubuntu), then restart the app."
GBP_FORMAT = "£#,##0.00;-£#,##0.00"
SHARE_FORMAT = "0.0%"


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text neutralised (``starviz.escape.neutralise``): cells of any column
    (categories and lists included) and the column headers, which may be data (a pivot's columns)."""
    out = df.copy()
    out.columns = [neutral_text(_header(c)) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype)):
            out.isetitem(i, pd.Series(neutral_column(col), index=col.index, dtype=object))
    return out


def neutral_column(values: pd.Series) -> list:
    """``neutralise`` applied to every value of a column, as a list (a missing value stays missing).
    A column of text is first checked in one vectorised pass (``escape.MAY_NEED_NEUTRALISING``, RE2
    over Arrow strings) and only the texts that may need it are neutralised, so a million lines cost
    one pass, not a million calls; any other column goes value by value."""
    if not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        return [neutralise(_text(v)) for v in values.tolist()]
    risky = values.str.contains(MAY_NEED_NEUTRALISING, regex=True, na=False) | values.str.len().gt(CELL_LIMIT)
    out = values.astype(object).where(values.notna(), None).tolist()
    for i in np.flatnonzero(risky.to_numpy(dtype=bool)):
        out[i] = neutralise(out[i])
    return out


def _header(column: object) -> str:
    return " / ".join(str(c) for c in column) if isinstance(column, tuple) else str(column)


def _text(value: object) -> object:
    return "; ".join(str(v) for v in value) if isinstance(value, list | tuple) else value


def to_csv(df: pd.DataFrame) -> bytes:
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")  # BOM: Excel reads £ correctly


Formats = Mapping[str, str | Sequence[str | None]]
UNIT_FORMATS = {"gbp": GBP_FORMAT, "share": SHARE_FORMAT, "count": "#,##0"}


def unit_formats(columns: Iterable[object], unit: str) -> dict[str, str]:
    """The number format of every one of ``columns`` for a measure in ``unit`` (gbp, share, count):
    for a pivot, whose columns are data (council names) rather than names ending in _gbp."""
    return {str(c): UNIT_FORMATS[unit] for c in columns} if unit in UNIT_FORMATS else {}


def to_xlsx(df: pd.DataFrame, title: str, notes: Mapping[str, str], formats: Formats | None = None) -> bytes:
    """One data sheet (frozen header, autofilter, £ and % formats) and a Notes sheet. ``formats``
    gives columns a number format of their own: one for the column, or one per row."""
    return to_xlsx_sheets({"Data": df}, title, notes, {"Data": formats or {}})


def to_xlsx_sheets(
    frames: Mapping[str, pd.DataFrame],
    title: str,
    notes: Mapping[str, str],
    formats: Mapping[str, Formats] | None = None,
) -> bytes:
    """A sheet per table (frozen header, autofilter, £ and % formats) and a Notes sheet."""
    book = Workbook()
    book.remove(book.active)
    for sheet_title, df in frames.items():
        _data_sheet(book, sheet_name(sheet_title, book.sheetnames), df, (formats or {}).get(sheet_title) or {})
    info = book.create_sheet(sheet_name("Notes", book.sheetnames))
    info.append(["starviz export", neutral_text(title)])
    # every workbook says where its figures come from and how recent they are (the caller knows the date)
    source = {"Source": notes.get("Source") or source_note(None)}
    for key, value in {**notes, **source, "Exported": f"{dt.datetime.now():%d %b %Y %H:%M}", "Licence": LICENCE}.items():
        info.append([neutral_text(key), neutral_text(value)])
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


EXCEL_ROWS = 1_048_576  # rows in an Excel sheet (the header is one); a longer stream goes on to "Data 2"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's 1900 date system


def csv_file(batches: Iterable[pd.DataFrame]) -> BinaryIO:
    """The CSV of a stream of frames with the same columns (the drill-down's lines), written batch
    by batch to a temporary file and returned open for reading: the header once, every text
    neutralised. No batch outlives its turn, so a million lines are never in memory at once."""
    return _spooled(lambda path: write_csv(batches, path))


def xlsx_file(batches: Iterable[pd.DataFrame], title: str, notes: Mapping[str, str], sheet_rows: int = EXCEL_ROWS) -> BinaryIO:
    """The XLSX of a stream of frames (see ``write_xlsx``), in a temporary file returned open for reading."""
    return _spooled(lambda path: write_xlsx(batches, path, title, notes, sheet_rows))


def _spooled(write) -> BinaryIO:
    """``write(path)`` into a fresh temporary folder, the file opened for reading and the folder
    removed: the open file stays readable and its disk space goes when it is closed. Streamlit's
    download button reads such a file once into the one copy it serves."""
    with tempfile.TemporaryDirectory(prefix="starviz-export-") as folder:
        path = Path(folder) / "export"
        write(path)
        return open(path, "rb")  # the caller reads and closes it


def write_csv(batches: Iterable[pd.DataFrame], path: Path) -> int:
    """Write the CSV of ``batches`` to ``path`` one batch at a time; returns the lines written."""
    lines = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as out:  # BOM: Excel reads £ correctly
        for batch in batches:
            safe_frame(batch).to_csv(out, index=False, header=lines == 0, lineterminator="\n")
            lines += len(batch)
    return lines


def sheets_needed(lines: int, sheet_rows: int = EXCEL_ROWS) -> int:
    """How many data sheets ``lines`` take, each sheet a header and ``sheet_rows - 1`` lines."""
    return max(1, -(-lines // (sheet_rows - 1)))


def sheets_note(lines: int, sheet_rows: int = EXCEL_ROWS) -> str | None:
    """What an XLSX of ``lines`` does when they are more than one sheet holds, said the same way in
    the file's Notes and on the page; None when they fit on one sheet."""
    sheets = sheets_needed(lines, sheet_rows)
    if sheets == 1:
        return None
    names = ", ".join(["Data", *(f"Data {n}" for n in range(2, sheets + 1))])
    return (
        f"The {lines:,} lines are on {sheets} sheets ({names}), in order: an Excel sheet holds "
        f"{sheet_rows - 1:,} lines under its header. The CSV has them all in one table."
    )


def write_xlsx(
    batches: Iterable[pd.DataFrame], path: Path, title: str, notes: Mapping[str, str], sheet_rows: int = EXCEL_ROWS
) -> int:
    """Write the XLSX of a stream of frames with the same columns to ``path`` with XlsxWriter in
    constant-memory mode (each row goes to a temporary file as soon as the next begins): human
    headers, £, % and date formats (no time of day), frozen header, autofilter over the lines of
    each sheet, lines past ``sheet_rows`` on further sheets "Data 2", ..., and a Notes sheet that
    says so; the £ columns' Total under the last line after a blank row, outside the filter range.
    Every text is neutralised. Returns the lines written."""
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,  # texts are written as texts only, never read as formulas,
            "strings_to_urls": False,  # links or numbers
            "strings_to_numbers": False,
            "use_zip64": True,  # a sheet of a million long lines can pass 4 GB unpacked
            "tmpdir": tempfile.gettempdir(),
        },
    )
    bold = book.add_format({"bold": True})
    styles = {f: book.add_format({"num_format": f}) for f in (GBP_FORMAT, SHARE_FORMAT, DATE_FORMAT)}
    sheets: list = []
    columns: list[str] = []
    formats: list[str | None] = []
    totals: dict[int, float | None] = {}  # the £ columns' sums, for the Total row
    sheet, row, lines = None, 0, 0

    def new_sheet():
        ws = book.add_worksheet(sheet_name("Data" if not sheets else f"Data {len(sheets) + 1}", [s.name for s in sheets]))
        ws.freeze_panes(1, 0)
        for i, col in enumerate(columns):
            ws.set_column(i, i, min(max(len(human_label(col)) + 2, 12), 40))
        for i, col in enumerate(columns):
            ws.write_string(0, i, neutral_text(human_label(col)), bold)
        sheets.append(ws)
        return ws

    def close(ws, last_row: int) -> None:
        ws.autofilter(0, 0, last_row, len(columns) - 1)

    for batch in batches:
        if sheet is None:
            columns = [str(c) for c in batch.columns]
            formats = [_format(c, batch[c]) for c in batch.columns]
            sheet = new_sheet()
        values = [_xlsx_values(batch[c], f) for c, f in zip(batch.columns, formats, strict=True)]
        cell_styles = [styles.get(f) if f else None for f in formats]
        for i, f in enumerate(formats):
            if f == GBP_FORMAT:
                totals[i] = math.fsum([totals.get(i, 0.0), *(v for v in values[i] if v is not None)])
        for line in zip(*values, strict=True):
            if row == sheet_rows - 1:
                close(sheet, row)
                sheet, row = new_sheet(), 0
            row += 1
            for i, value in enumerate(line):
                if value is None:
                    continue
                if type(value) is str:
                    sheet.write_string(row, i, value)
                elif type(value) is bool:
                    sheet.write_boolean(row, i, value)
                else:
                    sheet.write_number(row, i, value, cell_styles[i])
        lines += len(batch)
    if sheet is None:  # nothing behind the cell: an empty sheet says so
        book.add_worksheet("Data").write_string(0, 0, "No lines")
    else:
        close(sheet, row)
    total_note = None
    if totals and row + 2 <= sheet_rows - 1:  # under the lines after a blank row, outside the filter range
        sheet.write_string(row + 2, 0, "Total", bold)
        bold_gbp = book.add_format({"bold": True, "num_format": GBP_FORMAT})
        for i, value in totals.items():
            sheet.write_number(row + 2, i, round(value or 0.0, 2), bold_gbp)
    elif totals:  # no room under the last line of the sheet: the Notes give it
        total_note = "; ".join(f"{human_label(columns[i])} £{round(v or 0.0, 2):,.2f}" for i, v in totals.items())
    info = book.add_worksheet(sheet_name("Notes", [s.name for s in sheets]))
    info.set_column(0, 0, 18)
    info.set_column(1, 1, 100)
    rows = [("starviz export", title), *notes.items()]
    if note := sheets_note(lines, sheet_rows):
        rows.append(("Sheets", note))
    if total_note:
        rows.append(("Total", total_note))
    rows += [("Exported", f"{dt.datetime.now():%d %b %Y %H:%M}"), ("Licence", LICENCE)]
    for n, (key, value) in enumerate(rows):
        info.write_string(n, 0, neutral_text(key))
        info.write_string(n, 1, neutral_text(value))
    book.close()
    return lines


def _xlsx_values(values: pd.Series, fmt: str | None) -> list:
    """One column of a batch as the Python values its cells take: None for a missing value, dates
    as Excel day numbers (shown through the date format), pounds rounded to pence, texts neutralised."""
    missing = values.isna().to_numpy()
    if fmt == DATE_FORMAT:
        days = (pd.to_datetime(values) - EXCEL_EPOCH) / pd.Timedelta(days=1)
        out = days.to_numpy(dtype=float).tolist()
    elif pd.api.types.is_bool_dtype(values.dtype):
        out = values.tolist()
    elif pd.api.types.is_numeric_dtype(values.dtype) or fmt in (GBP_FORMAT, SHARE_FORMAT):
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        out = (numbers.round(2) if fmt == GBP_FORMAT else numbers).tolist()
    elif pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return neutral_column(values)
    else:
        return [None if gone else _xlsx_cell(v) for v, gone in zip(values.tolist(), missing, strict=True)]
    return [None if gone else v for v, gone in zip(out, missing, strict=True)]


def _xlsx_cell(value: object) -> object:
    """A value of a text (object) column as XlsxWriter takes it: numbers stay numbers, anything else
    is written as neutralised text."""
    value = _cell(value)
    if isinstance(value, bool | int | float):
        return value
    return None if value is None else str(value) if not isinstance(value, str) else value


def _format(column: object, values: pd.Series) -> str | None:
    """The number format of a column: £ for *_gbp, % for *_share, a date without time of day."""
    name = str(column)
    if name.endswith("_gbp"):
        return GBP_FORMAT
    if name.endswith("_share"):
        return SHARE_FORMAT
    sample = values.dropna().head(50)
    if pd.api.types.is_datetime64_any_dtype(values) or (len(sample) and all(isinstance(v, dt.date) for v in sample)):
        return DATE_FORMAT
    return None


def drill_notes(filters: str, selection: list[str], cell: list[str] | None, sort: str, lines: int) -> dict[str, str]:
    """The Notes of a drill-down export: every filter, every selection on the page, the clicked
    cell (each criterion of it), the order and how many lines."""
    return {
        "Filters": filters,
        "Selection": " · ".join(selection) or "None",
        "Clicked cell": (" · ".join(cell) or "Total") if cell is not None else "None (the lines behind the selection)",
        "Sorted by": sort,
        "Lines": f"{lines:,} (every line behind the cell, not only the page shown)",
    }


_WORDS = {"gbp": "(£)", "share": "(%)", "id": "ID", "fy": "financial year", "rag": "RAG", "kpi": "KPI", "sme": "SME"}
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_FORMAT = "dd mmm yyyy"


def human_label(column: str) -> str:
    """A column name as a person reads it: spend_gbp -> 'Spend (£)', count_lines -> 'Number of lines',
    committed_share -> 'Committed (%)'. Names that are not snake_case are kept as they are."""
    if not _SNAKE.match(column):
        return column
    words = column.split("_")
    if words[0] == "count" and len(words) > 1:
        words = ["number", "of", *words[1:]]
    text = " ".join(_WORDS.get(w, w) for w in words)
    return text[:1].upper() + text[1:]


NO_ROWS = "No rows for these filters."


def _data_sheet(book: Workbook, name: str, df: pd.DataFrame, formats: Formats | None = None) -> None:
    """Human headers; £, % and date formats (no time of day); a row labelled Total goes under the
    table, after a blank row, outside the filter range, so sorting or filtering never moves it."""
    sheet = book.create_sheet(name)
    safe = safe_frame(df)
    first = safe.columns[0] if len(safe.columns) else None
    is_total = safe[first].astype(str).str.strip().str.lower().isin(["total", "grand total"]) if first is not None else None
    body, totals = (safe[~is_total], safe[is_total]) if is_total is not None and is_total.any() else (safe, safe.iloc[0:0])
    sheet.append([neutral_text(human_label(str(c))) if isinstance(c, str) else c for c in safe.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    if body.empty:  # a sheet with a header and nothing under it reads as a failed export
        sheet.append([NO_ROWS])
    if len(totals):
        sheet.append([])
        for row in totals.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for i, col in enumerate(safe.columns, start=1):
        letter = get_column_letter(i)
        values = safe[col]
        is_date = pd.api.types.is_datetime64_any_dtype(values) or (
            values.dtype == object and len(values.dropna()) and all(isinstance(v, dt.date) for v in values.dropna().head(50))
        )
        fmt = (
            GBP_FORMAT
            if str(col).endswith("_gbp")
            else SHARE_FORMAT
            if str(col).endswith("_share")
            else DATE_FORMAT
            if is_date
            else None
        )
        own = (formats or {}).get(str(df.columns[i - 1]))
        per_row = list(own) if own is not None and not isinstance(own, str) else None
        fmt = own if isinstance(own, str) else fmt
        for n, cell in enumerate(sheet[letter][1:]):
            cell_fmt = (per_row[n] if n < len(per_row) else None) if per_row is not None else fmt
            if not cell_fmt:
                continue
            cell.number_format = cell_fmt
            if cell_fmt == GBP_FORMAT and isinstance(cell.value, float):
                cell.value = round(cell.value, 2)  # pence, not 44107784.64999999
        width = max([len(human_label(str(col))), *(len(str(v)) for v in values.head(200))]) + 2
        sheet.column_dimensions[letter].width = min(width, 60)
    sheet.freeze_panes = "A2"
    if len(safe.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(safe.columns))}{len(body) + 1}"


def _cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars -> Python numbers
        return value.item()
    return neutralise(_text(value))


# --- charts: branded static images --------------------------------------------------------------


class ExportUnavailable(RuntimeError):
    """No browser to render static images with; the message says how to install one."""


_server_lock = threading.Lock()
_render_lock = threading.Lock()
_server_started = False


def chromium_path() -> str | None:
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _ensure_server() -> None:
    """One Kaleido (headless Chromium) server for the process: ~0.2 s an image instead of 2-3 s."""
    global _server_started
    with _server_lock:
        if _server_started:
            return
        browser = chromium_path()
        if not browser:
            raise ExportUnavailable(CHROMIUM_HINT)
        os.environ["BROWSER_PATH"] = browser  # never let Kaleido fetch a browser of its own
        import kaleido

        kaleido.start_sync_server(n=1, timeout=60, mathjax=False, silence_warnings=True)
        _server_started = True


_warm_lock = threading.Lock()
_warm_thread: threading.Thread | None = None


def warm() -> threading.Thread | None:
    """Start the Kaleido server and draw one tiny image in a background thread, once per process:
    the first image loads Chromium and plotly.js (~3 s), which then happens while the user signs in
    or reads a page instead of on the first click of "Download PNG". Returns the thread (None
    without Chromium)."""
    global _warm_thread
    with _warm_lock:
        if _warm_thread is not None or chromium_path() is None:
            return _warm_thread

        def run() -> None:
            try:
                from starviz import layout

                layout.text_width("Warm", 16, bold=True)  # the fonts the layout measures with
                layout.text_width("Warm", 16)
                image(go.Figure(layout=dict(width=10, height=10)), "png", 10, 10)
            except Exception:  # a failed warm-up is retried, and reported, by the first real export
                pass

        _warm_thread = threading.Thread(target=run, name="kaleido-warm", daemon=True)
        _warm_thread.start()
        return _warm_thread


def branded(fig: go.Figure, *, title: str, subtitle: str, source: str, width: int, height: int) -> go.Figure:
    """A copy of `fig` sized for a preset, with title, filters, source, licence and the STAR name,
    laid out by the one export layout engine (starviz.layout): margins computed from the labels,
    every category labelled, the legend in the header, all text wrapped inside the canvas."""
    from starviz import layout

    return layout.lay_out(
        fig, title=_html(title), subtitle=_html(subtitle), footer=f"{BRAND} · {_html(source)}", width=width, height=height
    )


def _wrap(text: str, width: int) -> str:
    """Break a long title over lines at word boundaries (Plotly does not wrap text)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > max(width, 10):
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subtitle(fig: go.Figure, filters: str) -> str:
    """An export's subtitle: the filters, then what of the data the chart shows when it shows part
    of it (``meta.shown``, e.g. "The 30 largest of 412 contracts by value"), as its page says."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    return " · ".join(part for part in (filters, meta.get("shown") or "") if part)


def shown(fig: go.Figure) -> str:
    """What of the data a chart shows (``meta.shown``), or ""."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    return meta.get("shown") or ""


def source_note(as_at: dt.date | None) -> str:
    """Where the figures come from and how recent they are (an image's source line, a workbook's Notes)."""
    when = f"data as at {as_at:%d %B %Y}" if as_at else "latest data"
    return f"Partner councils' published spend, contracts and social value data, {when}."


def source_line(as_at: dt.date | None) -> str:
    return f"Source: {source_note(as_at)[0].lower()}{source_note(as_at)[1:]} {LICENCE}"


def image(fig: go.Figure, fmt: str, width: int, height: int) -> bytes:
    """PNG or SVG bytes of an already branded figure at exactly width x height pixels."""
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"unknown image format {fmt!r}")
    _ensure_server()
    import plotly.io as pio

    # One image at a time: Kaleido's one-browser sync server can hand a caller the image another
    # thread asked for (seen as the warm-up's 10x10 image coming back as the Board pack's page 2).
    with _render_lock:
        return pio.to_image(fig, format=fmt, width=width, height=height, scale=1)


# --- alt text -------------------------------------------------------------------------------------


def _money(value: float) -> str:
    from starviz.fmt import gbp

    return gbp(value)


def alt_text(fig: go.Figure, title: str, subtitle: str = "") -> str:
    """A description of the chart from its own data and measure, in the measure's unit (starviz.alt):
    plain text, neutralised, as it leaves in a .txt file."""
    from starviz import alt

    return neutral_text(unplotly(alt.describe(fig, title, subtitle)))
