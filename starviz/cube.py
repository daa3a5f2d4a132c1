"""The spend cube's vocabulary and the spend page's view of it, in pure Python.

What a user can pivot by (dimensions) and count (measures); the page's :class:`View` (rows,
columns, measure, the selections made by clicking charts, the supplier in the profile) and its
round trip through the URL; chart clicks turned into selections; and the pivot's long result shaped
into the table on screen, with a map from each cell back to the criteria that select its lines.

The SQL behind each dimension lives in ``queries.py``; nothing here touches the database or
Streamlit. Every key is text: a council id, a category, a supplier id ('' for a redacted or
unnamed payee), a month as ``YYYY-MM-01``, a flag as ``yes``/``no``/``unknown``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import pandas as pd

from starviz import escape
from starviz.fmt import in_unit

Order = Literal["measure", "key", "rank", "fixed"]


@dataclass(frozen=True)
class Dimension:
    """A way to cut spend. ``order`` says how its values are listed: by the measure (largest first,
    cut to the top N with the rest as one "Other" row), by key (time), by the council's configured
    order (``rank``) or in the fixed order of ``values``."""

    label: str
    order: Order
    values: Mapping[str, str] = field(default_factory=dict)
    empty: str = "(not given)"

    def label_of(self, key: str | None, name: str | None = None) -> str:
        if name:
            return name
        if key is None:
            return "Other"
        if key == "":
            return self.empty
        if key in self.values:
            return self.values[key]
        if self.order == "key" and re.fullmatch(r"\d{4}-\d{2}-01", key):
            return dt.date.fromisoformat(key).strftime("%b %Y")
        return key


_FLAG = {"yes": "{}", "no": "Not {}", "unknown": "Unknown"}


def _flag(label: str) -> dict[str, str]:
    return {k: v.format(label) for k, v in _FLAG.items()}


DIMENSIONS: dict[str, Dimension] = {
    "council": Dimension("Council", "rank"),
    "category": Dimension("Category (ProClass level 1)", "measure"),
    "category_l2": Dimension("Category (ProClass level 2)", "measure"),
    "supplier": Dimension("Supplier", "measure", empty="Redacted or unnamed payee"),
    "department": Dimension("Department / service", "measure"),
    "month": Dimension("Month", "key"),
    "quarter": Dimension("Quarter", "key"),
    "financial_year": Dimension("Financial year", "key"),
    "contract": Dimension(
        "On/off contract", "fixed", {"on": "On contract", "off": "Off contract", "unknown": "Unknown (no contracts loaded)"}
    ),
    "local": Dimension("Local (GM)", "fixed", _flag("Local (GM)") | {"no": "Not local"}),
    "sme": Dimension("SME", "fixed", _flag("SME")),
    "vcse": Dimension("VCSE", "fixed", _flag("VCSE")),
}
NONE = "none"  # the column dimension "none": a one-column pivot


@dataclass(frozen=True)
class Measure:
    label: str
    unit: Literal["gbp", "count"]
    additive: bool


MEASURES: dict[str, Measure] = {
    "spend_gbp": Measure("Spend", "gbp", True),
    "count_lines": Measure("Lines", "count", True),
    "count_suppliers": Measure("Suppliers", "count", False),
    "avg_line_gbp": Measure("Average line value", "gbp", False),
}


def format_value(measure: str, value: float | None) -> str:
    """A measure's value as text, in its unit (``fmt.in_unit``): £ for spend and averages, counts with commas."""
    return in_unit(value, MEASURES[measure].unit)


@dataclass(frozen=True)
class Criterion:
    """Lines whose key on ``dimension`` equals ``value``; or, with ``excluded``, is none of those keys
    (the "Other" row of a pivot cut to its top N)."""

    dimension: str
    value: str | None = None
    excluded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {self.dimension!r}")
        if self.value is not None and self.excluded:
            raise ValueError("a criterion has either a value or excluded keys, not both")

    @property
    def is_other(self) -> bool:
        return self.value is None

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        dim = DIMENSIONS[self.dimension]
        if self.is_other:
            return f"{dim.label}: other than the {len(self.excluded):,} shown"
        return f"{dim.label}: {dim.label_of(self.value, (names or {}).get(self.value))}"


