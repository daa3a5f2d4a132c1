"""The app's only path to DuckDB: one function per question, parameters only.

Every function that returns council data takes a ``Scope`` and restricts rows to the councils
the *user* may see, whatever the filters or the URL ask for: row-level security lives here.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from starviz import config, rules
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


def _open() -> tuple[tuple, duckdb.DuckDBPyConnection]:
    """One read-only connection per process, reopened when a rebuild swaps a new file in; with the
    file's identity (path, inode, modification time).

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
            return (path, *stamp), held[1]
        if held:
            held[1].close()
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.Error as exc:
            _current.pop(path, None)
            raise DatabaseUnavailable(f"The database {path} cannot be opened: {exc}") from exc
        _current[path] = (stamp, con)
        return (path, *stamp), con


# Answers already given for the file being served. Streamlit reruns a page's script on every click,
# and several people often look at the same view (the Board's shared link), so the same SQL with the
# same parameters comes back again and again. An answer is only valid for one database file: a new
# file empties the cache. Parameters carry everything else an answer depends on (the user's councils,
# the period, "today").
_answers: OrderedDict[tuple, tuple[object, int]] = OrderedDict()  # key -> (answer, its rows)
_answers_rows = [0]  # rows held, all answers together
_answers_file: list[tuple] = []
_answers_lock = threading.Lock()
_answers_on = [True]


def _frozen(value):
    """A hashable, exact stand-in for a parameter (lists and arrays as tuples, never abbreviated)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _frozen(value.tolist())
    hash(value)
    return type(value).__name__, value


def _answer(kind: str, sql: str, params: list | None, run):
    """``run(cursor)``'s answer to this SQL and these parameters, from the cache when it was asked
    before of the same file. The caller gets its own copy to change as it likes."""
    settings = config.settings()
    file, con = _open()
    try:
        key = (kind, sql, _frozen(params or []))
    except TypeError:  # a parameter that cannot be a key: ask DuckDB
        key = None
    if settings.query_cache_entries <= 0 or not _answers_on[0] or key is None:
        with con.cursor() as cursor:  # connections are not thread-safe; cursors are cheap
            return run(cursor)
    with _answers_lock:
        if _answers_file != [file]:
            _forget_answers()
            _answers_file[:] = [file]
        held = _answers.get(key)
        if held is not None:
            _answers.move_to_end(key)
    if held is not None:
        answer = held[0]
    else:
        with con.cursor() as cursor:
            answer = run(cursor)
        rows = len(answer) if isinstance(answer, (pd.DataFrame, list)) else 1
        if rows <= settings.query_cache_max_rows:
            with _answers_lock:
                if _answers_file == [file] and key not in _answers:
                    _answers[key] = (answer, rows)
                    _answers_rows[0] += rows
                    while _answers and (
                        len(_answers) > settings.query_cache_entries or _answers_rows[0] > settings.query_cache_total_rows
                    ):
                        _answers_rows[0] -= _answers.popitem(last=False)[1][1]
    return answer.copy() if isinstance(answer, pd.DataFrame) else copy.deepcopy(answer)


def _forget_answers() -> None:
    _answers.clear()
    _answers_rows[0] = 0


def cache_answers(on: bool) -> None:
    """Turn the answer cache on or off for this process (the bench times DuckDB itself, not the
    cache); turning it off forgets every answer."""
    with _answers_lock:
        _answers_on[0] = on
        _forget_answers()


# DuckDB's parse of each SQL text the app has run. Parsing costs about as much as running a small
# query of the cube (a third of a spend pivot's time at 1M lines), and the app asks the same texts
# again and again with other parameters. A parsed statement is plain syntax, valid on any cursor of
# any file; DuckDB copies it for each execution, so threads can share it.
_statements: OrderedDict[str, duckdb.Statement] = OrderedDict()
_statements_lock = threading.Lock()
STATEMENTS_KEPT = 1024


def _execute(cursor: duckdb.DuckDBPyConnection, sql: str, params: list | None) -> duckdb.DuckDBPyConnection:
    with _statements_lock:
        statement = _statements.get(sql)
        if statement is not None:
            _statements.move_to_end(sql)  # the least recently asked go first
    if statement is None:
        parsed = cursor.extract_statements(sql)
        if len(parsed) != 1:  # not one statement: let DuckDB say what is wrong
            return cursor.execute(sql, params or [])
        statement = parsed[0]
        with _statements_lock:
            _statements[sql] = statement
            while len(_statements) > STATEMENTS_KEPT:
                _statements.popitem(last=False)
    return cursor.execute(statement, params or [])


def _query(sql: str, params: list | None = None) -> pd.DataFrame:
    return _answer("frame", sql, params, lambda cursor: _execute(cursor, sql, params).df())


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    return _answer("rows", sql, params, lambda cursor: _execute(cursor, sql, params).fetchall())


def _scalar(sql: str, params: list | None = None):
    return _answer("scalar", sql, params, lambda cursor: _execute(cursor, sql, params).fetchone()[0])


def db_path() -> Path:
    return config.settings().db_path


# --- reference -----------------------------------------------------------------------------------


def councils() -> pd.DataFrame:
    """Partner councils (not STAR itself), in configuration order."""
    return _query(
        "select council_id, name, short_name, colour, population, gss_code, joined_date "
        "from dim_councils where is_council order by sort_order"
    )


def council_names() -> dict[str, str]:
    """Partner councils' short names by id, in configuration order."""
    table = councils()
    return dict(zip(table["council_id"], table["short_name"], strict=True))


def colours() -> dict[str, str]:
    return dict(_query("select short_name, colour from dim_councils").itertuples(index=False))


def months_loaded() -> list[dt.date]:
    frame = _query("select distinct month from mart_spend_by_council_month order by month")
    return [m.date() if hasattr(m, "date") else m for m in frame["month"]]


def build_info() -> dict:
    try:
        row = _query("select * from build_info").iloc[0].to_dict()
    except duckdb.CatalogException as exc:
        raise DatabaseUnavailable(f"{config.settings().db_path} is not a complete starviz database: {exc}") from exc
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
    last = _scalar("select max(month) from mart_spend_by_council_month")
    return None if last is None else month_end(last)


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


def overview_measures(scope: Scope, window: tuple[dt.date, dt.date] | None = None) -> dict:
    """The overview's headline measures for one window of the scope (default: its period, cut to the data)."""
    ids, (start, end) = scope.council_ids, window or comparison_windows(scope)[0]
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


# --- social value (issue 6) ----------------------------------------------------------------------
# A contract's social value counts for the councils it covers (its own council, or every council a
# STAR collaborative contract names). Committed and delivered are separate series. Percentages are
# of the value of contracts carrying social value measures; coverage says how many contracts do.

_IN_COVER = "len(list_intersect(covered_council_ids, ?::varchar[])) > 0"


def _sv_targets() -> tuple[str, list]:
    """A CTE of the configured social value target per financial year (plus the default), as parameters."""
    s = config.settings()
    years = list(s.social_value_target_by_year)
    sql = """
        sv_targets as (
            select unnest(?::varchar[]) as financial_year, unnest(?::double[]) as target_share
        ),
        sv_default as (select ?::double as target_share)
    """
    return sql, [years, [s.social_value_target_by_year[y] for y in years], s.social_value_target_share]


def _sv_target_of(column: str) -> str:
    """SQL for the target share of the financial year in ``column``, qualified with its table (needs the
    _sv_targets CTE; an unqualified name would resolve inside the lookup itself)."""
    return (
        f"coalesce((select target_share from sv_targets t where t.financial_year = {column}), "
        "(select target_share from sv_default))"
    )


def social_value_rules() -> dict:
    """The configured rules the social value page explains: expected curve, at-risk share, grace, coverage."""
    s = config.settings()
    return {
        "curve_exponent": s.social_value_curve_exponent,
        "at_risk_share": s.social_value_at_risk_share,
        "grace_months": s.social_value_grace_months,
        "coverage_threshold_gbp": s.social_value_coverage_threshold_gbp,
    }


def social_value_summary(scope: Scope) -> dict:
    """The page's headline figures for contracts starting in the period (committed, delivered to date,
    target weighted by each financial year's target), social value delivered in the period and its
    local share, and coverage of contracts over the configured threshold."""
    s = config.settings()
    ids, start, end = scope.council_ids, scope.filters.date_from, scope.filters.date_to
    targets, target_params = _sv_targets()
    out = (
        _query(
            f"""
        with {targets},
        cohort as (
            select * from mart_social_value_by_contract where {_IN_COVER} and start_date between ? and ?
        )
        select
            count(*) as count_contracts,
            coalesce(sum(value_gbp), 0) as value_gbp,
            coalesce(sum(committed_gbp), 0) as committed_gbp,
            coalesce(sum(delivered_gbp), 0) as delivered_to_date_gbp,
            sum(committed_gbp) / nullif(sum(value_gbp), 0) as committed_share,
            sum(delivered_gbp) / nullif(sum(value_gbp), 0) as delivered_share,
            sum(delivered_gbp) / nullif(sum(committed_gbp), 0) as delivered_of_committed_share,
            sum(value_gbp * {_sv_target_of("cohort.financial_year")}) / nullif(sum(value_gbp), 0) as target_share
        from cohort
        """,
            [*target_params, ids, start, end],
        )
        .iloc[0]
        .to_dict()
    )
    out |= (
        _query(
            f"""
        select
            coalesce(sum(delivered_gbp), 0) as delivered_in_period_gbp,
            sum(delivered_local_gbp) / nullif(sum(delivered_gbp), 0) as delivered_local_share
        from mart_social_value_by_month
        where {_IN_COVER} and month between date_trunc('month', ?::date) and ?
        """,
            [ids, start, end],
        )
        .iloc[0]
        .to_dict()
    )
    out |= (
        _query(
            f"""
        select
            count(*) as count_over_threshold,
            count(*) filter (where has_measures) as count_with_measures,
            count(*) filter (where has_measures) / nullif(count(*), 0) as coverage_share,
            avg(sv_weighting_share) as avg_weighting_share
        from mart_social_value_coverage_by_contract
        where {_IN_COVER} and start_date between ? and ? and value_gbp > ?
        """,
            [ids, start, end, s.social_value_coverage_threshold_gbp],
        )
        .iloc[0]
        .to_dict()
    )
    sql, params = _sv_delivery_sql(scope)
    out |= (
        _query(
            f"""
        select
            count(*) as count_in_delivery,
            count(*) filter (where is_at_risk) as count_at_risk,
            coalesce(sum(committed_gbp) filter (where is_at_risk), 0) as committed_at_risk_gbp,
            coalesce(sum(shortfall_gbp) filter (where is_at_risk), 0) as shortfall_at_risk_gbp
        from ({sql})
        """,
            params,
        )
        .iloc[0]
        .to_dict()
    )
    if out["target_share"] is None or pd.isna(out["target_share"]):  # no contracts: the target of the period's end
        out["target_share"] = (
            social_value_target(period_fy(scope)) if scope.filters.period != "all" else (s.social_value_target_share)
        )
    out["coverage_threshold_gbp"] = s.social_value_coverage_threshold_gbp
    return {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in out.items()}


