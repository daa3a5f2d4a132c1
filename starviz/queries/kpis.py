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


# A KPI's total over a set of its rows (grouped, joined to ``labels``): a share computed from the data is
# recomputed from numerator and denominator, a percentage from an extract averaged, else added up;
# the same for the headline (every council reporting) and for a change (the councils in both months).
_TOTAL = """case when any_value(labels.unit) = 'percent'
                 then coalesce(100 * sum(kpis.numerator) / nullif(sum(kpis.denominator), 0), avg(kpis.value))
                 else sum(kpis.value) end"""
_TARGET = "case when any_value(labels.unit) = 'percent' then avg(kpis.target) else sum(kpis.target) end"

_KPI_SERIES = f"""
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
            {_TOTAL} as value,
            {_TARGET} as target,
            count(distinct kpis.council_id) filter (where kpis.value is not null) as count_reporting
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
    value = db.scalar(
        """
        select max(month) from mart_kpis_scorecard_by_month
        where (in_scope(council_id, ?) or is_shared_service) and month <= ?
        """,
        [scope.council_ids, scope.filters.date_to],
    )
    return value.date() if hasattr(value, "date") else value


# The months a change compares the latest month with, by the name of its columns.
COMPARISONS = {"previous": 1, "quarter_ago": 3, "year_ago": 12}


def kpi_scorecard(scope: Scope, as_at: dt.date) -> pd.DataFrame:
    """One row per KPI at its latest month up to ``as_at``: value, target and RAG over every council
    reporting it, and the last 13 months for a sparkline. Changes compare like with like: for the
    month before, a quarter and a year earlier (``<c>`` = previous, quarter_ago, year_ago), over the
    councils that reported the KPI in both months, ``<c>_value`` (then) and ``<c>_like_value`` (now,
    equal to ``value`` when the councils are the same; ``<c>_like_target`` its target), their RAGs
    (``previous_rag``, ``previous_like_rag``), ``<c>_common`` (the councils compared) and ``<c>_only_now`` /
    ``<c>_only_then`` (the councils left out, by the month they reported in). No council in both
    months: ``<c>_value`` is null and the change is not shown."""
    first = add_months(as_at, -13)
    wide = ",\n".join(
        f"any_value({field}) filter (where comparison = '{c}') as {c}_{name}"
        for c in COMPARISONS
        for field, name in (
            ("then_value", "value"),
            ("now_value", "like_value"),
            ("then_rag", "rag"),
            ("now_rag", "like_rag"),
            ("now_target", "like_target"),
            ("common", "common"),
            ("only_now", "only_now"),
            ("only_then", "only_then"),
        )
    )
    comparisons = ", ".join(f"('{c}', {n})" for c, n in COMPARISONS.items())
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
        ),
        comparisons(comparison, months_back) as (values {comparisons}),
        sides as (
            -- each council reporting the KPI in its latest month or the month compared, which of the
            -- two, and whether it reported in both
            select
                comparisons.comparison,
                kpis.*,
                kpis.month = latest.month as is_now,
                count(*) over (partition by kpis.kpi_code, kpis.is_shared_service, comparisons.comparison,
                                            kpis.council_id) = 2 as in_both
            from latest
            cross join comparisons
            join kpis
                on kpis.kpi_code = latest.kpi_code and kpis.is_shared_service = latest.is_shared_service
                and kpis.month in (latest.month, (latest.month - to_months(comparisons.months_back))::date)
                and kpis.value is not null
        ),
        like_for_like as (
            -- the KPI over the councils in both months, with its own total, target and RAG
            select kpis.kpi_code, kpis.is_shared_service, kpis.comparison, kpis.is_now,
                   {_TOTAL} as value,
                   {_TARGET} as target,
                   any_value(labels.higher_is_better) as higher_is_better,
                   any_value(labels.amber_tolerance) as amber_tolerance
            from sides as kpis
            join labels using (kpi_code, is_shared_service)
            where kpis.in_both
            group by kpis.kpi_code, kpis.is_shared_service, kpis.comparison, kpis.is_now
        ),
        compared as (
            select
                sides.kpi_code,
                sides.is_shared_service,
                sides.comparison,
                any_value(then_.value) as then_value,
                any_value(now_.value) as now_value,
                any_value(now_.target) as now_target,
                any_value(kpi_rag(then_.value, then_.target, then_.higher_is_better, then_.amber_tolerance)) as then_rag,
                any_value(kpi_rag(now_.value, now_.target, now_.higher_is_better, now_.amber_tolerance)) as now_rag,
                coalesce(list(distinct sides.short_name order by sides.short_name) filter (where sides.in_both), [])
                    as common,
                coalesce(list(distinct sides.short_name order by sides.short_name)
                         filter (where sides.is_now and not sides.in_both), []) as only_now,
                coalesce(list(distinct sides.short_name order by sides.short_name)
                         filter (where not sides.is_now and not sides.in_both), []) as only_then
            from sides
            left join like_for_like as then_
                on then_.kpi_code = sides.kpi_code and then_.is_shared_service = sides.is_shared_service
                and then_.comparison = sides.comparison and not then_.is_now
            left join like_for_like as now_
                on now_.kpi_code = sides.kpi_code and now_.is_shared_service = sides.is_shared_service
                and now_.comparison = sides.comparison and now_.is_now
            group by sides.kpi_code, sides.is_shared_service, sides.comparison
        ),
        changes as (
            select kpi_code, is_shared_service,
                {wide}
            from compared
            group by kpi_code, is_shared_service
        )
        select
            latest.*,
            changes.* exclude (kpi_code, is_shared_service),
            trends.trend
        from latest
        left join changes
            on changes.kpi_code = latest.kpi_code and changes.is_shared_service = latest.is_shared_service
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
