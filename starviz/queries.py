"""The app's only path to DuckDB: one function per question, parameters only.

Every function that returns council data takes a ``Scope`` and restricts rows to the councils
the *user* may see, whatever the filters or the URL ask for: row-level security lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from starviz import config
from starviz.scope import Filters, User, add_months, fy_bounds, month_end, month_start, months_between


@dataclass(frozen=True)
class Scope:
    filters: Filters
    user: User

    @property
    def council_ids(self) -> list[str]:
        """The councils this query may touch: the selection, cut to the user's own scope."""
        return list(self.user.allowed(self.filters.councils))

    def previous(self) -> Scope | None:
        prev = self.filters.previous()
        return None if prev is None else Scope(prev, self.user)


class DatabaseUnavailable(RuntimeError):
    """The database file is missing or cannot be opened."""


_lock = threading.Lock()
_current: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}


def _connection() -> duckdb.DuckDBPyConnection:
    """One read-only connection per process, reopened when a rebuild swaps a new file in.

    DuckDB shares one instance per path inside a process, so the old connection must be closed
    before the new file can be seen: a cache keyed on the file's identity would keep the old one.
    """
    path = str(config.settings().db_path)
    try:
        stat = os.stat(path)
    except FileNotFoundError as exc:
        raise DatabaseUnavailable(f"No database at {path}. An admin can build it from the raw extracts.") from exc
    stamp = (stat.st_ino, stat.st_mtime_ns)
    with _lock:
        held = _current.get(path)
        if held and held[0] == stamp:
            return held[1]
        if held:
            held[1].close()
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.Error as exc:
            _current.pop(path, None)
            raise DatabaseUnavailable(f"The database {path} cannot be opened: {exc}") from exc
        _current[path] = (stamp, con)
        return con


def _query(sql: str, params: list | None = None) -> pd.DataFrame:
    with _connection().cursor() as cursor:  # connections are not thread-safe; cursors are cheap
        return cursor.execute(sql, params or []).df()


def _scalar(sql: str, params: list | None = None):
    with _connection().cursor() as cursor:
        return cursor.execute(sql, params or []).fetchone()[0]


def db_path() -> Path:
    return config.settings().db_path


# --- reference -----------------------------------------------------------------------------------


def councils() -> pd.DataFrame:
    """Partner councils (not STAR itself), in configuration order."""
    return _query(
        "select council_id, name, short_name, colour, population, gss_code, joined_date "
        "from dim_councils where is_council order by sort_order"
    )


def colours() -> dict[str, str]:
    return dict(_query("select short_name, colour from dim_councils").itertuples(index=False))


def months_loaded() -> list[dt.date]:
    frame = _query("select distinct month from mart_spend_by_council_month order by month")
    return [m.date() if hasattr(m, "date") else m for m in frame["month"]]


def build_info() -> dict:
    row = _query("select * from build_info").iloc[0].to_dict()
    row["demo"] = json.loads(row["demo_info"]) if row.get("demo_info") else None
    return row


def data_status(scope: Scope) -> pd.DataFrame:
    """Per council in scope: months of spend loaded, first and last month, the as-at date."""
    return _query(
        """
        select c.short_name as council, count(distinct m.month) as months_loaded,
               min(m.month) as first_month, max(m.month) as last_month
        from dim_councils c
        left join mart_spend_by_council_month m using (council_id)
        where c.council_id in (select unnest(?::varchar[]))
        group by c.short_name, c.sort_order
        order by c.sort_order
        """,
        [scope.council_ids],
    )


def as_at_date() -> dt.date | None:
    return _scalar("select max(month) from mart_spend_by_council_month")


# --- overview ------------------------------------------------------------------------------------