# dimension -> (SQL label, SQL sort key); a fixed list, never user text
_SV_DIMENSIONS: dict[str, tuple[str, str]] = {
    "council": ("councils.short_name", "bool_or(not councils.is_council), min(councils.sort_order)"),
    "category": ("cohort.category", "-sum(cohort.committed_gbp)"),
    "supplier": ("coalesce(suppliers.supplier_name, cohort.supplier_name)", "-sum(cohort.committed_gbp)"),
    "contract": ("cohort.contract_ref || ' · ' || cohort.contract_title", "-sum(cohort.committed_gbp)"),
}
SV_BREAKDOWNS = ("council", "theme", "category", "supplier", "contract")


def social_value_breakdown(scope: Scope, by: str) -> pd.DataFrame:
    """Committed and delivered-to-date social value of contracts starting in the period, in £ and as
    a share of contract value, by council (STAR's collaborative contracts as their own row), TOMs
    theme, category, supplier or contract, with each row's target (by financial year)."""
    if by not in SV_BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; one of {', '.join(SV_BREAKDOWNS)}")
    targets, target_params = _sv_targets()
    params = [*target_params, scope.council_ids, scope.filters.date_from, scope.filters.date_to]
    cohort = f"""
        with {targets},
        cohort as (
            select * from mart_social_value_by_contract where {_IN_COVER} and start_date between ? and ?
        )
    """
    if by == "theme":
        # a theme's share is of the value of every contract in the cohort: the themes add up to the total
        return _query(
            cohort
            + f"""
            , themes as (
                select * from mart_social_value_by_contract_theme
                where contract_id in (select contract_id from cohort)
            ),
            total as (
                select sum(value_gbp) as value_gbp, sum(value_gbp * {_sv_target_of("cohort.financial_year")})
                    / nullif(sum(value_gbp), 0)
                    as target_share
                from cohort
            )
            select
                themes.theme as name,
                count(distinct themes.contract_id) as count_contracts,
                any_value(total.value_gbp) as value_gbp,
                sum(themes.committed_gbp) as committed_gbp,
                sum(themes.committed_gbp) / nullif(any_value(total.value_gbp), 0) as committed_share,
                sum(themes.delivered_gbp) as delivered_gbp,
                sum(themes.delivered_gbp) / nullif(any_value(total.value_gbp), 0) as delivered_share,
                sum(themes.delivered_local_gbp) / nullif(sum(themes.delivered_gbp), 0) as delivered_local_share,
                null::double as target_share
            from themes
            cross join total
            group by themes.theme
            order by sum(themes.committed_gbp) desc
            """,
            params,
        )
    label, order = _SV_DIMENSIONS[by]
    return _query(
        cohort
        + f"""
        select
            {label} as name,
            count(*) as count_contracts,
            sum(cohort.value_gbp) as value_gbp,
            sum(cohort.committed_gbp) as committed_gbp,
            sum(cohort.committed_gbp) / nullif(sum(cohort.value_gbp), 0) as committed_share,
            sum(cohort.delivered_gbp) as delivered_gbp,
            sum(cohort.delivered_gbp) / nullif(sum(cohort.value_gbp), 0) as delivered_share,
            sum(cohort.delivered_local_gbp) / nullif(sum(cohort.delivered_gbp), 0) as delivered_local_share,
            sum(cohort.value_gbp * {_sv_target_of("cohort.financial_year")}) / nullif(sum(cohort.value_gbp), 0)
                as target_share
        from cohort
        join dim_councils as councils using (council_id)
        left join dim_suppliers as suppliers using (supplier_id)
        group by {label}
        order by {order}, 1
        """,
        params,
    )


def social_value_by_quarter(scope: Scope) -> pd.DataFrame:
    """Per financial quarter, the configured number of quarters up to the end of the period (or of
    the data): social value committed on contracts starting that quarter, the target on their value
    (each year's target), and social value delivered that quarter."""
    s = config.settings()
    latest = _scalar(f"select max(month) from mart_social_value_by_month where {_IN_COVER}", [scope.council_ids])
    if latest is None:
        return pd.DataFrame(
            columns=["quarter", "label", "committed_gbp", "awarded_value_gbp", "delivered_gbp", "target_share", "target_gbp"]
        )
    end = min(scope.filters.date_to, month_end(latest))
    first = add_months(month_start(end), -((end.month - 1) % 3) - 3 * (s.social_value_trend_quarters - 1))
    targets, target_params = _sv_targets()
    return _query(
        f"""
        with {targets},
        months as (
            select * from mart_social_value_by_month where {_IN_COVER} and month between ? and ?
        ),
        quarters as (
            select
                date_trunc('quarter', month)::date as quarter,
                any_value(financial_year) as financial_year,
                sum(committed_gbp) as committed_gbp,
                sum(awarded_value_gbp) as awarded_value_gbp,
                sum(count_contracts_awarded) as count_contracts_awarded,
                sum(delivered_gbp) as delivered_gbp,
                sum(delivered_local_gbp) as delivered_local_gbp
            from months
            group by 1
        ),
        spine as (
            select unnest(generate_series(?::date, date_trunc('quarter', ?::date)::date, interval 3 month))::date
                as quarter
        )
        select
            spine.quarter,
            financial_year(spine.quarter) || ' Q' || ((month(spine.quarter) + 8) % 12 // 3 + 1)::varchar as label,
            coalesce(quarters.committed_gbp, 0) as committed_gbp,
            coalesce(quarters.awarded_value_gbp, 0) as awarded_value_gbp,
            coalesce(quarters.count_contracts_awarded, 0) as count_contracts_awarded,
            coalesce(quarters.delivered_gbp, 0) as delivered_gbp,
            coalesce(quarters.delivered_local_gbp, 0) as delivered_local_gbp,
            {_sv_target_of("financial_year(spine.quarter)")} as target_share,
            coalesce(quarters.awarded_value_gbp, 0) * {_sv_target_of("financial_year(spine.quarter)")} as target_gbp
        from spine
        left join quarters using (quarter)
        order by spine.quarter
        """,
        [*target_params, scope.council_ids, first, end, first, end],
    )


def _sv_delivery_sql(scope: Scope) -> tuple[str, list]:
    """Contracts with social value in delivery during the period, judged against the expected curve:
    delivery by now = committed x (share of the term elapsed at the council's latest return) ^ exponent;
    at risk when delivered is below the configured share of that, once the grace months have passed.
    Spend to date counts only the councils in scope."""
    s = config.settings()
    sql = """
        with contracts as (
            select * from mart_social_value_by_contract
            where len(list_intersect(covered_council_ids, ?::varchar[])) > 0
              and start_date <= ? and end_date >= ?
              and (as_at_date is null or as_at_date >= start_date)
        ),
        spend as (
            select contract_id, sum(spend_to_date_gbp) as spend_to_date_gbp
            from mart_spend_by_contract_council
            where council_id in (select unnest(?::varchar[]))
            group by contract_id
        ),
        judged as (
            select
                contracts.*,
                coalesce(spend.spend_to_date_gbp, 0) as spend_to_date_gbp,
                contracts.committed_gbp * pow(contracts.elapsed_share, ?) as expected_gbp
            from contracts
            left join spend using (contract_id)
        )
        select
            judged.*,
            greatest(expected_gbp - delivered_gbp, 0) as shortfall_gbp,
            coalesce(committed_gbp > 0 and months_since_start >= ? and delivered_gbp < ? * expected_gbp, false)
                as is_at_risk
        from judged
    """
    ids = scope.council_ids
    return sql, [
        ids,
        scope.filters.date_to,
        scope.filters.date_from,
        ids,
        s.social_value_curve_exponent,
        s.social_value_grace_months,
        s.social_value_at_risk_share,
    ]


def social_value_contracts(scope: Scope, at_risk_only: bool = True) -> pd.DataFrame:
    """Per contract in delivery during the period: committed and delivered (£ and % of value),
    delivered as a share of spend to date, expected delivery by now, and whether it is at risk."""
    sql, params = _sv_delivery_sql(scope)
    return _query(
        f"""
        select
            d.contract_ref,
            d.contract_title,
            coalesce(suppliers.supplier_name, d.supplier_name) as supplier,
            councils.short_name as council,
            d.category,
            d.start_date,
            d.end_date,
            d.value_gbp,
            d.committed_gbp,
            d.committed_gbp / nullif(d.value_gbp, 0) as committed_share,
            d.delivered_gbp,
            d.delivered_gbp / nullif(d.value_gbp, 0) as delivered_share,
            d.spend_to_date_gbp,
            d.delivered_gbp / nullif(d.spend_to_date_gbp, 0) as delivered_of_spend_share,
            d.expected_gbp,
            d.delivered_gbp / nullif(d.expected_gbp, 0) as delivered_of_expected_share,
            d.shortfall_gbp,
            d.elapsed_share,
            d.as_at_date,
            d.is_at_risk
        from ({sql}) as d
        join dim_councils as councils using (council_id)
        left join dim_suppliers as suppliers using (supplier_id)
        where d.is_at_risk or not ?
        order by d.is_at_risk desc, d.shortfall_gbp desc, d.contract_ref
        """,
        [*params, at_risk_only],
    )


# --- KPIs and the balanced scorecard (issue 6) ---------------------------------------------------
# A KPI is a series per (code, reporter): the partner councils in scope added together, or STAR's
# own (a shared service's KPIs are STAR-wide and shown to every user). Percentages from the extracts
# are averaged across councils; those computed from the data are recomputed from their totals.

KPI_GROUPINGS = {"perspective": "Balanced scorecard perspective", "objective": "Responsible Procurement objective"}


def _councils_label(scope: Scope) -> str:
    names = dict(scope.filters.names)
    ids = scope.council_ids
    if len(ids) == 1:
        return names.get(ids[0], ids[0])
    return "Partner councils" if scope.filters.all_councils or len(ids) > 3 else ", ".join(names.get(c, c) for c in ids)


_KPI_SERIES = """
    kpis as (
        select kpis.*, councils.short_name
        from mart_kpis_scorecard_by_month as kpis
        join dim_councils as councils using (council_id)
        where (kpis.council_id in (select unnest(?::varchar[])) or kpis.is_shared_service)
          and kpis.month between ? and ?
    ),
    labels as (
        select
            kpi_code,
            is_shared_service,
            arg_max(kpi_name, month) as kpi_name,
            arg_max(perspective, month) as perspective,
            arg_max(perspective_order, month) as perspective_order,
            arg_max(objective, month) as objective,
            arg_max(objective_order, month) as objective_order,
            arg_max(unit, month) as unit,
            arg_max(higher_is_better, month) as higher_is_better,
            arg_max(source, month) as source,
            case when is_shared_service then string_agg(distinct short_name, ', ') else ? end as reported_by,
            any_value(amber_tolerance) as amber_tolerance
        from kpis
        group by kpi_code, is_shared_service
    ),
    monthly as (
        select
            kpis.kpi_code,
            kpis.is_shared_service,
            kpis.month,
            case when any_value(labels.unit) = 'percent'
                 then coalesce(100 * sum(kpis.numerator) / nullif(sum(kpis.denominator), 0), avg(kpis.value))
                 else sum(kpis.value) end as value,
            case when any_value(labels.unit) = 'percent' then avg(kpis.target) else sum(kpis.target) end as target,
            count(distinct kpis.council_id) as count_reporting
        from kpis
        join labels using (kpi_code, is_shared_service)
        group by all
    ),
    series as (
        select
            labels.* exclude (amber_tolerance),
            monthly.month,
            monthly.value,
            monthly.target,
            monthly.count_reporting,
            kpi_rag(monthly.value, monthly.target, labels.higher_is_better, labels.amber_tolerance) as rag
        from monthly
        join labels using (kpi_code, is_shared_service)
    )
"""


