"""The spend page's cube: dimensions and measures as fixed SQL, the pivot, trend, totals and drill-down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from starviz import config, cube
from starviz.queries import db
from starviz.scope import Scope

# --- spend cube and benchmarking (spend and benchmarking pages) ------------------------------------
# The pages aggregate two tables built for them: mart_spend_cube (one row per council, month,
# category, department, supplier and flags) and its roll-up over suppliers, mart_spend_cube_rollup.
# Only the drill-down reads invoice lines. Each dimension's SQL is fixed here, picked from a
# whitelist by name; user choices and clicked values only ever travel as parameters.


@dataclass(frozen=True)
class _Dim:
    cube: str  # the dimension's key, as text, over the cube's columns
    line: str  # the same key over fct_spend's columns
    name: str | None = None  # display name of a key {k}, where it is data (councils, suppliers)
    rank: str | None = None  # configured position of a key {k}
    grain: int = 0  # the finest cube it needs: 0 summary, 1 roll-up (departments, level 2), 2 suppliers
    by_supplier: bool = False  # also in mart_spend_by_supplier_month (identified suppliers only)


def _flag_key(column: str) -> str:
    return f"case when {column} then 'yes' when not {column} then 'no' else 'unknown' end"


_L2_KEY = "case when category_l2 is null then category else category || ': ' || category_l2 end"
_CONTRACT_KEY = "case when is_on_contract then 'on' when not is_on_contract then 'off' else 'unknown' end"
_DIMS: dict[str, _Dim] = {
    "council": _Dim(
        "council_id",
        "council_id",
        name="(select d.short_name from dim_councils d where d.council_id = {k})",
        rank="(select d.sort_order from dim_councils d where d.council_id = {k})",
        by_supplier=True,
    ),
    "category": _Dim("category", "category", by_supplier=True),
    "category_l2": _Dim(_L2_KEY, _L2_KEY, grain=1),
    "supplier": _Dim(
        "coalesce(supplier_id, '')",
        "coalesce(supplier_id, '')",
        name="(select d.supplier_name from dim_suppliers d where d.supplier_id = {k})",
        grain=2,
        by_supplier=True,
    ),
    "department": _Dim("department", "coalesce(nullif(upper(trim(department)), ''), '')", grain=1),
    "month": _Dim("month::varchar", "month::varchar", by_supplier=True),
    "quarter": _Dim("quarter", "fy_quarter(month)", by_supplier=True),
    "financial_year": _Dim("financial_year", "financial_year", by_supplier=True),
    "contract": _Dim(_CONTRACT_KEY, _CONTRACT_KEY),
    "local": _Dim(_flag_key("is_local"), _flag_key("is_local")),
    "sme": _Dim(_flag_key("is_sme"), _flag_key("is_sme")),
    "vcse": _Dim(_flag_key("is_vcse"), _flag_key("is_vcse")),
}
assert set(_DIMS) == set(cube.DIMENSIONS), "every cube dimension needs its SQL here"

_MEASURE_SQL = {
    "spend_gbp": "sum(spend_gbp)",
    "count_lines": "sum(count_lines)",
    "count_suppliers": "count(distinct supplier_id)",
    "avg_line_gbp": "sum(spend_gbp) / nullif(sum(count_lines), 0)",
}
assert set(_MEASURE_SQL) == set(cube.MEASURES)

# Drill-down sort orders: a key from this fixed list, never text from the user.
LINE_SORTS: dict[str, str] = {
    "payment_date": "Payment date",
    "amount_gbp": "Amount",
    "supplier": "Supplier",
    "council": "Council",
    "source": "Source file and row",
}
_LINE_ORDER = {
    "payment_date": "l.payment_date",
    "amount_gbp": "l.amount_gbp",
    "supplier": "l.supplier_name",
    "council": "c.sort_order",
    "source": "l.source_file, l.source_row",
}


def _where(
    scope: Scope, criteria: tuple[cube.Criterion, ...] = (), *, lines: bool = False, addressable: bool = True, period: bool = True
) -> tuple[str, list]:
    """Row filter for the cube (or, with ``lines``, for fct_spend): the user's councils, the period,
    addressable spend when the filter says so, and every criterion as a parameter."""
    sql = ["in_scope(council_id, ?)"]
    params: list = [scope.council_ids]
    if period:
        sql.append("month between ? and ?")
        params += [scope.filters.date_from, scope.filters.date_to]
    if addressable:
        sql.append("(is_addressable or not ?)")
        params.append(scope.filters.addressable_only)
    for crit in criteria:
        expr = _DIMS[crit.dimension].line if lines else _DIMS[crit.dimension].cube
        if crit.value is not None:
            sql.append(f"{expr} = ?")
            params.append(crit.value)
        else:
            sql.append(f"{expr} not in (select unnest(?::varchar[]))")
            params.append(list(crit.excluded))
    return " and ".join(sql), params


_CUBES = ("mart_spend_cube_summary", "mart_spend_cube_rollup", "mart_spend_cube")


_YEAR_CUBES = {
    "mart_spend_cube_summary": "mart_spend_cube_summary_year",
    "mart_spend_by_supplier_month": "mart_spend_by_supplier_year",
}


def whole_years(filters) -> bool:
    """The period is made of whole financial years: a year, all years, or months from an April to a March."""
    if filters.period in ("fy", "all"):
        return True
    return filters.period == "months" and filters.date_from.month == 4 and filters.date_to.month == 3


def _cube_table(*dimensions: str, distinct: bool = False, scope: Scope | None = None) -> str:
    """The smallest of the cubes that answers: the summary (council, month, category, flags), the
    roll-up (adds departments and level-2 categories) or the cube itself (adds suppliers, needed to
    cut by supplier or to count suppliers). Counting suppliers by council, time and category only
    reads the supplier mart, which holds identified suppliers alone (all a count needs). Given the
    ``scope``, a period of whole financial years not cut by month or quarter reads the year-grain
    version of the summary or the supplier mart."""
    dims = [d for d in dimensions if d in _DIMS]
    if distinct and all(_DIMS[d].by_supplier for d in dims):
        table = "mart_spend_by_supplier_month"
    else:
        table = _CUBES[max([2 if distinct else 0, *(_DIMS[d].grain for d in dims)])]
    if scope is not None and table in _YEAR_CUBES and not {"month", "quarter"} & set(dims) and whole_years(scope.filters):
        return _YEAR_CUBES[table]
    return table


def _lookup(template: str | None, column: str) -> str:
    return "null" if template is None else template.format(k=column)


def _council_names() -> tuple[dict, dict]:
    rows = db.rows("select council_id, short_name, sort_order from dim_councils")
    return {("council", k): n for k, n, _ in rows}, {("council", k): int(r) for k, _, r in rows}


def _names(dimension: str, keys) -> tuple[dict, dict]:
    """Display names and configured positions of some keys of a dimension (councils, suppliers)."""
    spec = _DIMS[dimension]
    keys = [k for k in keys if k]
    if spec.name is None or not keys:
        return {}, {}
    if dimension == "council":
        names, ranks = db.reference("council names", _council_names)
        return dict(names), dict(ranks)  # the kept lookups stay as they are
    frame = db.query(
        f"select k, {spec.name.format(k='k')} as name, {_lookup(spec.rank, 'k')} as rank from (select unnest(?::varchar[]) as k)",
        [keys],
    )
    names = {(dimension, k): n for k, n in zip(frame["k"], frame["name"], strict=True) if isinstance(n, str)}
    ranks = {(dimension, k): int(r) for k, r in zip(frame["k"], frame["rank"], strict=True) if not pd.isna(r)}
    return names, ranks


def spend_pivot(scope: Scope, view: cube.View, max_rows: int | None = None, max_columns: int | None = None) -> cube.Pivot:
    """The pivot of one measure by the view's row and column dimensions, with row, column and grand
    totals. Values of a dimension ordered by the measure are cut to the largest N, the rest as one
    "Other" bucket. Spend, lines and average line value add up, so one grouped query of the cube
    answers and the totals are summed; suppliers do not, so the cube counts every total itself."""
    s = config.settings()
    max_rows = max_rows or s.cube_max_rows
    max_columns = max_columns or s.cube_max_columns
    has_cols = view.columns != cube.NONE
    criteria = view.criteria()
    distinct = view.measure == "count_suppliers"
    dims = [view.rows, *([view.columns] if has_cols else []), *(c.dimension for c in criteria)]
    table = _cube_table(*dims, distinct=distinct, scope=scope)
    where, params = _where(scope, criteria)
    rdim = _DIMS[view.rows]
    cdim = _DIMS[view.columns] if has_cols else None
    if not distinct:
        sums = db.rows(
            f"""
            select {rdim.cube} as r, {cdim.cube if cdim else "''"} as c,
                   sum(spend_gbp)::double as spend_gbp, sum(count_lines)::double as count_lines
            from {table}
            where {where}
            group by all
            """,
            params,
        )
        totals = cube.totals_from_sums(view, sums, max_rows, max_columns)
    else:
        row_limit = max_rows if cube.DIMENSIONS[view.rows].order == "measure" else 1_000_000
        col_limit = max_columns if has_cols and cube.DIMENSIONS[view.columns].order == "measure" else 1_000_000
        # First every cell and total counted directly; only when an axis has more values than it shows
        # are the rest bucketed into "Other" and counted again.
        many = {"supplier", "category_l2"} & {view.rows, view.columns}  # these nearly always need an Other
        r_sql, c_sql = rdim.cube, (cdim.cube if cdim else None)
        # Each grouping set keeps the supplier, so its groups are distinct suppliers and a count of
        # rows counts them: plain grouping, cheaper than four count(distinct) (a quarter less time).
        direct = (
            (
                f"grouping({r_sql}) as is_row_total, grouping({c_sql}) as is_col_total, {r_sql} as r, {c_sql} as c",
                f"({r_sql}, {c_sql}, supplier_id), ({r_sql}, supplier_id), ({c_sql}, supplier_id), (supplier_id)",
            )
            if has_cols
            else (
                f"grouping({r_sql}) as is_row_total, 1 as is_col_total, {r_sql} as r, null::varchar as c",
                f"({r_sql}, supplier_id), (supplier_id)",
            )
        )
        counts: list[tuple] = []
        n_rows = n_cols = 0
        if not many:
            counts = db.rows(
                f"""
                with suppliers_per_set as (
                    select {direct[0]}
                    from {table}
                    where {where} and supplier_id is not null
                    group by grouping sets ({direct[1]})
                )
                select is_row_total, is_col_total, r, c, count(*) as count_suppliers
                from suppliers_per_set
                group by all
                """,
                params,
            )
            # every row key has its row total, every column key its column total
            n_rows = sum(1 for t in counts if t[1] and not t[0])
            n_cols = sum(1 for t in counts if t[0] and not t[1])
        if many or n_rows > row_limit or n_cols > col_limit:
            # cells holds each (row, column, supplier) once, so a count of rows is a count of suppliers
            bucketed = db.rows(
                f"""
                with
                cells as materialized (
                    select {rdim.cube} as r, {cdim.cube if cdim else "''"} as c, supplier_id
                    from {table}
                    where {where} and supplier_id is not null
                    group by all
                ),
                by_row as (select r, count(*) as n from (select distinct r, supplier_id from cells) group by r),
                by_col as (select c, count(*) as n from (select distinct c, supplier_id from cells) group by c),
                row_keep as (select r from by_row order by n desc, r limit ?),
                col_keep as (select c from by_col order by n desc, c limit ?),
                bucketed as materialized (
                    select distinct
                        case when r in (select r from row_keep) then r end as r,
                        case when c in (select c from col_keep) then c end as c,
                        supplier_id
                    from cells
                ),
                counted as (
                    select 0 as is_row_total, 0 as is_col_total, r, c, count(*) as count_suppliers
                    from bucketed group by r, c
                    union all
                    select 0, 1, r, null, count(*) from (select distinct r, supplier_id from bucketed) group by r
                    union all
                    select 1, 0, null, c, count(*) from (select distinct c, supplier_id from bucketed) group by c
                    union all
                    select 1, 1, null, null, count(distinct supplier_id) from bucketed
                )
                select counted.*, (select count(*) from by_row) as count_row_keys,
                       (select count(*) from by_col) as count_col_keys
                from counted
                where {"true" if has_cols else "is_col_total = 1"}
                """,
                [*params, row_limit, col_limit],
            )
            counts = [t[:5] for t in bucketed]
            n_rows, n_cols = (bucketed[0][5], bucketed[0][6]) if bucketed else (0, 0)
        totals = cube.totals_from_counts(view, counts, n_rows, n_cols)
    names, ranks = {}, {}
    for dimension, keys in zip((view.rows, view.columns), totals.keys(), strict=True):
        if dimension != cube.NONE and _DIMS[dimension].name:
            more_names, more_ranks = _names(dimension, keys)
            names |= more_names
            ranks |= more_ranks
    return cube.assemble(view, totals, names, ranks)


def cube_totals(scope: Scope, criteria: tuple[cube.Criterion, ...] = ()) -> dict:
    """Spend, lines, distinct suppliers and average line value of the selection."""
    where, params = _where(scope, criteria)
    row = (
        db.query(
            f"""
        select coalesce(sum(spend_gbp), 0) as spend_gbp, coalesce(sum(count_lines), 0) as count_lines,
               count(distinct supplier_id) as count_suppliers,
               sum(spend_gbp) / nullif(sum(count_lines), 0) as avg_line_gbp
        from mart_spend_cube
        where {where}
        """,
            params,
        )
        .iloc[0]
        .to_dict()
    )
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


def spend_by_category_supplier(
    scope: Scope, criteria: tuple[cube.Criterion, ...] = (), categories: int | None = None, suppliers: int | None = None
) -> pd.DataFrame:
    """Spend by category and supplier for the treemap: the largest categories, and within each the
    largest suppliers; ``category`` None is the other categories together, ``supplier_key`` None a
    category's other suppliers ('' is a redacted or unnamed payee)."""
    s = config.settings()
    where, params = _where(scope, criteria)
    one = any(c.dimension == "category" and c.value is not None for c in criteria)
    if not one and suppliers is None:  # before a category is chosen the treemap draws categories only
        return db.query(
            f"""
            with
            spend as (
                select category, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines
                from {_cube_table(*(c.dimension for c in criteria), scope=scope)}
                where {where}
                group by category
            ),
            ranked as (
                select *, row_number() over (order by spend_gbp desc, category) as category_rank from spend
            )
            select case when category_rank <= ? then category end as category, null::varchar as supplier_key,
                   min(category_rank) as category_rank, null::bigint as supplier_rank, sum(spend_gbp) as spend_gbp,
                   sum(count_lines) as count_lines, null::bigint as count_suppliers, null::varchar as supplier_name
            from ranked
            group by all
            order by category_rank
            """,
            [*params, categories or s.treemap_categories],
        )
    suppliers = suppliers or s.treemap_suppliers
    return db.query(
        f"""
        with
        spend as (
            select category, coalesce(supplier_id, '') as supplier_key,
                   sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines
            from mart_spend_cube
            where {where}
            group by all
        ),
        categories as (
            select category, row_number() over (order by sum(spend_gbp) desc, category) as category_rank
            from spend
            group by category
        ),
        ranked as (
            select spend.*, categories.category_rank,
                   row_number() over (partition by spend.category order by spend.spend_gbp desc, spend.supplier_key)
                       as supplier_rank
            from spend
            join categories using (category)
        ),
        boxes as (
            select
                case when category_rank <= ? then category end as category,
                case when category_rank <= ? and supplier_rank <= ? then supplier_key end as supplier_key,
                min(category_rank) as category_rank,
                min(supplier_rank) as supplier_rank,
                sum(spend_gbp) as spend_gbp,
                sum(count_lines) as count_lines,
                count(*) as count_suppliers
            from ranked
            group by all
        )
        select boxes.*, d.supplier_name
        from boxes
        left join dim_suppliers d on d.supplier_id = boxes.supplier_key
        order by category_rank, supplier_rank
        """,
        [*params, categories or s.treemap_categories, categories or s.treemap_categories, suppliers],
    )