_SPEND_MEASURES = """
    select
        coalesce(sum(spend_gbp), 0) as total_gbp,
        coalesce(sum(spend_gbp) filter (where is_addressable), 0) as addressable_gbp,
        sum(spend_gbp) filter (where is_addressable and is_on_contract)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as on_contract_share,
        sum(spend_gbp) filter (where is_addressable and is_local)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as local_share,
        sum(spend_gbp) filter (where is_addressable and is_local is not null)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as local_known_share,
        sum(spend_gbp) filter (where is_addressable and is_sme)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as sme_share,
        sum(spend_gbp) filter (where is_addressable and is_vcse)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as vcse_share
    from mart_spend_by_council_month
    where council_id in (select unnest(?::varchar[])) and month between ? and ?
"""

_SOCIAL_VALUE = """
    select
        sum(committed_gbp) / nullif(sum(value_gbp), 0) as sv_committed_share,
        sum(delivered_gbp) / nullif(sum(value_gbp), 0) as sv_delivered_share,
        count(*) as count_sv_contracts
    from mart_social_value_by_contract
    where len(list_intersect(covered_council_ids, ?::varchar[])) > 0
      and start_date between ? and ?
"""

_SAVINGS = """
    select sum(value) as savings_gbp, sum(target) as savings_target_gbp
    from mart_kpis_by_month
    where kpi_code = ? and council_id in (select unnest(?::varchar[])) and month between ? and ?
"""


def comparison_windows(scope: Scope) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date] | None]:
    """The period cut to the data loaded, and the like-for-like previous window: a year that is
    only seven months in is compared with the same seven months of the year before."""
    start, end = scope.filters.date_from, scope.filters.date_to
    first, last = _query("select min(month) as a, max(month) as b from mart_spend_by_council_month").iloc[0]
    if not pd.isna(first):
        start = max(start, first.date() if hasattr(first, "date") else first)
        end = max(start, min(end, month_end(last.date() if hasattr(last, "date") else last)))
    previous = scope.filters.previous()
    if previous is None:
        return (start, end), None
    months = months_between(month_start(start), month_start(end))
    prev_start = previous.date_from
    return (start, end), (prev_start, month_end(add_months(prev_start, months - 1)))


def overview_measures(scope: Scope, window: tuple[dt.date, dt.date]) -> dict:
    """The overview's headline measures for one window of the scope."""
    ids, (start, end) = scope.council_ids, window
    out = _query(_SPEND_MEASURES, [ids, start, end]).iloc[0].to_dict()
    out |= _query(_SOCIAL_VALUE, [ids, start, end]).iloc[0].to_dict()
    out |= _query(_SAVINGS, [config.settings().savings_kpi_code, ids, start, end]).iloc[0].to_dict()
    return {k: (None if pd.isna(v) else v) for k, v in out.items()}


def expiring_contracts(scope: Scope, months: int = 6, today: dt.date | None = None) -> dict:
    """Contracts (own or STAR ones covering a council in scope) whose end date falls in the next N months."""
    today = today or dt.date.today()
    row = _query(
        """
        select count(*) as count_contracts, coalesce(sum(value_gbp), 0) as value_gbp
        from mart_contracts
        where len(list_intersect(covered_council_ids, ?::varchar[])) > 0
          and end_date between ? and ?
        """,
        [scope.council_ids, today, add_months(today, months)],
    ).iloc[0]
    return {"count_contracts": int(row["count_contracts"]), "value_gbp": float(row["value_gbp"])}


def spend_by_council_month(scope: Scope) -> pd.DataFrame:
    """Spend per council per month in the period (addressable only when the filter says so)."""
    return _query(
        """
        select c.short_name as council, m.month, sum(m.spend_gbp) as spend_gbp
        from mart_spend_by_council_month m
        join dim_councils c using (council_id)
        where m.council_id in (select unnest(?::varchar[]))
          and m.month between ? and ?
          and (m.is_addressable or not ?)
        group by c.short_name, c.sort_order, m.month
        order by m.month, c.sort_order
        """,
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to, scope.filters.addressable_only],
    )