def kpi_as_at(scope: Scope) -> dt.date | None:
    """The latest month with KPI data in scope on or before the end of the period."""
    value = _scalar(
        """
        select max(month) from mart_kpis_scorecard_by_month
        where (council_id in (select unnest(?::varchar[])) or is_shared_service) and month <= ?
        """,
        [scope.council_ids, scope.filters.date_to],
    )
    return value.date() if hasattr(value, "date") else value


def kpi_scorecard(scope: Scope, as_at: dt.date) -> pd.DataFrame:
    """One row per KPI at its latest month up to ``as_at``: value, target and RAG; the month before
    (value and RAG), the same month a quarter and a year earlier, and the last 13 months for a sparkline."""
    first = add_months(as_at, -13)
    return _query(
        f"""
        with {_KPI_SERIES},
        latest as (
            select * from series
            qualify row_number() over (partition by kpi_code, is_shared_service order by month desc) = 1
        ),
        trends as (
            select kpi_code, is_shared_service, list(value order by month) as trend
            from series
            where month > ?::date - interval 12 month
            group by all
        )
        select
            latest.*,
            before.value as previous_value,
            before.rag as previous_rag,
            quarter_ago.value as quarter_ago_value,
            year_ago.value as year_ago_value,
            trends.trend
        from latest
        left join series as before
            on before.kpi_code = latest.kpi_code and before.is_shared_service = latest.is_shared_service
            and before.month = latest.month - interval 1 month
        left join series as quarter_ago
            on quarter_ago.kpi_code = latest.kpi_code and quarter_ago.is_shared_service = latest.is_shared_service
            and quarter_ago.month = latest.month - interval 3 month
        left join series as year_ago
            on year_ago.kpi_code = latest.kpi_code and year_ago.is_shared_service = latest.is_shared_service
            and year_ago.month = latest.month - interval 12 month
        left join trends
            on trends.kpi_code = latest.kpi_code and trends.is_shared_service = latest.is_shared_service
        order by latest.perspective_order, latest.perspective, latest.objective_order, latest.is_shared_service,
                 latest.kpi_code
        """,
        [scope.council_ids, first, as_at, _councils_label(scope), as_at],
    )


def kpi_trends(scope: Scope, as_at: dt.date, group_by: str, group: str) -> pd.DataFrame:
    """Monthly value, target and RAG of every KPI in one perspective or objective, over the
    configured number of months to ``as_at``."""
    if group_by not in KPI_GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}; one of {', '.join(KPI_GROUPINGS)}")
    first = add_months(as_at, 1 - config.settings().kpi_trend_months)
    return _query(
        f"""
        with {_KPI_SERIES}
        select * from series
        where {group_by} = ?
        order by perspective_order, objective_order, is_shared_service, kpi_code, month
        """,
        [scope.council_ids, first, as_at, _councils_label(scope), group],
    )


def kpi_groups(group_by: str) -> pd.DataFrame:
    """The configured perspectives or objectives in display order, with their descriptions."""
    if group_by == "perspective":
        return _query(
            "select perspective as name, min(perspective_order) as sort_order from mart_kpis_scorecard_by_month "
            "group by all order by 2, 1"
        )
    if group_by == "objective":
        return _query("select objective as name, sort_order, description from dim_rp_objectives order by sort_order")
    raise ValueError(f"unknown grouping {group_by!r}; one of {', '.join(KPI_GROUPINGS)}")


# --- procurement maturity (issue 6) --------------------------------------------------------------


def maturity_councils(scope: Scope) -> pd.DataFrame:
    """Councils in scope with a readable maturity assessment on or before the end of the period."""
    return _query(
        """
        select distinct councils.council_id, councils.short_name, councils.colour, councils.sort_order
        from mart_maturity_by_council_area as m
        join dim_councils as councils using (council_id)
        where m.council_id in (select unnest(?::varchar[])) and m.assessed_date <= ? and m.problem is null
        order by councils.sort_order
        """,
        [scope.council_ids, scope.filters.date_to],
    )


def maturity_assessments(scope: Scope, council_id: str | None = None, gaps_only: bool = False) -> pd.DataFrame:
    """Per council in scope (or only ``council_id``, if the user may see it) and key area: its latest
    self-assessment on or before the end of the period (current and target level, the gap, the level
    at the assessment before). ``gaps_only``: areas below their target, largest gap first."""
    ids = [c for c in scope.council_ids if council_id is None or c == council_id]
    order = "m.gap_levels desc, councils.sort_order, m.area_order" if gaps_only else "councils.sort_order, m.area_order"
    return _query(
        f"""
        with latest as (
            select council_id, max(assessed_date) as assessed_date
            from mart_maturity_by_council_area
            where council_id in (select unnest(?::varchar[])) and assessed_date <= ? and problem is null
            group by council_id
        )
        select
            councils.short_name as council,
            m.council_id,
            m.area_code,
            m.area,
            m.theme,
            m.kind,
            m.area_order,
            m.assessed_date,
            m.current_level,
            m.current_level_name,
            -- nullable integers as doubles: pandas' <NA> does not survive every export
            m.target_level::double as target_level,
            m.target_level_name,
            m.gap_levels::double as gap_levels,
            m.previous_level::double as previous_level,
            m.previous_assessed_date,
            m.target_date,
            m.notes
        from mart_maturity_by_council_area as m
        join latest using (council_id, assessed_date)
        join dim_councils as councils using (council_id)
        where m.problem is null and (m.gap_levels > 0 or not ?)
        order by {order}
        """,
        [ids, scope.filters.date_to, gaps_only],
    )


def maturity_levels() -> pd.DataFrame:
    return _query("select level, level_name, description from dim_maturity_levels order by level")


def maturity_problems(scope: Scope) -> pd.DataFrame:
    """Assessment rows that could not be read (an unknown key area, a level that names no level),
    with the file and row they came from."""
    return _query(
        """
        select councils.short_name as council, m.area_as_published as area, m.assessed_date, m.problem,
               m.source_file, m.source_row
        from mart_maturity_by_council_area as m
        join dim_councils as councils using (council_id)
        where m.council_id in (select unnest(?::varchar[])) and m.problem is not null
        order by councils.sort_order, m.source_file, m.source_row
        """,
        [scope.council_ids],
    )


# --- data quality and import ---------------------------------------------------------------------
# STAR's own files (shared services: collaborative contracts, team KPIs) are data too: they show on
# the data quality page to a user who sees every council and has not narrowed the selection.


def _in_scope(column: str = "council_id") -> str:
    """Rows of the councils given (parameter 1), or of shared services too (parameter 2 true)."""
    return (
        f"({column} in (select unnest(?::varchar[])) "
        f"or (? and {column} in (select council_id from dim_councils where not is_council)))"
    )


def _quality_params(scope: Scope) -> list:
    return [scope.council_ids, scope.user.all_councils and scope.filters.all_councils]


def _user_params(scope: Scope) -> list:
    """Every council the user may see, whatever the filters (an import reports on all of them)."""
    ids = _query("select council_id from dim_councils order by sort_order")["council_id"].tolist()
    return [list(scope.user.allowed(ids)), scope.user.all_councils]


def coverage(scope: Scope, dataset: str) -> pd.DataFrame:
    """Rows loaded per council per month of one dataset in the period, missing months flagged."""
    return _query(
        f"""
        select c.short_name as council, m.month, m.count_rows, m.count_files, m.is_expected, m.is_missing
        from mart_coverage_by_council_month m
        join dim_councils c using (council_id)
        where {_in_scope("m.council_id")}
          and m.dataset = ? and m.month between ? and ?
        order by c.sort_order, m.month
        """,
        [*_quality_params(scope), dataset, scope.filters.date_from, scope.filters.date_to],
    )


def coverage_datasets() -> dict[str, bool]:
    """Datasets with data (monthly ones first), each with whether its gaps are flagged."""
    from starviz.models import DATASETS

    frame = _query("select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset")
    order = {name: i for i, name in enumerate(DATASETS)}
    rows = sorted(
        zip(frame["dataset"], frame["is_monthly"].astype(bool), strict=True),
        key=lambda r: (not r[1], order.get(r[0], len(order))),
    )
    return dict(rows)


def missing_months(scope: Scope) -> pd.DataFrame:
    """Per council and dataset: the expected months in the period with no rows at all."""
    return _query(
        f"""
        select c.short_name as council, m.dataset, count(*) as count_missing,
               string_agg(strftime(m.month, '%b %Y'), ', ' order by m.month) as months
        from mart_coverage_by_council_month m
        join dim_councils c using (council_id)
        where m.is_missing and {_in_scope("m.council_id")}
          and m.month between ? and ?
        group by c.short_name, c.sort_order, m.dataset
        order by c.sort_order, m.dataset
        """,
        [*_quality_params(scope), scope.filters.date_from, scope.filters.date_to],
    )


def rejects_by_reason(scope: Scope) -> pd.DataFrame:
    """Problems found in rows, counted per council, dataset, severity and reason."""
    return _query(
        f"""
        select council, dataset, severity, reason,
               count(distinct (source_file, source_row)) as count_rows, count(distinct source_file) as count_files
        from mart_rejects_by_row
        where {_in_scope()}
        group by council, dataset, severity, reason
        order by min(case severity when 'rejected' then 0 when 'warning' then 1 else 2 end), count_rows desc, council
        """,
        _quality_params(scope),
    )


def rejected_rows(scope: Scope, severities: list[str], limit: int | None = None) -> pd.DataFrame:
    """Line-level problems (file, row, column, value, reason), at most ``limit`` (default from the
    settings); none for a role without line detail."""
    limit = limit or config.settings().quality_max_problem_rows
    if not scope.user.can("line_detail"):
        return pd.DataFrame(
            columns=["council", "dataset", "source_file", "source_row", "column_name", "value", "reason", "severity"]
        )
    return _query(
        f"""
        select council, dataset, source_file, source_row, column_name, value, reason, severity
        from mart_rejects_by_row
        where {_in_scope()} and severity in (select unnest(?::varchar[]))
        order by council, dataset, source_file, source_row, column_name
        limit ?
        """,
        [*_quality_params(scope), severities, limit],
    )


def count_rejected_rows(scope: Scope, severities: list[str]) -> int:
    return int(
        _scalar(
            f"select count(*) from mart_rejects_by_row where {_in_scope()} and severity in (select unnest(?::varchar[]))",
            [*_quality_params(scope), severities],
        )
    )