def spend_trend(scope: Scope, criteria: tuple[cube.Criterion, ...] = (), measure: str = "spend_gbp") -> pd.DataFrame:
    """The measure per council per month of the period, for the selection (with council ids for the
    chart's clicks). Suppliers are counted from identified suppliers only, so for that measure the
    frame holds ``count_suppliers`` alone; otherwise spend, lines and average line value."""
    distinct = measure == "count_suppliers"
    table = _cube_table("council", "month", *(c.dimension for c in criteria), distinct=distinct)
    where, params = _where(scope, criteria)
    measures = (
        "count(distinct m.supplier_id) as count_suppliers"
        if distinct
        else "sum(m.spend_gbp) as spend_gbp, sum(m.count_lines) as count_lines, "
        "sum(m.spend_gbp) / nullif(sum(m.count_lines), 0) as avg_line_gbp"
    )
    return db.query(
        f"""
        select m.month, m.council_id, c.short_name as council, {measures}
        from {table} m
        join dim_councils c using (council_id)
        where {where}
        group by m.month, m.council_id, c.short_name, c.sort_order
        order by m.month, c.sort_order
        """,
        params,
    )


def excluded_spend(scope: Scope, criteria: tuple[cube.Criterion, ...] = ()) -> pd.DataFrame:
    """Spend left out of addressable spend, by reason and council, whatever the addressable filter."""
    table = _cube_table(*(c.dimension for c in criteria), scope=scope)
    where, params = _where(scope, criteria, addressable=False)
    return db.query(
        f"""
        select m.exclusion_reason, c.short_name as council,
               sum(m.spend_gbp) as spend_gbp, sum(m.count_lines) as count_lines
        from {table} m
        join dim_councils c using (council_id)
        where {where} and not m.is_addressable
        group by m.exclusion_reason, c.short_name, c.sort_order
        order by sum(sum(m.spend_gbp)) over (partition by m.exclusion_reason) desc, m.exclusion_reason, c.sort_order
        """,
        params,
    )


