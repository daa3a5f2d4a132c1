"""The KPI page: the balanced scorecard, its trends and groupings."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config
from starviz.queries import db
from starviz.scope import Scope, add_months

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
        where (in_scope(kpis.council_id, ?) or kpis.is_shared_service)
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
            count(distinct kpis.council_id) filter (where kpis.value is not null) as count_reporting,
            list(distinct kpis.council_id order by kpis.council_id) filter (where kpis.value is not null) as reporters
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
            monthly.reporters,
            kpi_rag(monthly.value, monthly.target, labels.higher_is_better, labels.amber_tolerance) as rag
        from monthly
        join labels using (kpi_code, is_shared_service)
    )
"""


def kpi_as_at(scope: Scope) -> dt.date | None:
    """The latest month with KPI data in scope on or before the end of the period."""
    value = db.scalar(
        """
        select max(month) from mart_kpis_scorecard_by_month
        where (in_scope(council_id, ?) or is_shared_service) and month <= ?
        """,
        [scope.council_ids, scope.filters.date_to],
    )
    return value.date() if hasattr(value, "date") else value


def kpi_scorecard(scope: Scope, as_at: dt.date) -> pd.DataFrame:
    """One row per KPI at its latest month up to ``as_at``: value, target and RAG; the month before
    (value and RAG), the same month a quarter and a year earlier, and the last 13 months for a sparkline."""
    first = add_months(as_at, -13)
    return db.query(
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
        -- like with like: a month before is compared only when the same councils reported in both
        -- (a council reporting in one month only would move a total or an average by itself)
        select
            latest.* exclude (reporters),
            case when before.reporters = latest.reporters then before.value end as previous_value,
            before.rag as previous_rag,
            case when quarter_ago.reporters = latest.reporters then quarter_ago.value end as quarter_ago_value,
            case when year_ago.reporters = latest.reporters then year_ago.value end as year_ago_value,
            before.value is not null and before.reporters <> latest.reporters as previous_councils_differ,
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
    return db.query(
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
        return db.query(
            "select perspective as name, min(perspective_order) as sort_order from mart_kpis_scorecard_by_month "
            "group by all order by 2, 1"
        )
    if group_by == "objective":
        return db.query("select objective as name, sort_order, description from dim_rp_objectives order by sort_order")
    raise ValueError(f"unknown grouping {group_by!r}; one of {', '.join(KPI_GROUPINGS)}")