def unclassified_by_council(scope: Scope) -> pd.DataFrame:
    """Per council: spend with no ProClass heading, and spend classified only from the supplier's
    other lines, as shares of the spend in the period (addressable only when the filter says so)."""
    return _query(
        """
        select c.short_name as council,
               sum(m.spend_gbp) as spend_gbp,
               coalesce(sum(m.spend_gbp) filter (where m.category_source = 'none'), 0) as unclassified_gbp,
               coalesce(sum(m.spend_gbp) filter (where m.category_source = 'supplier'), 0) as from_supplier_gbp,
               coalesce(sum(m.spend_gbp) filter (where m.category_source = 'none'), 0) / nullif(sum(m.spend_gbp), 0)
                   as unclassified_share,
               coalesce(sum(m.spend_gbp) filter (where m.category_source = 'supplier'), 0) / nullif(sum(m.spend_gbp), 0)
                   as from_supplier_share,
               coalesce(sum(m.count_lines) filter (where m.category_source = 'none'), 0) as count_unclassified_lines
        from mart_classification_by_council_month m
        join dim_councils c using (council_id)
        where m.council_id in (select unnest(?::varchar[])) and m.month between ? and ?
          and (m.is_addressable or not ?)
        group by c.short_name, c.sort_order
        order by c.sort_order
        """,
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to, scope.filters.addressable_only],
    )


def exclusions_by_reason(scope: Scope) -> pd.DataFrame:
    """Per council and reason: the spend left out of addressable spend in the period."""
    return _query(
        """
        select c.short_name as council, m.exclusion_reason, sum(m.spend_gbp) as spend_gbp,
               sum(m.count_lines) as count_lines,
               sum(m.spend_gbp) / any_value(t.total_gbp) as share_of_total
        from mart_spend_by_council_month m
        join dim_councils c using (council_id)
        join (select council_id, sum(spend_gbp) as total_gbp from mart_spend_by_council_month
              where council_id in (select unnest(?::varchar[])) and month between ? and ?
              group by council_id) t using (council_id)
        where not m.is_addressable and m.council_id in (select unnest(?::varchar[])) and m.month between ? and ?
        group by c.short_name, c.sort_order, m.exclusion_reason
        order by c.sort_order, spend_gbp desc
        """,
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to] * 2,
    )