def drill_summary(scope: Scope, criteria: tuple[cube.Criterion, ...]) -> dict:
    """The lines behind a cell: how many and how much, how many of them are redacted, and how many
    this user may see line by line."""
    where, params = _where(scope, criteria, lines=True)
    row = (
        db.query(
            f"""
        select count(*) as count_lines, coalesce(sum(amount_gbp), 0) as spend_gbp,
               count(*) filter (where is_redacted) as count_redacted,
               coalesce(sum(amount_gbp) filter (where is_redacted), 0) as redacted_gbp
        from fct_spend
        where {where}
        """,
            params,
        )
        .iloc[0]
        .to_dict()
    )
    out = {k: (int(v) if k.startswith("count") else float(v)) for k, v in row.items()}
    if not scope.user.can("line_detail"):
        out["count_shown"] = 0
    elif scope.user.can("redacted_detail"):
        out["count_shown"] = out["count_lines"]
    else:
        out["count_shown"] = out["count_lines"] - out["count_redacted"]
    return out


_LINE_COLUMNS = [
    "payment_date",
    "council",
    "supplier",
    "amount_gbp",
    "category",
    "category_l2",
    "department",
    "purpose",
    "contract_id",
    "exclusion_reason",
    "source_file",
    "source_row",
    "date_precision",
]