# ------------------------------------------------------------------------------------------- view
PICK_PREFIX = "sel_"
PARAM_KEYS: tuple[str, ...] = (
    *("rows", "cols", "measure", "profile", "cell_row", "cell_col"),
    *(PICK_PREFIX + d for d in DIMENSIONS),
)
# A pivot cell in the link: the key of its row and of its column, or one of these for a total or the
# "Other" bucket (parenthesised, so no key of a dimension reads as one).
CELL_TOTAL, CELL_OTHER = "(total)", "(other)"
SUPPLIER_ID = re.compile(r"^S[0-9a-f]{10}$")
_MAX_VALUE = 200


@dataclass(frozen=True)
class View:
    """What the spend page shows: the pivot's rows, columns and measure; the selections made by
    clicking charts (one key per dimension, applied to everything on the page); the supplier shown
    in the profile; the pivot cell drilled into (row and column as ``Pivot.cell_params`` names them).
    The cell belongs to the pivot of these rows, columns, measure and picks: change one and it goes."""

    rows: str = "category"
    columns: str = "council"
    measure: str = "spend_gbp"
    picks: tuple[tuple[str, str], ...] = ()
    supplier: str | None = None
    cell: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.rows not in DIMENSIONS:
            raise ValueError(f"unknown row dimension {self.rows!r}")
        if self.columns != NONE and (self.columns not in DIMENSIONS or self.columns == self.rows):
            raise ValueError(f"column dimension {self.columns!r} must be another dimension or {NONE!r}")
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}")
        picks = dict(self.picks)
        if len(picks) != len(self.picks) or any(d not in DIMENSIONS for d in picks):
            raise ValueError(f"picks must name each known dimension once: {self.picks!r}")
        object.__setattr__(self, "picks", tuple(sorted(picks.items(), key=lambda p: list(DIMENSIONS).index(p[0]))))

    def pick(self, dimension: str, key: str) -> View:
        return replace(self, picks=(*((d, k) for d, k in self.picks if d != dimension), (dimension, key)), cell=None)

    def unpick(self, *dimensions: str) -> View:
        picks = tuple((d, k) for d, k in self.picks if d not in dimensions)
        return replace(self, picks=picks, cell=self.cell if picks == self.picks else None)

    def laid_out(self, rows: str, columns: str, measure: str) -> View:
        """The view with the pivot's rows, columns and measure (the drilled cell kept only if none changed)."""
        same = (rows, columns, measure) == (self.rows, self.columns, self.measure)
        return replace(self, rows=rows, columns=columns, measure=measure, cell=self.cell if same else None)

    def picked(self, dimension: str) -> str | None:
        return dict(self.picks).get(dimension)

    def treemap_selection(self) -> str | None:
        """The treemap box of the selected supplier, when one is selected within a selected category."""
        category, supplier = self.picked("category"), self.picked("supplier")
        return treemap_id(category, supplier) if category is not None and supplier is not None else None

    def criteria(self, without: Sequence[str] = ()) -> tuple[Criterion, ...]:
        """The selections as criteria, leaving out the dimensions a chart draws itself (it highlights
        its own selection instead of shrinking to it)."""
        return tuple(Criterion(d, k) for d, k in self.picks if d not in without)

    def to_params(self) -> dict[str, str]:
        params = {"rows": self.rows, "cols": self.columns, "measure": self.measure}
        params |= {PICK_PREFIX + d: k for d, k in self.picks}
        if self.supplier:
            params["profile"] = self.supplier
        if self.cell:
            params["cell_row"], params["cell_col"] = self.cell
        return params


def _shown(value: object) -> str:
    from starviz.scope import _shown as shown  # one escaping rule for every notice

    return shown(value)