def freshness(scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """Per council and dataset: the latest file loaded, the last date it covers, when it arrived,
    and how old the data is. A monthly dataset ages from the end of its last month (a council that
    dates a month's lines on the 1st has still sent the whole month); a register or other snapshot
    from the day its latest file arrived. Stale beyond the configured number of days."""
    today = today or dt.date.today()
    return _query(
        f"""
        with monthly as (
            select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset
        ),
        latest as (
            select c.short_name as council, c.sort_order, f.dataset,
                   arg_max(f.file_name, (f.is_latest, f.last_date, f.received_at)) as latest_file,
                   max(f.last_date) filter (where f.status = 'loaded') as last_date,
                   arg_max(f.received_at, (f.is_latest, f.last_date, f.received_at)) as received_at,
                   count(*) filter (where f.status = 'loaded') as count_files,
                   count(*) filter (where f.status = 'failed') as count_failed,
                   sum(f.rows_loaded) as rows_loaded
            from mart_rows_by_file f
            join dim_councils c using (council_id)
            where {_in_scope("f.council_id")}
            group by c.short_name, c.sort_order, f.dataset
        )
        select latest.* exclude (sort_order),
               greatest(0, date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                                     else latest.received_at::date end, ?::date)) as days_old,
               coalesce(date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                                              else latest.received_at::date end, ?::date) > ?, true) as is_stale
        from latest
        left join monthly using (dataset)
        order by latest.sort_order, latest.dataset
        """,
        [*_quality_params(scope), today, today, config.settings().quality_stale_after_days],
    )


def failed_files(scope: Scope) -> pd.DataFrame:
    """Files the build could not read at all, with the reason."""
    return _query(
        f"""
        select council, dataset, source_file, message
        from mart_rows_by_file
        where status = 'failed' and {_in_scope()}
        order by council, dataset, source_file
        """,
        _quality_params(scope),
    )


def supplier_match_candidates(scope: Scope, limit: int | None = None) -> pd.DataFrame:
    """Pairs of suppliers whose names look alike, best score first, with each side's councils and
    spend, both counted only within the user's councils (both sides must be used by one of them)."""
    limit = limit or config.settings().supplier_match_max_shown
    return _query(
        """
        with visible as (
            select
                m.*,
                list_filter(m.councils_a, lambda x: list_contains(?::varchar[], x.council_id)
                            or (? and list_contains(s.ids, x.council_id))) as seen_a,
                list_filter(m.councils_b, lambda x: list_contains(?::varchar[], x.council_id)
                            or (? and list_contains(s.ids, x.council_id))) as seen_b
            from mart_supplier_matches_by_pair m,
                 (select list(council_id) as ids from dim_councils where not is_council) s
        ),
        names as (select list(council_id) as ids, list(short_name) as names from dim_councils)
        select
            pair_id, score, supplier_name_a, supplier_name_b,
            array_to_string(list_transform(seen_a, lambda x: names.names[list_position(names.ids, x.council_id)]), ', ')
                as councils_a,
            array_to_string(list_transform(seen_b, lambda x: names.names[list_position(names.ids, x.council_id)]), ', ')
                as councils_b,
            list_sum(list_transform(seen_a, lambda x: x.spend_gbp))::double as spend_gbp_a,
            list_sum(list_transform(seen_b, lambda x: x.spend_gbp))::double as spend_gbp_b,
            supplier_id_a, supplier_id_b
        from visible, names
        where len(seen_a) > 0 and len(seen_b) > 0
        order by score desc, spend_gbp_a + spend_gbp_b desc, pair_id
        limit ?
        """,
        [*_quality_params(scope), *_quality_params(scope), limit],
    )


def ledger_file_with_hash(scope: Scope, sha256: str) -> str | None:
    """The file (raw/-relative) the live database loaded with this content, if any."""
    row = _query(
        f"select source_file from mart_rows_by_file where sha256 = ? and {_in_scope()} order by file_id limit 1",
        [sha256, *_user_params(scope)],
    )
    return None if row.empty else str(row.iloc[0, 0])


def loaded_files(scope: Scope, council_id: str, dataset: str) -> pd.DataFrame:
    """The files the live database loaded for one council and dataset, with the dates they cover."""
    return _query(
        f"""
        select source_file, file_name, status, rows_loaded, first_date, last_date
        from mart_rows_by_file
        where council_id = ? and dataset = ? and {_in_scope()}
        order by source_file
        """,
        [council_id, dataset, *_user_params(scope)],
    )


def import_snapshot(scope: Scope) -> dict[str, pd.DataFrame]:
    """What an import compares before and after its build: rows per council, dataset and month;
    suppliers; contracts; files. Small tables (thousands of rows at most)."""
    params = _user_params(scope)
    return {
        "rows": _query(
            f"select council_id, dataset, month, count_rows from mart_coverage_by_council_month "
            f"where count_rows > 0 and {_in_scope()}",
            params,
        ),
        "suppliers": _query(
            f"""select s.supplier_id, s.supplier_name, list_sort(list(distinct n.council_id)) as council_ids
                from dim_suppliers s join map_supplier_names n using (supplier_id)
                where {_in_scope("n.council_id")}
                group by s.supplier_id, s.supplier_name""",
            params,
        ),
        "contracts": _query(
            f"select contract_id, council_id, contract_title, supplier_name, value_gbp, start_date, end_date "
            f"from mart_contracts where {_in_scope()}",
            params,
        ),
        "files": _query(
            f"select council_id, dataset, source_file, status, message, rows_read, rows_loaded, rows_rejected, "
            f"first_date, last_date from mart_rows_by_file where {_in_scope()}",
            params,
        ),
        "councils": _query(f"select council_id, short_name from dim_councils where {_in_scope()} order by sort_order", params),
    }


# --- collaboration, contract pipeline and exception reports --------------------------------------
# Dates relative to "today" (due dates, start-by dates, RAG, live contracts) take an explicit
# ``today`` so that tests can pin it; pages leave it out and get the date they run on.

_NAMED = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _named(sql: str, params: dict) -> pd.DataFrame:
    """Run SQL with named parameters ($name), passing only the names it uses (DuckDB rejects extras)."""
    used = set(_NAMED.findall(sql))
    return _query(sql, {k: v for k, v in params.items() if k in used})


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


@dataclass(frozen=True)
class ListFilter:
    """Narrows one ranked list: text in its name, ProClass categories, a minimum value in £."""

    search: str = ""
    categories: tuple[str, ...] = ()
    min_gbp: float = 0.0

    def params(self) -> dict:
        return {"search": self.search.strip().lower(), "categories": list(self.categories), "min_gbp": float(self.min_gbp)}


_NARROW_CATEGORY = "(len($categories::varchar[]) = 0 or list_contains($categories::varchar[], {col}))"


def _spend_params(scope: Scope, narrow: ListFilter | None = None, **extra) -> dict:
    f = scope.filters
    return {
        "ids": scope.council_ids,
        "date_from": f.date_from,
        "date_to": f.date_to,
        "addressable": f.addressable_only,
        **(narrow or ListFilter()).params(),
        **extra,
    }


def _councils_in(scope: Scope) -> pd.DataFrame:
    """Councils of the scope, in display order: the columns of the wide tables."""
    return _query(
        "select council_id, short_name from dim_councils where council_id in (select unnest(?::varchar[])) order by sort_order",
        [scope.council_ids],
    )


def category_names() -> list[str]:
    """ProClass headings that can filter a list (not "Not classified")."""
    return _query("select category from dim_categories where not is_unclassified order by category")["category"].tolist()


def _contract_text(end: object, only_star: object) -> str:
    if end is None or pd.isna(end):
        return "none"
    star = not pd.isna(only_star) and bool(only_star)
    return f"{'STAR, ' if star else ''}to {pd.Timestamp(end):%b %Y}"


def _wide(
    long: pd.DataFrame, columns: list[str], councils: pd.DataFrame, values: dict[str, str], fill: dict[str, object] | None = None
) -> pd.DataFrame:
    """One row per value of ``columns[0]`` (the key) with ``columns``, then for each council of the
    scope the columns ``<council_id>_<suffix>`` from the long frame (``values``: column -> suffix),
    missing ones filled from ``fill`` (suffix -> value). Row order kept."""
    key = columns[0]
    base = long[columns].drop_duplicates(subset=key).set_index(key)
    wide = long[long["council_id"].notna()].pivot(index=key, columns="council_id", values=list(values))
    out = base.copy()
    for council_id in councils["council_id"]:
        for column, suffix in values.items():
            series = (
                wide[(column, council_id)].reindex(base.index)
                if (column, council_id) in wide.columns
                else pd.Series(None, index=base.index, dtype=object)
            )
            value = (fill or {}).get(suffix)
            if isinstance(value, str):
                series = series.fillna(value)
            elif value is not None:  # numbers: pivoting mixed columns leaves them as objects
                series = pd.to_numeric(series).fillna(value).astype(type(value))
            out[f"{council_id}_{suffix}"] = series
    return out.reset_index()


def common_suppliers(scope: Scope, narrow: ListFilter | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """Suppliers paid by two or more councils of the scope in the period, ranked by combined spend:
    per council its spend and whether it holds a live contract (own or STAR) and when it ends."""
    councils = _councils_in(scope)
    long = _named(
        """
        with
        base as (
            select council_id, supplier_id, category, sum(spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month
            where council_id in (select unnest($ids::varchar[])) and month between $date_from and $date_to
              and (is_addressable or not $addressable)
            group by all
        ),
        by_council as (
            select council_id, supplier_id, sum(spend_gbp) as spend_gbp
            from base group by all having sum(spend_gbp) > 0
        ),
        common as (
            select supplier_id, count(*) as count_councils, sum(spend_gbp) as spend_gbp
            from by_council group by supplier_id having count(*) >= 2
        ),
        main_category as (
            select supplier_id, arg_max(category, spend_gbp) as category
            from (select supplier_id, category, sum(spend_gbp) as spend_gbp from base
                  where supplier_id in (select supplier_id from common) group by all)
            group by supplier_id
        ),
        listed as (
            select common.*, suppliers.supplier_name, main_category.category
            from common
            join dim_suppliers as suppliers using (supplier_id)
            left join main_category using (supplier_id)
            where contains(lower(suppliers.supplier_name), $search)
              and """
        + _NARROW_CATEGORY.format(col="main_category.category")
        + """
              and common.spend_gbp >= $min_gbp
        ),
        held as (
            select council_id, supplier_id,
                   max(case when end_date >= $today then end_date else max_end_date end) as contract_end_date,
                   bool_and(is_collaborative) as only_star
            from (select unnest(covered_council_ids) as council_id, * exclude (council_id)
                  from mart_pipeline_by_contract
                  where supplier_id in (select supplier_id from listed)
                    and start_date <= $today and max_end_date >= $today)
            where council_id in (select unnest($ids::varchar[]))
            group by all
        )
        select listed.supplier_id, listed.supplier_name, listed.category, listed.count_councils,
               listed.spend_gbp, councils.council_id, by_council.spend_gbp as council_spend_gbp,
               held.contract_end_date, held.only_star
        from listed
        cross join (select council_id, sort_order from dim_councils
                    where council_id in (select unnest($ids::varchar[]))) as councils
        left join by_council using (supplier_id, council_id)
        left join held using (supplier_id, council_id)
        order by listed.spend_gbp desc, listed.supplier_name, councils.sort_order
        """,
        _spend_params(scope, narrow, today=_today(today)),
    )
    long["contract"] = [_contract_text(e, s) for e, s in zip(long["contract_end_date"], long["only_star"], strict=True)]
    held = long[long["contract_end_date"].notna()].groupby("supplier_id")["council_id"].nunique()
    out = _wide(
        long,
        ["supplier_id", "supplier_name", "category", "count_councils", "spend_gbp"],
        councils,
        {"council_spend_gbp": "spend_gbp", "contract": "contract"},
        fill={"spend_gbp": 0.0},
    )
    out.insert(4, "count_councils_with_contract", out["supplier_id"].map(held).fillna(0).astype(int))
    return out


def common_categories(scope: Scope, narrow: ListFilter | None = None) -> pd.DataFrame:
    """ProClass categories bought by two or more councils of the scope from two or more suppliers in
    the period, ranked by combined spend: supplier counts, suppliers used by more than one council,
    and per council its spend and number of suppliers."""
    councils = _councils_in(scope)
    long = _named(
        """
        with
        base as (
            select spend.council_id, spend.supplier_id, spend.category, sum(spend.spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month as spend
            join dim_categories as categories using (category)
            where spend.council_id in (select unnest($ids::varchar[])) and spend.month between $date_from and $date_to
              and (spend.is_addressable or not $addressable) and not categories.is_unclassified
            group by all
            having sum(spend.spend_gbp) > 0
        ),
        categories as (
            select category, count(distinct council_id) as count_councils, count(distinct supplier_id) as count_suppliers,
                   sum(spend_gbp) as spend_gbp
            from base
            group by category
            having count(distinct council_id) >= 2 and count(distinct supplier_id) >= 2
               and contains(lower(category), $search) and """
        + _NARROW_CATEGORY.format(col="category")
        + """
               and sum(spend_gbp) >= $min_gbp
        ),
        shared as (
            select category, count(*) as count_shared_suppliers
            from (select category, supplier_id from base group by all having count(distinct council_id) >= 2)
            group by category
        ),
        by_council as (
            select category, council_id, sum(spend_gbp) as council_spend_gbp, count(*) as council_suppliers
            from base group by all
        )
        select categories.*, coalesce(shared.count_shared_suppliers, 0) as count_shared_suppliers,
               by_council.council_id, by_council.council_spend_gbp, by_council.council_suppliers
        from categories
        left join shared using (category)
        left join by_council using (category)
        order by categories.spend_gbp desc, categories.category
        """,
        _spend_params(scope, narrow),
    )
    return _wide(
        long,
        ["category", "count_councils", "count_suppliers", "count_shared_suppliers", "spend_gbp"],
        councils,
        {"council_spend_gbp": "spend_gbp", "council_suppliers": "suppliers"},
        fill={"spend_gbp": 0.0, "suppliers": 0},
    )


# Which councils of the scope a STAR contract covers; a user never learns of councils outside theirs.
_COVERS = """
    case when {t}is_collaborative then (
        select string_agg(councils.short_name, ', ' order by councils.sort_order) from dim_councils as councils
        where list_contains({t}covered_council_ids, councils.council_id)
          and councils.council_id in (select unnest($ids::varchar[]))) end
"""

_LIVE_CONTRACTS = """
    select contract_id, council_id, owner_name, owner_order, contract_ref, contract_title, supplier_id,
           supplier_name, category, subcategory, category_manager, value_gbp, annual_value_gbp, start_date,
           end_date, max_end_date,
           case when end_date >= $today then end_date else max_end_date end as due_date
    from mart_pipeline_by_contract
    where len(list_intersect(covered_council_ids, $ids::varchar[])) > 0 and max_end_date >= $today
"""

_ALIGNMENT_COLUMNS = [
    "opportunity",
    "category",
    "value_gbp",
    "saving_gbp",
    "count_owners",
    "count_contracts",
    "first_due_date",
    "last_due_date",
    "first_contract_title",
    "owners",
    "contracts",
    "annual_value_gbp",
    "contract_id",
]


def _listed(labels: pd.Series, shown: int = 4) -> str:
    items = list(labels)
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return "; ".join(items[:shown]) + more


def expiry_alignment(
    scope: Scope,
    narrow: ListFilter | None = None,
    window_months: int | None = None,
    today: dt.date | None = None,
    by_subcategory: bool = False,
) -> pd.DataFrame:
    """Joint re-procurement opportunities: contracts in one category at different councils (or STAR)
    due to end within ``window_months`` of each other (see ``rules.expiry_windows``), ranked by
    combined value, with an estimated saving at the configured aggregation rate. A contract is due
    at its end date, or at its maximum end date once it runs in an extension. ``by_subcategory``
    groups by the registers' second-level category where they publish one. One row per
    opportunity; ``contract_id`` is its first contract to end."""
    s = config.settings()
    narrow = narrow or ListFilter()
    contracts = _named(
        """
        select *, case when $by_subcategory and subcategory is not null then category || ' › ' || subcategory
                       else category end as grouping
        from ("""
        + _LIVE_CONTRACTS
        + """)
        where category in (select category from dim_categories where not is_unclassified)
          and """
        + _NARROW_CATEGORY.format(col="category"),
        {"ids": scope.council_ids, "today": _today(today), "by_subcategory": by_subcategory, **narrow.params()},
    )
    members = rules.expiry_windows(contracts, window_months or s.collaboration.expiry_alignment_months, key="grouping")
    if members.empty:
        return pd.DataFrame(columns=_ALIGNMENT_COLUMNS)
    due = pd.to_datetime(members["due_date"])
    members["label"] = members["owner_name"] + " " + members["contract_ref"] + " (" + due.dt.strftime("%b %Y") + ")"
    members["text"] = (
        members["contract_title"].fillna("") + " " + members["supplier_name"].fillna("") + " " + members["grouping"]
    ).str.lower()
    out = (
        members.groupby("opportunity", sort=False)
        .agg(
            category=("grouping", "first"),
            first_due_date=("due_date", "min"),
            last_due_date=("due_date", "max"),
            count_owners=("council_id", "nunique"),
            count_contracts=("contract_id", "size"),
            value_gbp=("value_gbp", "sum"),
            annual_value_gbp=("annual_value_gbp", "sum"),
            contracts=("label", _listed),
            contract_id=("contract_id", "first"),
            first_contract_title=("contract_title", "first"),
            text=("text", " ".join),
        )
        .reset_index()
    )
    out["saving_gbp"] = out["value_gbp"] * s.collaboration.aggregation_saving_share
    owners = members.sort_values("owner_order").groupby("opportunity")["owner_name"].agg(lambda x: ", ".join(dict.fromkeys(x)))
    out["owners"] = out["opportunity"].map(owners)
    keep = out["text"].str.contains(narrow.params()["search"], regex=False) & (out["value_gbp"] >= narrow.min_gbp)
    out = out[keep].sort_values(["value_gbp", "first_due_date"], ascending=[False, True])
    return out[_ALIGNMENT_COLUMNS].reset_index(drop=True)


def aligned_contracts(
    scope: Scope, contract_id: str, window_months: int | None = None, today: dt.date | None = None
) -> pd.DataFrame:
    """Other owners' contracts in the same category as ``contract_id`` due within ``window_months``
    either side of it: the partners a joint re-procurement of this contract could bring in."""
    return _named(
        """
        with live as ("""
        + _LIVE_CONTRACTS
        + """),
        this as (select * from live where contract_id = $contract_id)
        select live.contract_title, live.owner_name as council, live.value_gbp, live.due_date,
               datediff('month', this.due_date, live.due_date) as months_apart, live.supplier_name, live.contract_ref,
               live.contract_id
        from live
        join this on live.category = this.category and live.council_id <> this.council_id
        where live.due_date between (this.due_date - to_months($window))::date and (this.due_date + to_months($window))::date
        order by live.value_gbp desc nulls last
        """,
        {
            "ids": scope.council_ids,
            "today": _today(today),
            "contract_id": contract_id,
            "window": window_months or config.settings().collaboration.expiry_alignment_months,
        },
    )


def partner_contract_leakage(scope: Scope, narrow: ListFilter | None = None, match: str = "supplier") -> pd.DataFrame:
    """Off-contract spend of a council with a supplier (``match="supplier"``) or in a category
    (``match="category"``) in the months when another council of the scope, or STAR, held a live
    contract with it that did not cover the paying council; ranked by that spend. The partner
    contracts listed are those live during the months of that spend."""
    if match not in ("supplier", "category"):
        raise ValueError(f"match must be 'supplier' or 'category', got {match!r}")
    key = "supplier_id" if match == "supplier" else "category"
    search_col = "suppliers.supplier_name" if match == "supplier" else "leaked.category"
    return _named(
        f"""
        with
        by_category as (
            select council_id, {key}, month, category, sum(spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month
            where council_id in (select unnest($ids::varchar[])) and month between $date_from and $date_to
              and (is_addressable or not $addressable) and not is_on_contract
              {"and category not in (select category from dim_categories where is_unclassified)" if match == "category" else ""}
            group by all
        ),
        spend as (
            select council_id, {key}, month, sum(spend_gbp) as spend_gbp
            from by_category group by all
        ),
        partners as (
            select contract_id, owner_name, covered_council_ids, contract_ref, {key}, start_date, max_end_date, value_gbp
            from mart_pipeline_by_contract
            where len(list_intersect(covered_council_ids, $ids::varchar[])) > 0
              and {key} in (select distinct {key} from spend)
        ),
        live as (
            -- each partner contract in each month of the spend it was live in
            select partners.contract_id, partners.{key}, partners.covered_council_ids, months.month
            from partners
            join (select distinct month from spend) as months
                on partners.start_date <= last_day(months.month) and partners.max_end_date >= months.month
        ),
        live_total as (
            select {key}, month, count(*) as count_live from live group by all
        ),
        live_covering as (
            select {key}, month, council_id, count(*) as count_covering
            from (select {key}, month, unnest(covered_council_ids) as council_id from live)
            group by all
        ),
        leaked_months as (
            -- a month leaks when some live contract does not cover the paying council
            select spend.*
            from spend
            join live_total using ({key}, month)
            left join live_covering using ({key}, month, council_id)
            where live_total.count_live > coalesce(live_covering.count_covering, 0)
        ),
        leaked as (
            select council_id, {key}, sum(spend_gbp) as off_contract_gbp, count(*) as count_months,
                   min(month) as first_month, max(month) as last_month
            from leaked_months group by all
        ),
        main_category as (
            select council_id, {key}, arg_max(category, spend_gbp) as main_category
            from (select by_category.council_id, by_category.{key}, by_category.category, sum(by_category.spend_gbp) as spend_gbp
                  from by_category join leaked_months using (council_id, {key}, month) group by all)
            group by all
        ),
        contracts as (
            -- the three largest partner contracts by name, then how many more
            select leaked.council_id, leaked.{key}, count(*) as count_partner_contracts,
                   array_to_string(list(partners.owner_name || ' ' || partners.contract_ref
                                        order by partners.value_gbp desc nulls last, partners.contract_ref)[1:3], '; ')
                       || case when count(*) > 3 then ' and ' || (count(*) - 3) || ' more' else '' end
                       as partner_contracts,
                   arg_max(partners.contract_id, partners.value_gbp) as contract_id
            from leaked
            join partners
                on partners.{key} = leaked.{key}
                and not list_contains(partners.covered_council_ids, leaked.council_id)
                and partners.start_date <= last_day(leaked.last_month) and partners.max_end_date >= leaked.first_month
            group by all
        )
        select {"suppliers.supplier_name" if match == "supplier" else "leaked.category"},
               councils.short_name as council, leaked.off_contract_gbp,
               {"leaked.main_category as category, " if match == "supplier" else ""}leaked.count_months,
               contracts.count_partner_contracts, contracts.partner_contracts, leaked.council_id,
               {"leaked.supplier_id, " if match == "supplier" else ""}contracts.contract_id
        from (select * from leaked join main_category using (council_id, {key})) as leaked
        join contracts using (council_id, {key})
        join dim_councils as councils using (council_id)
        {"left join dim_suppliers as suppliers using (supplier_id)" if match == "supplier" else ""}
        where leaked.off_contract_gbp > 0 and contains(lower({search_col}), $search)
          and {_NARROW_CATEGORY.format(col="leaked.main_category" if match == "supplier" else "leaked.category")}
          and leaked.off_contract_gbp >= $min_gbp
        order by leaked.off_contract_gbp desc, councils.sort_order
        """,
        _spend_params(scope, narrow),
    )


# -- pipeline

_PIPELINE_SQL = """
with
lead_times as (
    select unnest($lead_routes::varchar[]) as route, unnest($lead_bands::integer[]) as band,
           unnest($lead_months::integer[]) as lead_months
),
efforts as (
    select unnest($effort_routes::varchar[]) as route, unnest($effort_weights::double[]) as effort
),
contracts as (
    select
        c.*,
        case when c.end_date >= $today then c.end_date else c.max_end_date end as due_date,
        c.end_date < $today as is_in_extension,
        len(list_filter($bands::double[], lambda e: coalesce(c.value_gbp, 0) >= e)) as band
    from mart_pipeline_by_contract as c
    where len(list_intersect(c.covered_council_ids, $ids::varchar[])) > 0 and {contracts}
),
timed as (
    select
        contracts.*,
        coalesce(own.lead_months, fallback.lead_months) as lead_months,
        coalesce(own_effort.effort, fallback_effort.effort) as effort
    from contracts
    left join lead_times as own on own.route = contracts.route and own.band = contracts.band
    left join lead_times as fallback on fallback.route = $default_route and fallback.band = contracts.band
    left join efforts as own_effort on own_effort.route = contracts.route
    left join efforts as fallback_effort on fallback_effort.route = $default_route
),
dated as (
    select
        timed.*,
        (due_date - to_months(lead_months))::date as start_by_date,
        datediff('month', $today, due_date) as months_to_due,
        len(list_filter($bucket_edges::integer[], lambda e: due_date >= ($today + to_months(e))::date)) as bucket_index
    from timed
),
pipeline as (
    select
        dated.*,
        ($bucket_labels::varchar[])[bucket_index + 1] as bucket,
        case when start_by_date < $today then 'late'
             when start_by_date < ($today + to_months($due_within))::date then 'due'
             else 'on track' end as rag,
        greatest(start_by_date, $today) as work_start_date
    from dated
)
"""
# contracts not yet past their maximum end date; a contract's detail uses any one contract
_PIPELINE = _PIPELINE_SQL.format(contracts="c.max_end_date >= $today")


def _pipeline_params(scope: Scope, today: dt.date | None, narrow: ListFilter | None = None, **extra) -> dict:
    s = config.settings()
    lead_routes, lead_bands, lead_months = rules.lead_time_table(s)
    effort_routes, effort_weights = rules.effort_table(s)
    return {
        "ids": scope.council_ids,
        "today": _today(today),
        "bands": s.pipeline.lead_time_value_bands_gbp,
        "lead_routes": lead_routes,
        "lead_bands": lead_bands,
        "lead_months": lead_months,
        "effort_routes": effort_routes,
        "effort_weights": effort_weights,
        "default_route": rules.DEFAULT_ROUTE,
        "bucket_edges": s.pipeline.bucket_months,
        "bucket_labels": rules.bucket_labels(s.pipeline.bucket_months),
        "due_within": s.pipeline.due_within_months,
        **(narrow or ListFilter()).params(),
        **extra,
    }


_PIPELINE_COLUMNS = (
    """
    contract_id, council_id, contract_title, owner_name as council, """
    + _COVERS.format(t="")
    + """ as covers,
    value_gbp, due_date, start_by_date, rag, bucket,
    lead_months, coalesce(route, procurement_route) as route, coalesce(category_manager, 'Unassigned') as category_manager,
    effort, supplier_id, supplier_name, category, contract_ref, start_date, end_date, max_end_date, months_to_due,
    route is null as is_route_unrecognised, is_in_extension, has_extension_option, bucket_index
"""
)


def bucket_labels() -> list[str]:
    return rules.bucket_labels(config.settings().pipeline.bucket_months)


def pipeline_contracts(
    scope: Scope,
    narrow: ListFilter | None = None,
    today: dt.date | None = None,
    buckets: list[str] | None = None,
    rags: list[str] | None = None,
    unassigned_only: bool = False,
) -> pd.DataFrame:
    """Contracts of the scope (own, or STAR ones covering a council of it) not yet past their maximum
    end date, with due date, bucket, lead time, start-by date and RAG as at ``today``; ranked by value."""
    return _named(
        _PIPELINE
        + f"""
        select {_PIPELINE_COLUMNS}
        from pipeline
        where (contains(lower(contract_title), $search) or contains(lower(coalesce(supplier_name, '')), $search)
               or contains(lower(contract_ref), $search))
          and {_NARROW_CATEGORY.format(col="category")} and coalesce(value_gbp, 0) >= $min_gbp
          and (len($buckets::varchar[]) = 0 or list_contains($buckets::varchar[], bucket))
          and (len($rags::varchar[]) = 0 or list_contains($rags::varchar[], rag))
          and (not $unassigned_only or category_manager is null)
        order by value_gbp desc nulls last, due_date, contract_id
        """,
        _pipeline_params(
            scope, today, narrow, buckets=list(buckets or []), rags=list(rags or []), unassigned_only=unassigned_only
        ),
    )


def pipeline_summary(scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """Per bucket (every bucket, in order): contracts, value, and how many are late or due to start."""
    return _named(
        _PIPELINE
        + """
        , buckets as (select unnest($bucket_labels::varchar[]) as bucket, generate_subscripts($bucket_labels::varchar[], 1) as n)
        select buckets.bucket, count(pipeline.contract_id) as count_contracts, coalesce(sum(pipeline.value_gbp), 0) as value_gbp,
               count(*) filter (where pipeline.rag = 'late') as count_late,
               count(*) filter (where pipeline.rag = 'due') as count_due
        from buckets
        left join pipeline using (bucket)
        group by buckets.bucket, buckets.n
        order by buckets.n
        """,
        _pipeline_params(scope, today),
    )


def workload_by_manager_quarter(scope: Scope, today: dt.date | None = None, quarters: int | None = None) -> pd.DataFrame:
    """Re-procurements per category manager per financial-year quarter in which the work must start
    (the start-by date, or today when that has passed), for the configured number of quarters from
    the current one: contracts, value and effort weighted by route. Unassigned contracts included."""
    today = _today(today)
    first = rules.quarter_start(today)
    n = quarters or config.settings().pipeline.workload_quarters
    frame = _named(
        _PIPELINE
        + """
        select coalesce(category_manager, 'Unassigned') as category_manager, category_manager is null as is_unassigned,
               date_trunc('quarter', work_start_date)::date as quarter_start,  -- financial quarters start with calendar ones
               count(*) as count_contracts, sum(value_gbp) as value_gbp, sum(effort) as effort
        from pipeline
        where work_start_date < $horizon
        group by all
        order by is_unassigned, category_manager, quarter_start
        """,
        _pipeline_params(scope, today, horizon=add_months(first, 3 * n)),
    )
    frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.date
    frame["quarter"] = frame["quarter_start"].map(rules.quarter_label)
    return frame


def workload_quarter_labels(today: dt.date | None = None, quarters: int | None = None) -> list[str]:
    """The quarters the workload heat map shows, in order, even those with no work."""
    first = rules.quarter_start(_today(today))
    n = quarters or config.settings().pipeline.workload_quarters
    return [rules.quarter_label(add_months(first, 3 * i)) for i in range(n)]


def annual_spend_by_council(scope: Scope) -> pd.DataFrame:
    """Addressable spend per council of the scope in the 12 months to the latest month loaded, and
    whether it is over the Procurement Act 2023 pipeline-notice threshold."""
    s = config.settings()
    return _named(
        """
        with latest as (select max(month) as last_month from mart_spend_by_council_month)
        select councils.short_name as council, councils.council_id,
               coalesce(sum(spend.spend_gbp), 0) as annual_spend_gbp,
               coalesce(sum(spend.spend_gbp), 0) > $threshold as is_over_threshold,
               any_value(latest.last_month) as last_month
        from dim_councils as councils
        cross join latest
        left join mart_spend_by_council_month as spend
            on spend.council_id = councils.council_id and spend.is_addressable
            and spend.month > latest.last_month - interval 12 month and spend.month <= latest.last_month
        where councils.council_id in (select unnest($ids::varchar[]))
        group by councils.council_id, councils.short_name, councils.sort_order
        order by councils.sort_order
        """,
        {"ids": scope.council_ids, "threshold": s.pipeline.procurement_act_annual_spend_gbp},
    )


def procurement_act_pipeline(
    scope: Scope,
    fy: str,
    today: dt.date | None = None,
    contract_gbp: float | None = None,
    annual_spend_gbp: float | None = None,
    months: int | None = None,
) -> pd.DataFrame:
    """Procurement Act 2023 pipeline-notice list: contracts over the value threshold (default £2m)
    due to end, and so to be procured, within the configured months from the start of financial year
    ``fy``, for councils of the scope whose addressable spend over the last 12 months loaded exceeds the
    annual threshold (default £100m). A STAR contract is listed for the qualifying councils it covers."""
    s = config.settings()
    start, _ = fy_bounds(fy)
    end = add_months(start, months or s.pipeline.procurement_act_pipeline_months)
    spend = annual_spend_by_council(scope)
    threshold = s.pipeline.procurement_act_annual_spend_gbp if annual_spend_gbp is None else annual_spend_gbp
    qualifying = spend.loc[spend["annual_spend_gbp"] > threshold, "council_id"].tolist()
    return _named(
        _PIPELINE
        + f"""
        select {_PIPELINE_COLUMNS}
        from pipeline
        where len(list_intersect(covered_council_ids, $qualifying::varchar[])) > 0
          and value_gbp > $contract_gbp and due_date >= $window_start and due_date < $window_end
        order by value_gbp desc, due_date
        """,
        _pipeline_params(
            scope,
            today,
            qualifying=qualifying,
            contract_gbp=s.pipeline.procurement_act_contract_gbp if contract_gbp is None else contract_gbp,
            window_start=start,
            window_end=end,
        ),
    )


# -- exception reports (one month each)


def _month_params(scope: Scope, month: dt.date, narrow: ListFilter | None = None, **extra) -> dict:
    first = month_start(month)
    return {
        "ids": scope.council_ids,
        "month": first,
        "month_end": month_end(first),
        "addressable": scope.filters.addressable_only,
        **(narrow or ListFilter()).params(),
        **extra,
    }


def expired_contract_spend(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Spend in the month with suppliers whose contract with the council (or a STAR contract covering
    it) had ended, extensions included, with no live one: per council, supplier and expired contract."""
    return _named(
        """
        select suppliers.supplier_name, councils.short_name as council, sum(expired.spend_gbp) as spend_gbp,
               sum(expired.count_lines)::bigint as count_lines, contracts.contract_title, contracts.contract_ref,
               contracts.max_end_date as ended_date, datediff('month', contracts.max_end_date, $month_end) as months_since_end,
               max(expired.last_payment_date) as last_payment_date, expired.council_id, expired.supplier_id,
               expired.contract_id
        from mart_expired_contract_spend_by_month as expired
        join mart_pipeline_by_contract as contracts using (contract_id)
        join dim_councils as councils on councils.council_id = expired.council_id
        left join dim_suppliers as suppliers on suppliers.supplier_id = expired.supplier_id
        where expired.council_id in (select unnest($ids::varchar[])) and expired.month = $month
          and (expired.is_addressable or not $addressable)
          and contains(lower(coalesce(suppliers.supplier_name, '') || ' ' || contracts.contract_title), $search)
          and """
        + _NARROW_CATEGORY.format(col="contracts.category")
        + """
        group by all
        having sum(expired.spend_gbp) >= $min_gbp
        order by spend_gbp desc, council
        """,
        _month_params(scope, month, narrow),
    )


def off_contract_suppliers(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Off-contract spend per council and supplier over the configured window (12 months) to the end
    of the month, at or above the lowest configured threshold: the highest threshold reached."""
    s = config.settings()
    first = month_start(month)
    return _named(
        """
        with spend as (
            select council_id, supplier_id, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
                   count(distinct month) as count_months, arg_max(category, spend_gbp) as category
            from mart_spend_by_supplier_month
            where council_id in (select unnest($ids::varchar[])) and month between $window_start and $month
              and not is_on_contract and (is_addressable or not $addressable)
            group by all
        )
        select suppliers.supplier_name, councils.short_name as council, spend.spend_gbp,
               list_max(list_filter($thresholds::double[], lambda t: spend.spend_gbp >= t)) as threshold_gbp,
               spend.count_lines::bigint as count_lines, spend.count_months, spend.category, spend.council_id, spend.supplier_id
        from spend
        join dim_councils as councils using (council_id)
        join dim_suppliers as suppliers using (supplier_id)
        where spend.spend_gbp >= list_min($thresholds::double[]) and spend.spend_gbp >= $min_gbp
          and contains(lower(suppliers.supplier_name), $search) and """
        + _NARROW_CATEGORY.format(col="spend.category")
        + """
        order by spend.spend_gbp desc, council
        """,
        _month_params(
            scope,
            first,
            narrow,
            thresholds=s.exceptions.off_contract_thresholds_gbp,
            window_start=add_months(first, 1 - s.exceptions.off_contract_window_months),
        ),
    )


_SPLIT_MEMBERS = """
with
thresholds as (select unnest($thresholds::double[]) as threshold_gbp),
lines as (
    select lines.*, thresholds.threshold_gbp
    from mart_supplier_payments_by_line as lines
    join thresholds
        on lines.amount_gbp >= thresholds.threshold_gbp * (1 - $below_share) and lines.amount_gbp < thresholds.threshold_gbp
    where lines.council_id in (select unnest($ids::varchar[])) and not lines.is_on_contract
      and lines.payment_date between $window_start and $month_end and (lines.is_addressable or not $addressable)
      and not lines.is_redacted
),
anchors as (
    -- a line of the month closing a window holding enough lines just under one threshold
    select a.council_id, a.supplier_id, a.threshold_gbp, a.payment_date as anchor_date
    from lines as a
    join lines as b
        on b.council_id = a.council_id and b.supplier_id = a.supplier_id and b.threshold_gbp = a.threshold_gbp
        and b.payment_date between a.payment_date - $window_days::integer and a.payment_date
    where a.payment_date >= $month
    group by a.line_id, a.council_id, a.supplier_id, a.threshold_gbp, a.payment_date
    having count(*) >= $min_lines
),
members as (
    select distinct b.*
    from anchors as a
    join lines as b
        on b.council_id = a.council_id and b.supplier_id = a.supplier_id and b.threshold_gbp = a.threshold_gbp
        and b.payment_date between a.anchor_date - $window_days::integer and a.anchor_date
)
"""


def _split_params(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> dict:
    e = config.settings().exceptions
    first = month_start(month)
    return _month_params(
        scope,
        first,
        narrow,
        thresholds=e.split_order_thresholds_gbp,
        below_share=e.split_order_below_share,
        window_days=e.split_order_window_days,
        min_lines=e.split_order_min_lines,
        window_start=first - dt.timedelta(days=e.split_order_window_days),
    )


def split_orders(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Possible split orders closing in the month: several off-contract lines of one council to one
    supplier, each just under a threshold, within the configured number of days. One row per
    council, supplier and threshold (aggregates only, so every role may see it)."""
    return _named(
        _SPLIT_MEMBERS
        + """
        select suppliers.supplier_name, councils.short_name as council, sum(members.amount_gbp) as spend_gbp,
               count(*) as count_lines, members.threshold_gbp as under_threshold_gbp,
               min(members.payment_date) as first_payment_date, max(members.payment_date) as last_payment_date,
               members.council_id, members.supplier_id
        from members
        join dim_councils as councils using (council_id)
        join dim_suppliers as suppliers using (supplier_id)
        where contains(lower(suppliers.supplier_name), $search) and """
        + _NARROW_CATEGORY.format(col="members.category")
        + """
        group by all
        having sum(members.amount_gbp) >= $min_gbp
        order by spend_gbp desc, council
        """,
        _split_params(scope, month, narrow),
    )


def split_order_lines(scope: Scope, month: dt.date) -> pd.DataFrame | None:
    """The payment lines behind ``split_orders``; ``None`` for a role without line-level detail."""
    if not (scope.user.can("line_detail") and scope.user.can("redacted_detail")):
        return None
    return _named(
        _SPLIT_MEMBERS
        + """
        select councils.short_name as council, members.supplier_name, members.threshold_gbp, members.payment_date,
               members.amount_gbp, members.transaction_number, members.department, members.purpose,
               members.source_file, members.source_row
        from members
        join dim_councils as councils using (council_id)
        order by councils.sort_order, members.supplier_name, members.threshold_gbp, members.payment_date
        """,
        _split_params(scope, month),
    )


def contracts_without_spend(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Register contracts live in the month, running for at least the configured grace period, with
    no payment to their supplier by a council of the scope within their term up to the month's end."""
    s = config.settings()
    first = month_start(month)
    return _named(
        """
        with
        contracts as (
            select * from mart_pipeline_by_contract
            where len(list_intersect(covered_council_ids, $ids::varchar[])) > 0
              and start_date <= $started_by and max_end_date >= $month
        ),
        spend as (
            select distinct contract_id from mart_spend_by_contract_month
            where council_id in (select unnest($ids::varchar[])) and month <= $month
        )
        select contracts.contract_title, contracts.owner_name as council, contracts.value_gbp, contracts.supplier_name,
               contracts.category, contracts.start_date, contracts.end_date, contracts.max_end_date,
               datediff('month', contracts.start_date, $month_end) as months_running, contracts.contract_ref,
               contracts.contract_id, contracts.supplier_id
        from contracts
        where contract_id not in (select contract_id from spend)
          and contains(lower(contracts.contract_title || ' ' || coalesce(contracts.supplier_name, '')), $search)
          and """
        + _NARROW_CATEGORY.format(col="contracts.category")
        + """
          and coalesce(contracts.value_gbp, 0) >= $min_gbp
        order by contracts.value_gbp desc nulls last, contracts.contract_id
        """,
        _month_params(
            scope,
            first,
            narrow,
            started_by=add_months(month_end(first) + dt.timedelta(days=1), -s.exceptions.no_spend_grace_months)
            - dt.timedelta(days=1),
        ),
    )


def contracts_missing_fields(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Register records over the Transparency Code value (£5,000) live in the month that leave a
    mandatory field blank, with the fields missing, ranked by value."""
    s = config.settings()
    return _named(
        """
        select missing.contract_title, missing.owner_name as council, missing.value_gbp, count(*) as count_missing,
               string_agg(missing.field_label, '; ' order by missing.field_order) as missing_fields,
               missing.supplier_name, missing.contract_ref, missing.contract_id, missing.supplier_id
        from mart_missing_fields_by_contract as missing
        where len(list_intersect(missing.covered_council_ids, $ids::varchar[])) > 0
          and missing.value_gbp > $min_value and missing.start_date <= $month_end and missing.max_end_date >= $month
          and contains(lower(missing.contract_title || ' ' || coalesce(missing.supplier_name, '')), $search)
          and missing.value_gbp >= $min_gbp
        group by all
        order by missing.value_gbp desc, missing.contract_id
        """,
        _month_params(scope, month, narrow, min_value=s.exceptions.transparency_contract_min_gbp),
    )


# -- detail of one supplier, contract or category (the lists link here)


def _first_row(frame: pd.DataFrame) -> dict | None:
    """The first row as a dict with missing scalars as ``None`` (lists are kept), or ``None``."""
    if frame.empty:
        return None
    return {k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


_CONTRACT_STATUS = """
    case when start_date > $today then 'not started'
         when end_date >= $today then 'live'
         when max_end_date >= $today then 'in extension'
         else 'ended' end
"""


def supplier_profile(scope: Scope, supplier_id: str) -> dict | None:
    """A supplier's name, identifiers and flags, or ``None`` when no council of the scope has paid
    it or holds a contract with it (so a link cannot reveal suppliers outside the user's councils)."""
    frame = _named(
        """
        select suppliers.*,
               (select coalesce(sum(spend_gbp), 0) from mart_spend_by_supplier_month
                where supplier_id = $supplier_id and council_id in (select unnest($ids::varchar[]))) as spend_all_time_gbp
        from dim_suppliers as suppliers
        where supplier_id = $supplier_id
          and (exists (select 1 from mart_spend_by_supplier_month
                       where supplier_id = $supplier_id and council_id in (select unnest($ids::varchar[])))
               or exists (select 1 from mart_pipeline_by_contract
                          where supplier_id = $supplier_id and len(list_intersect(covered_council_ids, $ids::varchar[])) > 0))
        """,
        {"ids": scope.council_ids, "supplier_id": supplier_id},
    )
    return _first_row(frame)


def supplier_spend_by_council(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """One supplier's spend per council of the scope in the period: on and off contract, lines."""
    return _named(
        """
        select councils.short_name as council, sum(spend.spend_gbp) as spend_gbp,
               coalesce(sum(spend.spend_gbp) filter (where spend.is_on_contract), 0) as on_contract_gbp,
               coalesce(sum(spend.spend_gbp) filter (where not spend.is_on_contract), 0) as off_contract_gbp,
               sum(spend.count_lines)::bigint as count_lines, max(spend.month) as last_month
        from mart_spend_by_supplier_month as spend
        join dim_councils as councils using (council_id)
        where spend.supplier_id = $supplier_id and spend.council_id in (select unnest($ids::varchar[]))
          and spend.month between $date_from and $date_to and (spend.is_addressable or not $addressable)
        group by councils.short_name, councils.sort_order
        order by councils.sort_order
        """,
        _spend_params(scope, supplier_id=supplier_id),
    )


def supplier_spend_by_month(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """One supplier's spend per council per month in the period (the shape of ``spend_by_council_month``)."""
    return _named(
        """
        select councils.short_name as council, spend.month, sum(spend.spend_gbp) as spend_gbp
        from mart_spend_by_supplier_month as spend
        join dim_councils as councils using (council_id)
        where spend.supplier_id = $supplier_id and spend.council_id in (select unnest($ids::varchar[]))
          and spend.month between $date_from and $date_to and (spend.is_addressable or not $addressable)
        group by councils.short_name, councils.sort_order, spend.month
        order by spend.month, councils.sort_order
        """,
        _spend_params(scope, supplier_id=supplier_id),
    )


def supplier_contracts(scope: Scope, supplier_id: str, today: dt.date | None = None) -> pd.DataFrame:
    """Contracts with a supplier held by councils of the scope (own, or STAR ones covering them)."""
    return _named(
        f"""
        select contract_title, owner_name as council, {_COVERS.format(t="")} as covers, {_CONTRACT_STATUS} as status,
               value_gbp, end_date, max_end_date,
               start_date, category, contract_ref, contract_id
        from mart_pipeline_by_contract
        where supplier_id = $supplier_id and len(list_intersect(covered_council_ids, $ids::varchar[])) > 0
        order by max_end_date desc, value_gbp desc
        """,
        {"ids": scope.council_ids, "supplier_id": supplier_id, "today": _today(today)},
    )


def supplier_payments(scope: Scope, supplier_id: str, limit: int = 500) -> pd.DataFrame | None:
    """The latest payment lines to a supplier in the period; ``None`` for a role without line detail."""
    if not (scope.user.can("line_detail") and scope.user.can("redacted_detail")):
        return None
    return _named(
        """
        select councils.short_name as council, lines.payment_date, lines.amount_gbp, lines.is_on_contract,
               lines.contract_id, lines.department, lines.purpose, lines.transaction_number,
               lines.source_file, lines.source_row
        from mart_supplier_payments_by_line as lines
        join dim_councils as councils using (council_id)
        where lines.supplier_id = $supplier_id and lines.council_id in (select unnest($ids::varchar[]))
          and lines.payment_date between $date_from and $date_to and (lines.is_addressable or not $addressable)
          and not lines.is_redacted
        order by lines.payment_date desc, lines.amount_gbp desc
        limit $limit
        """,
        _spend_params(scope, supplier_id=supplier_id, limit=limit),
    )


def contract_profile(scope: Scope, contract_id: str, today: dt.date | None = None) -> dict | None:
    """One contract as the pipeline sees it (due date, start-by, RAG), whatever its end date, with
    spend against it to date by the councils of the scope; ``None`` when it covers none of them."""
    frame = _named(
        _PIPELINE_SQL.format(contracts="c.contract_id = $contract_id")
        + f"""
        select pipeline.* exclude (covered_council_ids, owner_label), {_COVERS.format(t="pipeline.")} as covers,
               {_CONTRACT_STATUS} as status,
               (select coalesce(sum(spend_gbp), 0) from mart_spend_by_contract_month as spend
                where spend.contract_id = $contract_id
                  and spend.council_id in (select unnest($ids::varchar[]))) as spend_to_date_gbp,
               (select max(last_payment_date) from mart_spend_by_contract_month as spend
                where spend.contract_id = $contract_id
                  and spend.council_id in (select unnest($ids::varchar[]))) as last_payment_date
        from pipeline
        """,
        _pipeline_params(scope, today, contract_id=contract_id),
    )
    return _first_row(frame)


def contract_spend_by_month(scope: Scope, contract_id: str) -> pd.DataFrame:
    """Spend against a contract per council of the scope per month, over its whole term."""
    return _named(
        """
        select councils.short_name as council, spend.month, spend.spend_gbp
        from mart_spend_by_contract_month as spend
        join dim_councils as councils using (council_id)
        where spend.contract_id = $contract_id and spend.council_id in (select unnest($ids::varchar[]))
        order by spend.month, councils.sort_order
        """,
        {"ids": scope.council_ids, "contract_id": contract_id},
    )


def category_suppliers(scope: Scope, category: str, today: dt.date | None = None) -> pd.DataFrame:
    """A category's suppliers in the period, ranked by spend: how many councils of the scope pay each
    and how many of those hold a live contract with it, then per council its spend and contract."""
    councils = _councils_in(scope)
    long = _named(
        """
        with
        spend as (
            select council_id, supplier_id, sum(spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month
            where category = $category and council_id in (select unnest($ids::varchar[]))
              and month between $date_from and $date_to and (is_addressable or not $addressable)
            group by all
            having sum(spend_gbp) > 0
        ),
        held as (
            select supplier_id, council_id,
                   max(case when end_date >= $today then end_date else max_end_date end) as contract_end_date,
                   bool_and(is_collaborative) as only_star
            from (select supplier_id, unnest(covered_council_ids) as council_id, is_collaborative, end_date, max_end_date
                  from mart_pipeline_by_contract
                  where start_date <= $today and max_end_date >= $today)
            group by all
        ),
        suppliers as (
            select spend.supplier_id, any_value(names.supplier_name) as supplier_name, count(*) as count_councils,
                   sum(spend.spend_gbp) as spend_gbp, count(held.council_id) as count_councils_with_contract
            from spend
            join dim_suppliers as names using (supplier_id)
            left join held using (supplier_id, council_id)
            group by spend.supplier_id
        )
        select suppliers.*, spend.council_id, spend.spend_gbp as council_spend_gbp, held.contract_end_date, held.only_star
        from suppliers
        join spend using (supplier_id)
        left join held using (supplier_id, council_id)
        order by suppliers.spend_gbp desc, suppliers.supplier_name
        """,
        _spend_params(scope, category=category, today=_today(today)),
    )
    long["contract"] = [_contract_text(e, s) for e, s in zip(long["contract_end_date"], long["only_star"], strict=True)]
    return _wide(
        long,
        ["supplier_id", "supplier_name", "count_councils", "count_councils_with_contract", "spend_gbp"],
        councils,
        {"council_spend_gbp": "spend_gbp", "contract": "contract"},
        fill={"spend_gbp": 0.0, "contract": ""},
    )


def pipeline_notice_years(today: dt.date | None = None) -> list[str]:
    """Financial years a pipeline notice can be prepared for: the current one and the next."""
    from starviz.scope import financial_year

    current = financial_year(_today(today))
    return [current, financial_year(add_months(fy_bounds(current)[1], 1))]


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


_reference_cache: dict[tuple, object] = {}


def _reference(name: str, fetch):
    """A small lookup (councils' names and order) kept until the database file is replaced, even
    with the answer cache off."""
    key = (_open()[0], name)
    if key not in _reference_cache:
        if len(_reference_cache) > 32:  # old databases' entries
            _reference_cache.clear()
        _reference_cache[key] = fetch()
    return _reference_cache[key]


def _lookup(template: str | None, column: str) -> str:
    return "null" if template is None else template.format(k=column)


def _council_names() -> tuple[dict, dict]:
    rows = _rows("select council_id, short_name, sort_order from dim_councils")
    return {("council", k): n for k, n, _ in rows}, {("council", k): int(r) for k, _, r in rows}


def _names(dimension: str, keys) -> tuple[dict, dict]:
    """Display names and configured positions of some keys of a dimension (councils, suppliers)."""
    spec = _DIMS[dimension]
    keys = [k for k in keys if k]
    if spec.name is None or not keys:
        return {}, {}
    if dimension == "council":
        names, ranks = _reference("council names", _council_names)
        return dict(names), dict(ranks)  # the kept lookups stay as they are
    frame = _query(
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
        sums = _rows(
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
            counts = _rows(
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
            bucketed = _rows(
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
        _query(
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
        return _query(
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
    measures = (
        "count(distinct m.supplier_id) as count_suppliers"
        if distinct
        else "sum(m.spend_gbp) as spend_gbp, sum(m.count_lines) as count_lines, "
        "sum(m.spend_gbp) / nullif(sum(m.count_lines), 0) as avg_line_gbp"
    )
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
    table = _cube_table(*(c.dimension for c in criteria), scope=scope)
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
    row = (
        _query(
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
]


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
    for dimension, table, column, name in (
        ("council", "dim_councils", "council_id", "short_name"),
        ("supplier", "dim_suppliers", "supplier_id", "supplier_name"),
    ):
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


def cube_supplier_profile(scope: Scope, supplier_id: str) -> dict | None:
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


def cube_supplier_contracts(scope: Scope, supplier_id: str) -> pd.DataFrame:
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
