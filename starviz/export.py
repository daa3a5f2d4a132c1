"""Tables to CSV and XLSX that are safe to open: numbers stay numbers, text never becomes a formula."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

LICENCE = "Contains public sector information licensed under the Open Government Licence v3.0."
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GBP_FORMAT = '£#,##0.00;-£#,##0.00'
SHARE_FORMAT = "0.0%"


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers are untouched."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_csv(df: pd.DataFrame) -> bytes:
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")  # BOM: Excel reads £ correctly


def to_xlsx(df: pd.DataFrame, title: str, notes: Mapping[str, str]) -> bytes:
    """One data sheet (frozen header, autofilter, £ and % formats) and a Notes sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Data"
    safe = safe_frame(df)
    sheet.append([str(c) for c in safe.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in safe.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    for i, col in enumerate(safe.columns, start=1):
        letter = get_column_letter(i)
        fmt = GBP_FORMAT if str(col).endswith("_gbp") else SHARE_FORMAT if str(col).endswith("_share") else None
        if fmt:
            for cell in sheet[letter][1:]:
                cell.number_format = fmt
        width = max([len(str(col)), *(len(str(v)) for v in safe[col].head(200))]) + 2
        sheet.column_dimensions[letter].width = min(width, 60)
    sheet.freeze_panes = "A2"
    if len(safe.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(safe.columns))}{len(safe) + 1}"
    info = book.create_sheet("Notes")
    info.append(["starviz export", title])
    for key, value in {**notes, "Exported": f"{dt.datetime.now():%d %b %Y %H:%M}", "Licence": LICENCE}.items():
        info.append([key, neutralise(str(value))])
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars -> Python numbers
        return value.item()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value