def parse_view(params: Mapping[str, object]) -> tuple[View, list[str]]:
    """The view a link asks for, and a notice for every value it had to ignore. Never raises."""
    notices: list[str] = []

    def text(key: str) -> str | None:
        value = params.get(key)
        if isinstance(value, list | tuple):
            value = value[-1] if value else None
        return None if value is None else str(value).strip()

    default = View()
    rows = text("rows") or default.rows
    if rows not in DIMENSIONS:
        notices.append(f"Ignored rows={_shown(rows)}: not one of {', '.join(DIMENSIONS)}")
        rows = default.rows
    cols = text("cols") or (default.columns if rows != default.columns else NONE)
    if cols != NONE and (cols not in DIMENSIONS or cols == rows):
        notices.append(f"Ignored cols={_shown(cols)}: not another dimension or {NONE}")
        cols = default.columns if rows != default.columns else NONE
    measure = text("measure") or default.measure
    if measure not in MEASURES:
        notices.append(f"Ignored measure={_shown(measure)}: not one of {', '.join(MEASURES)}")
        measure = default.measure
    picks = []
    for dim in DIMENSIONS:
        value = text(PICK_PREFIX + dim)
        if value is None:
            continue
        if len(value) > _MAX_VALUE or not value.isprintable():
            notices.append(f"Ignored {PICK_PREFIX}{dim}={_shown(value)}: not a value of {DIMENSIONS[dim].label}")
            continue
        picks.append((dim, value))
    supplier = text("profile")
    if supplier and not SUPPLIER_ID.fullmatch(supplier):
        notices.append(f"Ignored profile={_shown(supplier)}: not a supplier id")
        supplier = None
    cell = (text("cell_row"), text("cell_col"))
    if cell != (None, None) and any(v is None or not v or len(v) > _MAX_VALUE or not v.isprintable() for v in cell):
        notices.append(f"Ignored cell_row={_shown(cell[0])}, cell_col={_shown(cell[1])}: not a cell of the table")
        cell = (None, None)
    return View(rows, cols, measure, tuple(picks), supplier or None, cell if cell[0] is not None else None), notices


# ------------------------------------------------------------------------------------ chart clicks
TREEMAP_SEP = "\x1f"


def treemap_id(category: str, supplier_key: str | None = None, other: bool = False) -> str:
    """The id of a treemap box: a category; a supplier key within a category ('' for a redacted or
    unnamed payee); or (``other``) the category's other suppliers."""
    if other:
        return f"o{TREEMAP_SEP}{category}"
    if supplier_key is None:
        return f"c{TREEMAP_SEP}{category}"
    return f"s{TREEMAP_SEP}{category}{TREEMAP_SEP}{supplier_key}"


def picks_from_treemap(points: Sequence[Mapping]) -> dict[str, str | None]:
    """Dimension -> key (None: clear) for a click on the category-supplier treemap. A supplier box
    picks its category and supplier; a category box picks the category and clears the supplier;
    "Other suppliers" and empty clicks clear both."""
    if not points:
        return {"category": None, "supplier": None}
    parts = str(escape.unplotly(points[0].get("id", ""))).split(TREEMAP_SEP)  # ids are escaped like labels
    if parts[0] == "c" and len(parts) == 2:
        return {"category": parts[1], "supplier": None}
    if parts[0] == "s" and len(parts) == 3:
        return {"category": parts[1], "supplier": parts[2]}
    if parts[0] == "o" and len(parts) == 2:
        return {"category": parts[1], "supplier": None}
    return {"category": None, "supplier": None}


def picks_from_trend(points: Sequence[Mapping]) -> dict[str, str | None]:
    """Dimension -> key for a click on the monthly trend: the month, and the council of the segment."""
    if not points:
        return {"month": None, "council": None}
    data = points[0].get("customdata") or []
    if isinstance(data, str):
        data = [data]
    month = str(points[0].get("x", ""))[:10]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", month):
        return {"month": None, "council": None}
    council = str(escape.unplotly(data[0])) if data else None
    return {"month": month[:8] + "01", "council": council}


# ------------------------------------------------------------------------------------------ pivot
@dataclass
class Pivot:
    """The pivot on screen: ``table`` has the row labels in its first column, one column per column
    key and a Total column (and a Total row); ``rows`` and ``columns`` give the criterion behind each
    table row and column (None for a total)."""

    table: pd.DataFrame
    rows: list[Criterion | None]
    columns: dict[str, Criterion | None]
    view: View
    notes: list[str] = field(default_factory=list)

    @property
    def row_header(self) -> str:
        return self.table.columns[0]

    @staticmethod
    def _param(criterion: Criterion | None) -> str:
        return CELL_TOTAL if criterion is None else CELL_OTHER if criterion.is_other else str(criterion.value)

    def cell_params(self, row: int, column: str) -> tuple[str, str]:
        """How the link names a cell: its row's and its column's key (or total / other)."""
        return self._param(self.rows[row]), self._param(self.columns[column])

    def find_cell(self, cell: tuple[str, str]) -> tuple[int, str] | None:
        """The table row and column of the cell a link names, or None when this pivot has no such cell."""
        row = next((i for i, c in enumerate(self.rows) if self._param(c) == cell[0]), None)
        column = next((name for name, c in self.columns.items() if self._param(c) == cell[1]), None)
        return None if row is None or column is None else (row, column)

    def cell_criteria(self, row: int, column: str) -> tuple[Criterion, ...] | None:
        """The criteria selecting the lines behind one cell (the page's picks included), or None
        when the cell is not one of the pivot's values."""
        if not 0 <= row < len(self.rows) or column not in self.columns:
            return None
        out = list(self.view.criteria())
        for crit in (self.rows[row], self.columns[column]):
            if crit is not None:
                out = [c for c in out if c.dimension != crit.dimension] + [crit]
        return tuple(out)


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label if n == 0 else f"{label} ({n + 1})")
    return out