def social_value_target(financial_year_label: str) -> float:
    return config.settings().social_value_target(financial_year_label)


def period_fy(scope: Scope) -> str:
    from starviz.scope import financial_year

    return financial_year(scope.filters.date_to)


__all__ = ["DatabaseUnavailable", "Scope", "fy_bounds"]


# --- spend cube and benchmarking (spend and benchmarking pages) ------------------------------------
# The pages aggregate two tables built for them: mart_spend_cube (one row per council, month,
# category, department, supplier and flags) and its roll-up over suppliers, mart_spend_cube_rollup.
# Only the drill-down reads invoice lines. Each dimension's SQL is fixed here, picked from a
# whitelist by name; user choices and clicked values only ever travel as parameters.

from starviz import cube  # noqa: E402  (kept with the section that uses it)


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
_CONTRACT_KEY = "case when is_on_contract then 'on' else 'off' end"
_DIMS: dict[str, _Dim] = {
    "council": _Dim("council_id", "council_id",
                    name="(select d.short_name from dim_councils d where d.council_id = {k})",
                    rank="(select d.sort_order from dim_councils d where d.council_id = {k})", by_supplier=True),
    "category": _Dim("category", "category", by_supplier=True),
    "category_l2": _Dim(_L2_KEY, _L2_KEY, grain=1),
    "supplier": _Dim("coalesce(supplier_id, '')", "coalesce(supplier_id, '')",
                     name="(select d.supplier_name from dim_suppliers d where d.supplier_id = {k})", grain=2,
                     by_supplier=True),
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


def _where(scope: Scope, criteria: tuple[cube.Criterion, ...] = (), *, lines: bool = False,
           addressable: bool = True, period: bool = True) -> tuple[str, list]:
    """Row filter for the cube (or, with ``lines``, for fct_spend): the user's councils, the period,
    addressable spend when the filter says so, and every criterion as a parameter."""
    sql = ["list_contains(?::varchar[], council_id)"]
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


def _cube_table(*dimensions: str, distinct: bool = False) -> str:
    """The smallest of the cubes that answers: the summary (council, month, category, flags), the
    roll-up (adds departments and level-2 categories) or the cube itself (adds suppliers, needed to
    cut by supplier or to count suppliers). Counting suppliers by council, time and category only
    reads the supplier mart, which holds identified suppliers alone (all a count needs)."""
    dims = [d for d in dimensions if d in _DIMS]
    if distinct and all(_DIMS[d].by_supplier for d in dims):
        return "mart_spend_by_supplier_month"
    grain = max([2 if distinct else 0, *(_DIMS[d].grain for d in dims)])
    return _CUBES[grain]


_reference_cache: dict[tuple, object] = {}


def _reference(name: str, fetch):
    """A small lookup (councils' names and order) kept until the database file is replaced."""
    path = str(config.settings().db_path)
    stat = os.stat(path)
    key = (path, stat.st_ino, stat.st_mtime_ns, name)
    if key not in _reference_cache:
        if len(_reference_cache) > 32:  # old databases' entries
            _reference_cache.clear()
        _reference_cache[key] = fetch()
    return _reference_cache[key]


def _lookup(template: str | None, column: str) -> str:
    return "null" if template is None else template.format(k=column)


def _names(dimension: str, keys) -> tuple[dict, dict]:
    """Display names and configured positions of some keys of a dimension (councils, suppliers)."""
    spec = _DIMS[dimension]
    keys = [k for k in keys if k]
    if spec.name is None or not keys:
        return {}, {}
    if dimension == "council":
        table = _reference("councils", lambda: _query("select council_id, short_name, sort_order from dim_councils"))
        return ({("council", k): n for k, n in zip(table["council_id"], table["short_name"], strict=True)},
                {("council", k): int(r) for k, r in zip(table["council_id"], table["sort_order"], strict=True)})
    frame = _query(f"select k, {spec.name.format(k='k')} as name, {_lookup(spec.rank, 'k')} as rank "
                   "from (select unnest(?::varchar[]) as k)", [keys])
    names = {(dimension, k): n for k, n in zip(frame["k"], frame["name"], strict=True) if isinstance(n, str)}
    ranks = {(dimension, k): int(r) for k, r in zip(frame["k"], frame["rank"], strict=True) if not pd.isna(r)}
    return names, ranks


def spend_pivot(scope: Scope, view: cube.View, max_rows: int | None = None,
                max_columns: int | None = None) -> cube.Pivot:
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
    table = _cube_table(*dims, distinct=distinct)
    where, params = _where(scope, criteria)
    rdim = _DIMS[view.rows]
    cdim = _DIMS[view.columns] if has_cols else None
    if not distinct:
        with _connection().cursor() as cursor:
            sums = cursor.execute(
                f"""
                select {rdim.cube} as r, {cdim.cube if cdim else "''"} as c,
                       sum(spend_gbp)::double as spend_gbp, sum(count_lines)::double as count_lines
                from {table}
                where {where}
                group by all
                """,
                params,
            ).fetchall()
        totals = cube.totals_from_sums(view, sums, max_rows, max_columns)
    else:
        row_limit = max_rows if cube.DIMENSIONS[view.rows].order == "measure" else 1_000_000
        col_limit = max_columns if has_cols and cube.DIMENSIONS[view.columns].order == "measure" else 1_000_000
        # First every cell and total counted directly; only when an axis has more values than it shows
        # are the rest bucketed into "Other" and counted again.
        sets, grouping, c_out = (("(r, c), (r), (c), ()", "grouping(r) as is_row_total, grouping(c) as is_col_total", "c")
                                 if has_cols else
                                 ("(r), ()", "grouping(r) as is_row_total, 1 as is_col_total", "null::varchar as c"))
        many = {"supplier", "category_l2"} & {view.rows, view.columns}  # these nearly always need an Other
        long = None if many else _query(
            f"""
            with
            cells as materialized (
                select {rdim.cube} as r, {cdim.cube if cdim else "''"} as c, supplier_id
                from {table}
                where {where} and supplier_id is not null
                group by all
            )
            select {grouping}, r, {c_out}, count(distinct supplier_id) as count_suppliers,
                   (select count(distinct r) from cells) as count_row_keys,
                   (select count(distinct c) from cells) as count_col_keys
            from cells
            group by grouping sets ({sets})
            """,
            params,
        )
        fits = long is not None and (long.empty or (int(long["count_row_keys"].iloc[0]) <= row_limit
                                                     and int(long["count_col_keys"].iloc[0]) <= col_limit))
        # cells holds each (row, column, supplier) once, so a count of rows is a count of suppliers
        long = long if fits else _query(
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
        totals = cube.totals_from_counts(view, long)
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
    row = _query(
        f"""
        select coalesce(sum(spend_gbp), 0) as spend_gbp, coalesce(sum(count_lines), 0) as count_lines,
               count(distinct supplier_id) as count_suppliers,
               sum(spend_gbp) / nullif(sum(count_lines), 0) as avg_line_gbp
        from mart_spend_cube
        where {where}
        """,
        params,
    ).iloc[0].to_dict()
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


def spend_by_category_supplier(scope: Scope, criteria: tuple[cube.Criterion, ...] = (),
                               categories: int | None = None, suppliers: int | None = None) -> pd.DataFrame:
    """Spend by category and supplier for the treemap: the largest categories, and within each the
    largest suppliers; ``category`` None is the other categories together, ``supplier_key`` None a
    category's other suppliers ('' is a redacted or unnamed payee)."""
    s = config.settings()
    where, params = _where(scope, criteria)
    one = any(c.dimension == "category" and c.value is not None for c in criteria)
    if not one and suppliers is None:  # before a category is chosen the treemap draws categories only
        return _query(
            f"""
            with
            spend as (
                select category, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines
                from {_cube_table(*(c.dimension for c in criteria))}
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
    return _query(
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
    measures = ("count(distinct m.supplier_id) as count_suppliers" if distinct else
                "sum(m.spend_gbp) as spend_gbp, sum(m.count_lines) as count_lines, "
                "sum(m.spend_gbp) / nullif(sum(m.count_lines), 0) as avg_line_gbp")
    return _query(
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
    table = _cube_table(*(c.dimension for c in criteria))
    where, params = _where(scope, criteria, addressable=False)
    return _query(
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
    row = _query(
        f"""
        select count(*) as count_lines, coalesce(sum(amount_gbp), 0) as spend_gbp,
               count(*) filter (where is_redacted) as count_redacted,
               coalesce(sum(amount_gbp) filter (where is_redacted), 0) as redacted_gbp
        from fct_spend
        where {where}
        """,
        params,
    ).iloc[0].to_dict()
    out = {k: (int(v) if k.startswith("count") else float(v)) for k, v in row.items()}
    if not scope.user.can("line_detail"):
        out["count_shown"] = 0
    elif scope.user.can("redacted_detail"):
        out["count_shown"] = out["count_lines"]
    else:
        out["count_shown"] = out["count_lines"] - out["count_redacted"]
    return out


_LINE_COLUMNS = ["payment_date", "council", "supplier", "amount_gbp", "category", "category_l2", "department",
                 "purpose", "contract_id", "exclusion_reason", "source_file", "source_row"]


def drill_lines(scope: Scope, criteria: tuple[cube.Criterion, ...], sort: str = "payment_date",
                descending: bool = False, page: int = 0, page_size: int | None = None) -> pd.DataFrame:
    """One page of the invoice lines behind a cell, each with its source file and row. Users without
    line-level access get no rows; redacted payments only to users allowed to see them."""
    if not scope.user.can("line_detail"):
        return pd.DataFrame(columns=_LINE_COLUMNS)
    if sort not in _LINE_ORDER:
        raise ValueError(f"sort must be one of {', '.join(_LINE_ORDER)}")
    size = page_size or config.settings().drilldown_page_size
    order = ", ".join(f"{part} {'desc' if descending else 'asc'}" for part in _LINE_ORDER[sort].split(", "))
    where, params = _where(scope, criteria, lines=True)
    return _query(
        f"""
        select l.payment_date, c.short_name as council,
               case when l.is_redacted then 'Redacted (' || coalesce(l.redaction_kind, 'personal') || ')'
                    else l.supplier_name end as supplier,
               l.amount_gbp, l.category, l.category_l2, l.department, l.purpose, l.contract_id,
               l.exclusion_reason, l.source_file, l.source_row
        from fct_spend l
        join dim_councils c using (council_id)
        where {where} and (not l.is_redacted or ?)
        order by {order}, l.line_id
        limit ? offset ?
        """,
        [*params, scope.user.can("redacted_detail"), size, max(0, int(page)) * size],
    )


def drill_by_supplier(scope: Scope, criteria: tuple[cube.Criterion, ...], limit: int = 50) -> pd.DataFrame:
    """The lines behind a cell as totals per supplier (redacted payments one row): what a user without
    line-level access sees instead of the lines."""
    where, params = _where(scope, criteria)
    return _query(
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


def pick_names(picks: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], str]:
    """Display names of the council and supplier keys among ``picks`` ((dimension, key) pairs)."""
    out: dict[tuple[str, str], str] = {}
    for dimension, table, column, name in (("council", "dim_councils", "council_id", "short_name"),
                                           ("supplier", "dim_suppliers", "supplier_id", "supplier_name")):
        keys = [k for d, k in picks if d == dimension and k]
        if keys:
            found = _query(f"select {column}, {name} from {table} where {column} in (select unnest(?::varchar[]))", [keys])
            out |= {(dimension, k): v for k, v in found.itertuples(index=False)}
    return out


# --- supplier profile ------------------------------------------------------------------------------


def supplier_search(scope: Scope, text: str = "", limit: int = 50) -> pd.DataFrame:
    """Suppliers paid by the user's councils whose name, as any of those councils spells it, contains
    ``text`` (case-insensitive, literally: no wildcards), largest spend first."""
    return _query(
        """
        with
        names as (
            select supplier_id, supplier_name, spend_gbp
            from mart_spend_by_supplier_name
            where list_contains(?::varchar[], council_id)
        ),
        found as (
            select supplier_id, sum(spend_gbp) as spend_gbp,
                   bool_or(contains(lower(supplier_name), lower(?))) as is_match
            from names
            group by supplier_id
        )
        select found.supplier_id, d.supplier_name, found.spend_gbp
        from found
        join dim_suppliers d using (supplier_id)
        where found.is_match or contains(lower(d.supplier_name), lower(?))
        order by found.spend_gbp desc, d.supplier_name
        limit ?
        """,
        [scope.council_ids, text.strip(), text.strip(), limit],
    )


def top_supplier(scope: Scope, criteria: tuple[cube.Criterion, ...] = ()) -> str | None:
    """The identified supplier with the most spend in the selection (the profile's starting point)."""
    where, params = _where(scope, criteria)
    return _scalar(
        f"""
        select max_by(supplier_id, spend_gbp) from (
            select supplier_id, sum(spend_gbp) as spend_gbp from mart_spend_cube
            where {where} and supplier_id is not null
            group by supplier_id
        )
        """,
        params,
    )


def supplier_profile(scope: Scope, supplier_id: str) -> dict | None:
    """One supplier as the user's councils know it: name, identifiers, local/SME/VCSE flags (None is
    unknown), spend and lines to date, councils paying it, any exclusion from addressable spend.
    None when no council in scope has paid it or holds a contract with it."""
    row = _query(
        """
        with
        paid as (
            select
                sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
                count(distinct council_id) filter (where count_lines > 0) as count_councils,
                min(first_month) as first_month, max(last_month) as last_month,
                count(distinct supplier_name) as count_name_variants
            from mart_spend_by_supplier_name
            where supplier_id = ? and list_contains(?::varchar[], council_id)
        ),
        contracts as (
            select count(distinct contract_id) as count_contracts,
                   count(distinct contract_id) filter (where status in ('live', 'in extension window'))
                       as count_live_contracts
            from mart_contracts_by_supplier_council
            where supplier_id = ? and list_contains(?::varchar[], council_id)
        )
        select d.supplier_id, d.supplier_name, d.company_number, d.charity_number, d.vat_number,
               d.postcode_district, d.is_local, d.is_sme, d.is_vcse,
               paid.*, contracts.count_contracts, contracts.count_live_contracts
        from dim_suppliers d, paid, contracts
        where d.supplier_id = ? and (paid.count_lines > 0 or contracts.count_contracts > 0)
        """,
        [supplier_id, scope.council_ids, supplier_id, scope.council_ids, supplier_id],
    )
    if row.empty:
        return None
    out = {k: (None if not isinstance(v, list) and pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    out["exclusion_reasons"] = _query(
        """
        select distinct exclusion_reason from mart_spend_by_supplier_month
        where supplier_id = ? and list_contains(?::varchar[], council_id) and exclusion_reason is not null
        order by 1
        """,
        [supplier_id, scope.council_ids],
    )["exclusion_reason"].tolist()
    return out


def supplier_name_variants(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """Each spelling of the supplier's name that was merged into it, by the council that uses it."""
    return _query(
        """
        select c.short_name as council, n.supplier_name as name_as_published, n.count_lines, n.spend_gbp
        from mart_spend_by_supplier_name n
        join dim_councils c using (council_id)
        where n.supplier_id = ? and list_contains(?::varchar[], n.council_id)
        order by c.sort_order, n.spend_gbp desc, n.supplier_name
        """,
        [supplier_id, scope.council_ids],
    )


def supplier_spend_by_council_month(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """The supplier's spend per council per month, every month loaded (the period filter aside)."""
    return _query(
        """
        select c.short_name as council, m.month, sum(m.spend_gbp) as spend_gbp
        from mart_spend_by_supplier_month m
        join dim_councils c using (council_id)
        where m.supplier_id = ? and list_contains(?::varchar[], m.council_id)
        group by c.short_name, c.sort_order, m.month
        order by m.month, c.sort_order
        """,
        [supplier_id, scope.council_ids],
    )


def supplier_categories(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """What the supplier is paid for: spend and lines per category (level 1), every month loaded."""
    return _query(
        """
        select category, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
               count(distinct council_id) as count_councils
        from mart_spend_by_supplier_month
        where supplier_id = ? and list_contains(?::varchar[], council_id)
        group by category
        order by spend_gbp desc
        """,
        [supplier_id, scope.council_ids],
    )


def supplier_contracts(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """Contracts the supplier holds with each council in scope (STAR collaborative contracts under
    every council they cover), with what that council has paid under each to date."""
    return _query(
        """
        select c.short_name as council, m.contract_ref, m.contract_title, m.category,
               case when m.is_collaborative then 'STAR collaborative' else 'Council' end as let_by,
               m.status, m.start_date, m.end_date, m.max_end_date, m.value_gbp, m.spend_gbp
        from mart_contracts_by_supplier_council m
        join dim_councils c using (council_id)
        where m.supplier_id = ? and list_contains(?::varchar[], m.council_id)
        order by c.sort_order, m.end_date desc, m.contract_ref
        """,
        [supplier_id, scope.council_ids],
    )


# --- benchmarking ----------------------------------------------------------------------------------


def benchmark_definitions() -> pd.DataFrame:
    """The benchmarking measures in order: label, unit, which direction is better, any threshold."""
    return _query("select * from dim_benchmark_measures order by sort_order")


def benchmark_by_council(scope: Scope, top_suppliers: int | None = None) -> pd.DataFrame:
    """One row per council in scope: spend and spend per resident (population from the council's
    configuration), on-contract, local, SME and VCSE shares (with the share where the flag is known),
    supplier concentration (top-N share and HHI of supplier-identified spend), number of suppliers,
    average line value and the share of payment lines under the small-line threshold."""
    where, params = _where(scope)
    top = top_suppliers or config.settings().benchmark_top_suppliers
    return _query(
        f"""
        with
        cube as (
            select * from mart_spend_cube_summary where {where}
        ),
        totals as (
            select
                council_id,
                sum(spend_gbp) as spend_gbp,
                sum(count_lines) as count_lines,
                coalesce(sum(spend_gbp) filter (where is_on_contract), 0) / nullif(sum(spend_gbp), 0) as on_contract_share,
                coalesce(sum(spend_gbp) filter (where is_local), 0) / nullif(sum(spend_gbp), 0) as local_share,
                coalesce(sum(spend_gbp) filter (where is_local is not null), 0) / nullif(sum(spend_gbp), 0) as local_known_share,
                coalesce(sum(spend_gbp) filter (where is_sme), 0) / nullif(sum(spend_gbp), 0) as sme_share,
                coalesce(sum(spend_gbp) filter (where is_sme is not null), 0) / nullif(sum(spend_gbp), 0) as sme_known_share,
                coalesce(sum(spend_gbp) filter (where is_vcse), 0) / nullif(sum(spend_gbp), 0) as vcse_share,
                coalesce(sum(spend_gbp) filter (where is_vcse is not null), 0) / nullif(sum(spend_gbp), 0) as vcse_known_share,
                sum(count_small_lines) / nullif(sum(count_lines) - sum(count_credits), 0) as small_line_share
            from cube
            group by council_id
        ),
        suppliers as (
            select council_id, supplier_id, greatest(sum(spend_gbp), 0) as spend_gbp
            from mart_spend_by_supplier_month
            where {where}
            group by council_id, supplier_id
        ),
        ranked as (
            select *,
                   row_number() over (partition by council_id order by spend_gbp desc, supplier_id) as position,
                   sum(spend_gbp) over (partition by council_id) as identified_gbp
            from suppliers
        ),
        concentration as (
            select
                council_id,
                count(*) as count_suppliers,
                coalesce(sum(spend_gbp) filter (where position <= ?), 0) / nullif(max(identified_gbp), 0) as top10_share,
                sum(power(spend_gbp / nullif(identified_gbp, 0), 2)) * 10000 as hhi
            from ranked
            group by council_id
        )
        select
            c.council_id, c.short_name as council, c.population,
            totals.* exclude (council_id),
            totals.spend_gbp / c.population as spend_per_head_gbp,
            totals.spend_gbp / nullif(totals.count_lines, 0) as avg_line_gbp,
            coalesce(concentration.count_suppliers, 0) as count_suppliers,
            concentration.top10_share,
            concentration.hhi
        from dim_councils c
        join totals using (council_id)
        left join concentration using (council_id)
        order by c.sort_order
        """,
        [*params, *params, top],
    )


def category_mix_by_council(scope: Scope, categories: int | None = None) -> pd.DataFrame:
    """Each council's spend by category as shares of its own spend: the largest categories across the
    councils in scope, the rest as "Other categories"."""
    where, params = _where(scope)
    return _query(
        f"""
        with
        spend as (
            select council_id, category, sum(spend_gbp) as spend_gbp
            from mart_spend_cube_summary
            where {where}
            group by all
        ),
        top as (
            select category from spend group by category order by sum(spend_gbp) desc, category limit ?
        ),
        mix as (
            select council_id,
                   case when category in (select category from top) then category else 'Other categories' end
                       as category,
                   sum(spend_gbp) as spend_gbp
            from spend
            group by all
        )
        select c.short_name as council, mix.category, mix.spend_gbp,
               mix.spend_gbp / nullif(sum(mix.spend_gbp) over (partition by mix.council_id), 0) as spend_share
        from mix
        join dim_councils c using (council_id)
        order by c.sort_order, mix.category = 'Other categories', mix.spend_gbp desc
        """,
        [*params, categories or config.settings().benchmark_categories],
    )


def coverage_by_council(scope: Scope) -> pd.DataFrame:
    """Each council's data coverage for the period: months of spend loaded (of the months the period
    holds data for), the share of spend with a category, and the share paid to an identified supplier
    (not redacted, not blank)."""
    (start, end), _ = comparison_windows(scope)
    where, params = _where(scope, addressable=False)
    frame = _query(
        f"""
        with
        coverage as (
            select council_id, count(distinct month) as months_loaded, min(month) as first_month,
                   max(month) as last_month,
                   coalesce(sum(spend_gbp) filter (where is_categorised and (is_addressable or not ?)), 0)
                       / nullif(sum(spend_gbp) filter (where is_addressable or not ?), 0) as categorised_share,
                   coalesce(sum(spend_gbp) filter (where is_matched and (is_addressable or not ?)), 0)
                       / nullif(sum(spend_gbp) filter (where is_addressable or not ?), 0) as matched_share
            from mart_spend_cube_summary
            where {where}
            group by council_id
        )
        select c.short_name as council, coalesce(coverage.months_loaded, 0) as months_loaded,
               coverage.first_month, coverage.last_month, coverage.categorised_share, coverage.matched_share
        from dim_councils c
        left join coverage using (council_id)
        where list_contains(?::varchar[], c.council_id)
        order by c.sort_order
        """,
        [*[scope.filters.addressable_only] * 4, *params, scope.council_ids],
    )
    frame.insert(2, "months_in_period", months_between(month_start(start), month_start(end)))
    return frame
