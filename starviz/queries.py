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
    return (f"coalesce((select target_share from sv_targets t where t.financial_year = {column}), "
            "(select target_share from sv_default))")


def social_value_rules() -> dict:
    """The configured rules the social value page explains: expected curve, at-risk share, grace, coverage."""
    s = config.settings()
    return {"curve_exponent": s.social_value_curve_exponent, "at_risk_share": s.social_value_at_risk_share,
            "grace_months": s.social_value_grace_months,
            "coverage_threshold_gbp": s.social_value_coverage_threshold_gbp}


def social_value_summary(scope: Scope) -> dict:
    """The page's headline figures for contracts starting in the period (committed, delivered to date,
    target weighted by each financial year's target), social value delivered in the period and its
    local share, and coverage of contracts over the configured threshold."""
    s = config.settings()
    ids, start, end = scope.council_ids, scope.filters.date_from, scope.filters.date_to
    targets, target_params = _sv_targets()
    out = _query(
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
            sum(value_gbp * {_sv_target_of('cohort.financial_year')}) / nullif(sum(value_gbp), 0) as target_share
        from cohort
        """,
        [*target_params, ids, start, end],
    ).iloc[0].to_dict()
    out |= _query(
        f"""
        select
            coalesce(sum(delivered_gbp), 0) as delivered_in_period_gbp,
            sum(delivered_local_gbp) / nullif(sum(delivered_gbp), 0) as delivered_local_share
        from mart_social_value_by_month
        where {_IN_COVER} and month between date_trunc('month', ?::date) and ?
        """,
        [ids, start, end],
    ).iloc[0].to_dict()
    out |= _query(
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
    ).iloc[0].to_dict()
    sql, params = _sv_delivery_sql(scope)
    out |= _query(
        f"""
        select
            count(*) as count_in_delivery,
            count(*) filter (where is_at_risk) as count_at_risk,
            coalesce(sum(committed_gbp) filter (where is_at_risk), 0) as committed_at_risk_gbp,
            coalesce(sum(shortfall_gbp) filter (where is_at_risk), 0) as shortfall_at_risk_gbp
        from ({sql})
        """,
        params,
    ).iloc[0].to_dict()
    if out["target_share"] is None or pd.isna(out["target_share"]):  # no contracts: the target of the period's end
        out["target_share"] = social_value_target(period_fy(scope)) if scope.filters.period != "all" else (
            s.social_value_target_share)
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
            cohort + f"""
            , themes as (
                select * from mart_social_value_by_contract_theme
                where contract_id in (select contract_id from cohort)
            ),
            total as (
                select sum(value_gbp) as value_gbp, sum(value_gbp * {_sv_target_of('cohort.financial_year')})
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
        cohort + f"""
        select
            {label} as name,
            count(*) as count_contracts,
            sum(cohort.value_gbp) as value_gbp,
            sum(cohort.committed_gbp) as committed_gbp,
            sum(cohort.committed_gbp) / nullif(sum(cohort.value_gbp), 0) as committed_share,
            sum(cohort.delivered_gbp) as delivered_gbp,
            sum(cohort.delivered_gbp) / nullif(sum(cohort.value_gbp), 0) as delivered_share,
            sum(cohort.delivered_local_gbp) / nullif(sum(cohort.delivered_gbp), 0) as delivered_local_share,
            sum(cohort.value_gbp * {_sv_target_of('cohort.financial_year')}) / nullif(sum(cohort.value_gbp), 0)
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
        return pd.DataFrame(columns=["quarter", "label", "committed_gbp", "awarded_value_gbp", "delivered_gbp",
                                     "target_share", "target_gbp"])
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
            {_sv_target_of('financial_year(spine.quarter)')} as target_share,
            coalesce(quarters.awarded_value_gbp, 0) * {_sv_target_of('financial_year(spine.quarter)')} as target_gbp
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
    return sql, [ids, scope.filters.date_to, scope.filters.date_from, ids, s.social_value_curve_exponent,
                 s.social_value_grace_months, s.social_value_at_risk_share]


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
    return (f"({column} in (select unnest(?::varchar[])) "
            f"or (? and {column} in (select council_id from dim_councils where not is_council)))")


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
    rows = sorted(zip(frame["dataset"], frame["is_monthly"].astype(bool), strict=True),
                  key=lambda r: (not r[1], order.get(r[0], len(order))))
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
        return pd.DataFrame(columns=["council", "dataset", "source_file", "source_row", "column_name", "value",
                                     "reason", "severity"])
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
    return int(_scalar(
        f"select count(*) from mart_rejects_by_row where {_in_scope()} and severity in (select unnest(?::varchar[]))",
        [*_quality_params(scope), severities],
    ))


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
            f"where count_rows > 0 and {_in_scope()}", params),
        "suppliers": _query(
            f"""select s.supplier_id, s.supplier_name, list_sort(list(distinct n.council_id)) as council_ids
                from dim_suppliers s join map_supplier_names n using (supplier_id)
                where {_in_scope("n.council_id")}
                group by s.supplier_id, s.supplier_name""", params),
        "contracts": _query(
            f"select contract_id, council_id, contract_title, supplier_name, value_gbp, start_date, end_date "
            f"from mart_contracts where {_in_scope()}", params),
        "files": _query(
            f"select council_id, dataset, source_file, status, message, rows_read, rows_loaded, rows_rejected, "
            f"first_date, last_date from mart_rows_by_file where {_in_scope()}", params),
        "councils": _query(f"select council_id, short_name from dim_councils where {_in_scope()} order by sort_order",
                           params),
    }