OTHER = None  # the key of a pivot's "Other" row or column: every value outside the largest N


def measure_of(measure: str, spend: float, lines: float, suppliers: float | None = None) -> float | None:
    """A measure from the sums the cube holds (suppliers come counted from the cube)."""
    if measure == "spend_gbp":
        return spend
    if measure == "count_lines":
        return lines
    if measure == "avg_line_gbp":
        return spend / lines if lines else None
    return suppliers


def _order(keys: Mapping, dim: Dimension, value: Mapping, ranks: Mapping) -> list:
    """Keys of one axis in display order (the Other bucket, if any, last)."""
    real = [k for k in keys if k is not OTHER]
    if dim.order == "key":
        real.sort()
    elif dim.order == "rank":
        real.sort(key=lambda k: (ranks.get(k) is None, ranks.get(k) or 0, k))
    elif dim.order == "fixed":
        order = list(dim.values)
        real.sort(key=lambda k: order.index(k) if k in order else len(order))
    else:
        real.sort(key=lambda k: (value.get(k) is None, -(value.get(k) or 0), k))
    return real + ([OTHER] if OTHER in keys else [])


def keep_largest(totals: Mapping[str, float | None], dim: Dimension, limit: int) -> set | None:
    """The keys of an axis to show one by one: the largest ``limit`` by the measure for a dimension
    ordered by it, all of them otherwise (None)."""
    if dim.order != "measure" or len(totals) <= limit:
        return None
    ranked = sorted(totals, key=lambda k: (totals[k] is None, -(totals[k] or 0), k))
    return set(ranked[:limit])


@dataclass
class Totals:
    """A pivot's numbers before labels: the measure per cell ``(row key, column key)``, per row, per
    column and overall (Other bucket key None), and how many keys each axis had before the cut."""

    cells: dict
    rows: dict
    columns: dict
    grand: float | None
    count_row_keys: int
    count_col_keys: int

    def keys(self) -> tuple[list, list]:
        return [k for k in self.rows if k is not OTHER], [k for k in self.columns if k is not OTHER]


def totals_from_sums(view: View, sums: Sequence[tuple], max_rows: int, max_columns: int) -> Totals:
    """The pivot of an additive measure (spend, lines, average line value) from the cube's sums per
    cell, ``(row key, column key, spend, lines)``: the largest N values of each axis, the rest as Other,
    with row, column and grand totals, all exact because the sums add up."""
    m = view.measure
    has_cols = view.columns != NONE
    row_sums: dict = {}
    col_sums: dict = {}
    for r, c, spend, lines in sums:
        a = row_sums.setdefault(r, [0.0, 0.0])
        a[0] += spend or 0.0
        a[1] += lines or 0.0
        b = col_sums.setdefault(c, [0.0, 0.0])
        b[0] += spend or 0.0
        b[1] += lines or 0.0
    keep_r = keep_largest({k: measure_of(m, *v) for k, v in row_sums.items()}, DIMENSIONS[view.rows], max_rows)
    keep_c = (
        keep_largest({k: measure_of(m, *v) for k, v in col_sums.items()}, DIMENSIONS[view.columns], max_columns)
        if has_cols
        else None
    )
    cells: dict = {}
    rows: dict = {}
    cols: dict = {}
    grand = [0.0, 0.0]
    for r, c, spend, lines in sums:
        rb = r if keep_r is None or r in keep_r else OTHER
        cb = c if keep_c is None or c in keep_c else OTHER
        for store, key in ((cells, (rb, cb)), (rows, rb), (cols, cb)):
            acc = store.setdefault(key, [0.0, 0.0])
            acc[0] += spend or 0.0
            acc[1] += lines or 0.0
        grand[0] += spend or 0.0
        grand[1] += lines or 0.0

    def value(pair) -> float | None:
        return None if pair is None else measure_of(m, *pair)

    return Totals(
        {k: value(v) for k, v in cells.items()},
        {k: value(v) for k, v in rows.items()},
        {k: value(v) for k, v in cols.items()} if has_cols else {},
        value(grand) if sums else None,
        len(row_sums),
        len(col_sums) if has_cols else 0,
    )


