"""The social value page: committed and delivered social value by council, theme, quarter and contract."""

from __future__ import annotations

import pandas as pd

from starviz import config
from starviz.queries import db
from starviz.queries.overview import period_fy, social_value_target
from starviz.scope import Scope, add_months, month_end, month_start

# --- social value (issue 6) ----------------------------------------------------------------------
# A contract's social value counts for the councils it covers (its own council, or every council a
# STAR collaborative contract names). Committed and delivered are separate series. Percentages are
# of the value of contracts carrying social value measures; coverage says how many contracts do.

_IN_COVER = "covers_scope(covered_council_ids, ?)"


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
        db.query(
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
        db.query(
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
        db.query(
            f"""
        select
            count(*) filter (where owner_has_returns) as count_over_threshold,
            count(*) filter (where has_measures) as count_with_measures,
            count(*) filter (where has_measures) / nullif(count(*) filter (where owner_has_returns), 0) as coverage_share,
            avg(sv_weighting_share) as avg_weighting_share,
            -- owners whose contracts coverage leaves out: no social value returns of their own loaded
            list(distinct councils.short_name order by councils.short_name)
                filter (where not owner_has_returns) as coverage_not_reporting
        from mart_social_value_coverage_by_contract
        join dim_councils as councils using (council_id)
        where {_IN_COVER} and start_date between ? and ? and value_gbp > ?
        """,
            [ids, start, end, s.social_value_coverage_threshold_gbp],
        )
        .iloc[0]
        .to_dict()
    )
    sql, params = _sv_delivery_sql(scope)
    out |= (
        db.query(
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
    out["has_data"] = bool(
        db.scalar(
            "select coalesce(bool_or(has_data), false) from mart_measure_coverage_by_council "
            "where measure = 'social_value' and in_scope(council_id, ?)",
            [ids],
        )
    )
    if not out["has_data"]:  # no council in scope has sent social value returns: no data, not £0 and 0 of 0
        for key in (
            "delivered_in_period_gbp",
            "count_in_delivery",
            "count_at_risk",
            "committed_at_risk_gbp",
            "shortfall_at_risk_gbp",
        ):
            out[key] = None
    out["coverage_not_reporting"] = list(out.get("coverage_not_reporting") or [])
    # returns naming contracts in no register loaded: in no figure above, said on the page
    out["unmatched_returns"] = db.query(
        """
        select councils.short_name as council, unmatched.count_contracts, unmatched.committed_gbp
        from mart_social_value_unmatched_by_council as unmatched
        join dim_councils as councils using (council_id)
        where in_scope(unmatched.council_id, ?)
        order by councils.sort_order
        """,
        [ids],
    )
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
        return db.query(
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
    return db.query(
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
    latest = db.scalar(
        f"select max(month) from mart_social_value_by_month where {_IN_COVER} and month <= ?",
        [scope.council_ids, s.plausibility.window()[1]],
    )
    if latest is None:
        return pd.DataFrame(
            columns=["quarter", "label", "committed_gbp", "awarded_value_gbp", "delivered_gbp", "target_share", "target_gbp"]
        )
    end = min(scope.filters.date_to, month_end(latest))
    first = add_months(month_start(end), -((end.month - 1) % 3) - 3 * (s.social_value_trend_quarters - 1))
    targets, target_params = _sv_targets()
    return db.query(
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
            where covers_scope(covered_council_ids, ?)
              and start_date <= ? and end_date >= ?
              and (as_at_date is null or as_at_date >= start_date)
        ),
        spend as (
            select contract_id, sum(spend_to_date_gbp) as spend_to_date_gbp
            from mart_spend_by_contract_council
            where in_scope(council_id, ?)
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
    return db.query(
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
