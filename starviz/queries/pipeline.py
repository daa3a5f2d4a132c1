"""The contract pipeline page and its monthly exception reports."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config, nodata, rules
from starviz.queries.common import _COVERS, _NARROW_CATEGORY, ListFilter, _named, _today, sql_file
from starviz.queries.reference import measure_coverage
from starviz.scope import Scope, add_months, fy_bounds, month_end, month_start

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
    where covers_scope(c.covered_council_ids, $ids) and {contracts}
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
    """Per bucket (every bucket, in order): contracts, value, and how many are late or due to start;
    all None ("no data") when no council in scope has contracts of its own loaded."""
    frame = _named(
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
    if nodata.covered(measure_coverage(scope), "contracts").none:  # no register loaded: not 0 contracts
        frame[["count_contracts", "value_gbp", "count_late", "count_due"]] = None
    return frame


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
        sql_file("annual_spend_by_council"),
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
        where covers_scope(covered_council_ids, $qualifying)
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


# -- Procurement Act 2023 notices: expected against published (docs/PROCUREMENT-ACT.md)


def _act_params(scope: Scope, today: dt.date | None) -> dict:
    s = config.settings()
    n = s.notices
    return {
        "ids": scope.council_ids,
        "today": _today(today),
        "act_from": n.act_from,
        "spend_gbp": s.pipeline.procurement_act_annual_spend_gbp,
        "pipeline_days": n.pipeline_notice_days,
        "details_min_gbp": n.contract_details_min_gbp,
        "details_days": n.contract_details_days,
        "performance_gbp": n.performance_contract_gbp,
        "performance_months": n.performance_interval_months,
        "termination_days": n.termination_notice_days,
    }


def act_notice_duties(scope: Scope, today: dt.date | None = None, statuses: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every notice the Procurement Act 2023 expects of the councils of the scope (pipeline, contract
    details, contract performance, contract termination), its due date, the notice published for it
    and its status: on time, late, missing, or not yet due (only ``statuses`` when given)."""
    duties = sql_file("act_notice_duties")
    if not statuses:
        return _named(duties, _act_params(scope, today))
    return _named(
        f"select * from ({duties}) where list_contains($statuses, notice_status)",
        {**_act_params(scope, today), "statuses": list(statuses)},
    )


def act_compliance(scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """Per council, financial year and notice type: notices the Act expected by today, published on
    time, late, missing, and those not yet due."""
    duties = sql_file("act_notice_duties")
    return _named(
        f"""
        select council, financial_year, notice_type, any_value(types.name) as notice_name,
               count(*) filter (where notice_status <> 'not yet due') as count_expected,
               count(*) filter (where notice_status in ('on time', 'late')) as count_published,
               count(*) filter (where notice_status = 'on time') as count_on_time,
               count(*) filter (where notice_status = 'late') as count_late,
               count(*) filter (where notice_status = 'missing') as count_missing,
               count(*) filter (where notice_status = 'not yet due') as count_not_yet_due,
               count(*) filter (where notice_status in ('on time', 'late'))
                   / nullif(count(*) filter (where notice_status <> 'not yet due'), 0) as published_share,
               min(sort_order) as sort_order
        from ({duties}) as duties
        join (select short_name as council, sort_order from dim_councils) using (council)
        left join ref_notice_types as types using (notice_type)
        group by council, financial_year, notice_type
        order by min(sort_order), financial_year, min(try_cast(substr(notice_type, 3) as integer))
        """,
        _act_params(scope, today),
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
               max(expired.last_payment_date) as last_payment_date,
               arg_max(expired.last_payment_precision, expired.last_payment_date) as last_payment_precision,
               expired.council_id, expired.supplier_id,
               expired.contract_id
        from mart_expired_contract_spend_by_month as expired
        join mart_pipeline_by_contract as contracts using (contract_id)
        join dim_councils as councils on councils.council_id = expired.council_id
        left join dim_suppliers as suppliers on suppliers.supplier_id = expired.supplier_id
        where in_scope(expired.council_id, $ids) and expired.month = $month
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
            where in_scope(council_id, $ids) and month between $window_start and $month
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


# Lines whose file gives only the month (date_precision 'month', kept as the 1st) are compared by
# month: only whole months inside the window (a 30-day window: the same month), so "Sep 2014" and
# "Oct 2014" are not taken to be 30 days apart.
_SPLIT_MEMBERS = """
with
thresholds as (select unnest($thresholds::double[]) as threshold_gbp),
lines as (
    select lines.*, thresholds.threshold_gbp
    from mart_supplier_payments_by_line as lines
    join thresholds
        on lines.amount_gbp >= thresholds.threshold_gbp * (1 - $below_share) and lines.amount_gbp < thresholds.threshold_gbp
    where in_scope(lines.council_id, $ids) and not lines.is_on_contract
      and lines.payment_date between $window_start and $month_end and (lines.is_addressable or not $addressable)
      and not lines.is_redacted
),
anchors as (
    -- a line of the month closing a window holding enough lines just under one threshold
    select a.council_id, a.supplier_id, a.threshold_gbp, a.payment_date as anchor_date,
           a.date_precision as anchor_precision, a.month as anchor_month
    from lines as a
    join lines as b
        on b.council_id = a.council_id and b.supplier_id = a.supplier_id and b.threshold_gbp = a.threshold_gbp
        and case when a.date_precision = 'month' or b.date_precision = 'month'
             then date_diff('month', b.month, a.month) between 0 and $window_days::integer // 31
             else b.payment_date between a.payment_date - $window_days::integer and a.payment_date end
    where a.payment_date >= $month
    group by a.line_id, a.council_id, a.supplier_id, a.threshold_gbp, a.payment_date, a.date_precision, a.month
    having count(*) >= $min_lines
),
members as (
    select distinct b.*
    from anchors as a
    join lines as b
        on b.council_id = a.council_id and b.supplier_id = a.supplier_id and b.threshold_gbp = a.threshold_gbp
        and case when a.anchor_precision = 'month' or b.date_precision = 'month'
                 then date_diff('month', b.month, a.anchor_month) between 0 and $window_days::integer // 31
                 else b.payment_date between a.anchor_date - $window_days::integer and a.anchor_date end
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
            where covers_scope(covered_council_ids, $ids)
              and start_date <= $started_by and max_end_date >= $month
        ),
        spend as (
            select distinct contract_id from mart_spend_by_contract_month
            where in_scope(council_id, $ids) and month <= $month
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
        sql_file("contracts_missing_fields"),
        _month_params(scope, month, narrow, min_value=s.exceptions.transparency_contract_min_gbp),
    )