def _lines_sql(scope: Scope, criteria: tuple[cube.Criterion, ...], sort: str, descending: bool) -> tuple[str, list]:
    """The invoice lines behind a cell in ``sort`` order, for a user with line-level access."""
    if sort not in _LINE_ORDER:
        raise ValueError(f"sort must be one of {', '.join(_LINE_ORDER)}")
    order = ", ".join(f"{part} {'desc' if descending else 'asc'}" for part in _LINE_ORDER[sort].split(", "))
    where, params = _where(scope, criteria, lines=True)
    sql = f"""
        select l.payment_date, c.short_name as council,
               case when l.is_redacted then 'Redacted (' || coalesce(l.redaction_kind, 'personal') || ')'
                    else l.supplier_name end as supplier,
               l.amount_gbp, l.category, l.category_l2, l.department, l.purpose, l.contract_id,
               l.exclusion_reason, l.source_file, l.source_row, l.date_precision
        from fct_spend l
        join dim_councils c using (council_id)
        where {where} and (not l.is_redacted or ?)
        order by {order}, l.line_id
        """
    return sql, [*params, scope.user.can("redacted_detail")]


def drill_lines(
    scope: Scope,
    criteria: tuple[cube.Criterion, ...],
    sort: str = "payment_date",
    descending: bool = False,
    page: int = 0,
    page_size: int | None = None,
) -> pd.DataFrame:
    """One page of the invoice lines behind a cell, each with its source file and row. Users without
    line-level access get no rows; redacted payments only to users allowed to see them."""
    if not scope.user.can("line_detail"):
        return pd.DataFrame(columns=_LINE_COLUMNS)
    size = page_size or config.settings().drilldown_page_size
    sql, params = _lines_sql(scope, criteria, sort, descending)
    return db.query(sql + " limit ? offset ?", [*params, size, max(0, int(page)) * size])


