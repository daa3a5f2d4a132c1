"""Formatting: canonical values -> the council's text, vectorised with Arrow; summary and blank
rows inserted where the council's files have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from starviz.config import DatasetConfig, DemoStyle
from starviz.demo.vocabulary import MISSING_PENCE
from starviz.demo.world import strftime
from starviz.models import Dataset

if TYPE_CHECKING:
    from starviz.demo.datasets import Table

NULL = pa.scalar(None, pa.string())


def join(*parts: object) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def int_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _thousands(v: np.ndarray) -> pa.Array:
    """Whole pounds with thousands separators, vectorised."""
    groups = [(v // 1000**k) % 1000 for k in range(5)]
    top = np.select([v >= 1000**4, v >= 1000**3, v >= 1000**2, v >= 1000], [4, 3, 2, 1], 0)
    pieces = []
    for k in range(4, -1, -1):
        first = int_text(groups[k])
        rest = join(",", pc.utf8_lpad(first, 3, "0"))
        piece = pc.if_else(pa.array(top == k), first, pc.if_else(pa.array(top > k), rest, ""))
        pieces.append(piece)
    return join(*pieces)


def _money_text(pence: np.ndarray, fmt: str, negative: str, symbol: str) -> pa.Array:
    pence = np.asarray(pence, dtype=np.int64)
    missing = pence == MISSING_PENCE
    a = np.abs(np.where(missing, 0, pence))
    neg = (pence < 0) & ~missing
    pounds, pp = a // 100, a % 100
    whole = _thousands(pounds) if fmt in ("thousands", "currency", "padded") else int_text(pounds)
    body = join(whole, ".", pc.utf8_lpad(int_text(pp), 2, "0"))
    if fmt == "currency":
        body = join(symbol, body)
    if negative == "parentheses":
        signed = join("(", body, ")")
    else:
        signed = join("-", body)
    out = pc.if_else(pa.array(neg), signed, body)
    if fmt == "padded":
        out = join(" ", out, " ")
    return pc.if_else(pa.array(missing), NULL, out)


def date_text(days: np.ndarray, fmt: str) -> pa.Array:
    days = np.asarray(days, dtype="datetime64[D]")
    valid = ~np.isnat(days)
    uniq, inverse = np.unique(days[valid], return_inverse=True)
    texts = pa.array([strftime(d, fmt) for d in uniq.astype(object)] or [""], type=pa.string())
    idx = np.zeros(len(days), dtype=np.int64)
    idx[valid] = inverse
    return texts.take(pa.array(idx, mask=~valid))


def _number_text(values: np.ndarray) -> pa.Array:
    out = []
    for x in values:
        if np.isnan(x):
            out.append(None)
        elif float(x).is_integer():
            out.append(str(int(x)))
        else:
            out.append(f"{x:.4f}".rstrip("0").rstrip("."))
    return pa.array(out, type=pa.string())


def _flag_text(values: np.ndarray) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    return pa.array(["N", "Y"]).take(pa.array(np.clip(values, 0, 1), mask=values < 0))


@dataclass
class Rendered:
    headers: list[str]
    cells: list[pa.Array]  # text of each column (null = empty)
    numeric: list[bool]  # column is a number cell in XLSX


def render(
    table: Table, model: type[Dataset], ds: DatasetConfig, style: DemoStyle, xlsx: bool, rng: np.random.Generator
) -> Rendered:
    n = table.n
    headers, cells, numeric = [], [], []
    symbol = ds.amount.currency_symbols[0] if ds.amount.currency_symbols else "£"
    for header, value in style.extra_columns.items():
        headers.append(header)
        cells.append(pa.array([value or None] * n, type=pa.string()))
        numeric.append(False)
    for fld, variants in ds.fields.items():
        kind = model.kind(fld)
        value = table.columns.get(fld)
        is_num = False
        if value is None:
            text = pa.nulls(n, pa.string())
        elif kind == "date":
            text = date_text(value, ds.date_formats[0])
        elif kind == "money":
            fmt = style.amount_format
            is_num = fmt == "numeric" and xlsx
            text = _money_text(value, "plain" if fmt == "numeric" else fmt, "minus" if is_num else style.negative_format, symbol)
        elif kind == "number":
            text = _number_text(value)
            is_num = xlsx
        elif kind == "flag":
            text = _flag_text(value)
        else:
            text = value
            if fld == "supplier_name" and ds.truncates_names_at:
                text = pc.utf8_slice_codeunits(text, 0, ds.truncates_names_at)
            if "trailing_spaces" in style.quirks:
                spaced = pa.array(rng.random(n) < 0.4)
                text = pc.if_else(spaced, join(text, " "), text)
        headers.append(variants[0])
        cells.append(text)
        numeric.append(is_num)
    return Rendered(headers, cells, numeric)


def with_quirks(
    r: Rendered, rows: np.ndarray, table: Table, ds: DatasetConfig, style: DemoStyle, rng: np.random.Generator
) -> list[pa.Array]:
    """The file's columns with its summary and blank rows inserted (neither counts as data)."""
    cols = [c.take(pa.array(rows)) for c in r.cells]
    m = len(rows)
    positions: list[int] = []
    extra: list[list[str | None]] = []
    if "total_rows" in style.quirks and table.amount_field in ds.fields and "supplier_name" in ds.fields and m:
        amount = np.asarray(table.columns[table.amount_field])[rows]
        name_col = list(ds.fields).index("supplier_name") + len(style.extra_columns)
        amount_col = list(ds.fields).index(table.amount_field) + len(style.extra_columns)
        cuts = sorted(set(int(x) for x in rng.integers(1, m, min(3, m - 1)))) if m > 1 else []
        symbol = ds.amount.currency_symbols[0] if ds.amount.currency_symbols else "£"
        fmt = "plain" if style.amount_format == "numeric" else style.amount_format
        negative = "minus" if r.numeric[amount_col] else style.negative_format
        prev = 0
        for label, pos in [*(("Total", c) for c in cuts), ("Grand Total", m)]:
            total = int(amount[prev:pos].sum()) if label == "Total" else int(amount.sum())
            prev = pos if label == "Total" else prev
            row: list[str | None] = [None] * len(cols)
            row[name_col] = label
            row[amount_col] = _money_text(np.array([total]), fmt, negative, symbol)[0].as_py()
            positions.append(pos)
            extra.append(row)
    if "blank_rows" in style.quirks and m:
        for pos in sorted(int(x) for x in rng.integers(1, m + 1, 3)):
            positions.append(pos)
            extra.append([None] * len(cols))
    if not extra:
        return cols
    order = np.insert(np.arange(m), np.array(positions), m + np.arange(len(extra)))
    out = []
    for j, c in enumerate(cols):
        more = pa.array([row[j] for row in extra], type=pa.string())
        out.append(pa.concat_arrays([c, more]).take(pa.array(order)))
    return out