def totals_from_counts(view: View, counts: Sequence[tuple], count_row_keys: int, count_col_keys: int) -> Totals:
    """The pivot of a measure that does not add up (suppliers) from a query that counted every cell,
    row total, column total and the grand total itself: ``(is_row_total, is_col_total, r, c, count)``
    per each, ``r``/``c`` None for the Other bucket; and how many row and column keys there were."""
    cells, rows, cols = {}, {}, {}
    grand = None

    def key(v):
        return OTHER if v is None or (isinstance(v, float) and math.isnan(v)) else v

    for is_row_total, is_col_total, r, c, count in counts:
        v = None if count is None else float(count)
        if is_row_total and is_col_total:
            grand = v
        elif is_row_total:
            cols[key(c)] = v
        elif is_col_total:
            rows[key(r)] = v
        else:
            cells[(key(r), key(c))] = v
    return Totals(cells, rows, cols, grand, count_row_keys, count_col_keys if view.columns != NONE else 0)


def assemble(
    view: View,
    totals: Totals,
    names: Mapping[tuple[str, str], str] | None = None,
    ranks: Mapping[tuple[str, str], int] | None = None,
) -> Pivot:
    """The table on screen from a pivot's numbers, with councils' and suppliers' names (``names``,
    keyed by (dimension, key)) and councils in their configured order (``ranks``)."""
    names, ranks = names or {}, ranks or {}
    cells, rows, cols, grand = totals.cells, totals.rows, totals.columns, totals.grand
    n_row_keys, n_col_keys = totals.count_row_keys, totals.count_col_keys
    m = view.measure
    rdim = DIMENSIONS[view.rows]
    has_cols = view.columns != NONE
    label_total = "Total"
    notes: list[str] = []
    row_keys = _order(rows, rdim, rows, {k: ranks.get((view.rows, k)) for k in rows})
    kept_rows = tuple(k for k in row_keys if k is not OTHER)
    row_labels = _unique(
        [
            f"Other ({n_row_keys - len(kept_rows):,})" if k is OTHER else rdim.label_of(k, names.get((view.rows, k)))
            for k in row_keys
        ]
    )
    if n_row_keys > len(kept_rows):
        notes.append(
            f"Rows: the {len(kept_rows):,} largest of {n_row_keys:,} values of {rdim.label} by "
            f"{MEASURES[m].label.lower()}; the rest are one “Other” row."
        )
    col_keys: list = []
    col_labels: list[str] = []
    kept_cols: tuple = ()
    if has_cols:
        cdim = DIMENSIONS[view.columns]
        col_keys = _order(cols, cdim, cols, {k: ranks.get((view.columns, k)) for k in cols})
        kept_cols = tuple(k for k in col_keys if k is not OTHER)
        labels = [
            f"Other ({n_col_keys - len(kept_cols):,})" if k is OTHER else cdim.label_of(k, names.get((view.columns, k)))
            for k in col_keys
        ]
        col_labels = _unique([c if c not in (rdim.label, label_total) else f"{c} " for c in labels])
        if n_col_keys > len(kept_cols):
            notes.append(
                f"Columns: the {len(kept_cols):,} largest of {n_col_keys:,} values of {cdim.label}; "
                "the rest are one “Other” column."
            )
    data: dict[str, list] = {rdim.label: [*row_labels, label_total]}
    for ck, cl in zip(col_keys, col_labels, strict=True):
        data[cl] = [cells.get((rk, ck)) for rk in row_keys] + [cols.get(ck)]
    data[label_total] = [rows.get(rk) for rk in row_keys] + [grand]
    table = pd.DataFrame(data)
    if not row_keys:
        table = table.iloc[0:0]

    def crit(dimension: str, k, kept: tuple) -> Criterion:
        return Criterion(dimension, excluded=kept) if k is OTHER else Criterion(dimension, k)

    criteria_rows = [crit(view.rows, k, kept_rows) for k in row_keys] + ([None] if row_keys else [])
    columns: dict[str, Criterion | None] = {
        cl: crit(view.columns, ck, kept_cols) for ck, cl in zip(col_keys, col_labels, strict=True)
    }
    columns[label_total] = None
    return Pivot(table, criteria_rows, columns, view, notes)