def drill_lines_batches(
    scope: Scope,
    criteria: tuple[cube.Criterion, ...],
    sort: str = "payment_date",
    descending: bool = False,
    rows: int = 50_000,
) -> Iterator[pd.DataFrame]:
    """Every invoice line behind a cell (not one page), in DataFrames of at most ``rows`` lines
    streamed from DuckDB, for the drill-down's exports; the same lines and order as the pages."""
    if not scope.user.can("line_detail"):
        return
    sql, params = _lines_sql(scope, criteria, sort, descending)
    yield from db.batches(sql, params, rows)


def drill_by_supplier(scope: Scope, criteria: tuple[cube.Criterion, ...], limit: int = 50) -> pd.DataFrame:
    """The lines behind a cell as totals per supplier (redacted payments one row): what a user without
    line-level access sees instead of the lines."""
    where, params = _where(scope, criteria)
    return db.query(
        f"""
        select case when m.supplier_id is not null then d.supplier_name
                    when bool_or(m.is_redacted) then 'Redacted payments (shown only as a total)'
                    else 'Unnamed payee' end as supplier,
               sum(m.count_lines) as count_lines, sum(m.spend_gbp) as spend_gbp
        from mart_spend_cube m
        left join dim_suppliers d using (supplier_id)
        where {where}
        group by m.supplier_id, d.supplier_name
        order by spend_gbp desc
        limit ?
        """,
        [*params, limit],
    )


def pick_names(scope: Scope, picks: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], str]:
    """Display names of the council and supplier keys among ``picks`` ((dimension, key) pairs), for
    councils in the scope and suppliers they paid: a key typed into the address learns nothing more."""
    out: dict[tuple[str, str], str] = {}
    councils = [k for d, k in picks if d == "council" and k]
    if councils:
        found = db.rows(
            "select council_id, short_name from (select unnest(?::varchar[]) as k) keys"
            " join dim_councils on council_id = k where in_scope(council_id, ?)",
            [councils, scope.council_ids],
        )
        out |= {("council", k): v for k, v in found}
    suppliers = [k for d, k in picks if d == "supplier" and k]
    if suppliers:
        found = db.rows(
            """
            select supplier_id, supplier_name from dim_suppliers
            where supplier_id in (select unnest(?::varchar[]))
              and supplier_id in (select supplier_id from mart_spend_by_supplier_month where in_scope(council_id, ?))
            """,
            [suppliers, scope.council_ids],
        )
        out |= {("supplier", k): v for k, v in found}
    return out
