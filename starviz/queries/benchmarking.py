"""The benchmarking page: each measure by council, category mix, coverage."""

from __future__ import annotations

import pandas as pd

from starviz import config
from starviz.fmt import gbp
from starviz.nodata import missing
from starviz.queries import db
from starviz.queries.overview import comparison_windows
from starviz.queries.spend import _where
from starviz.scope import Scope, month_start, months_between

# --- benchmarking ----------------------------------------------------------------------------------


def benchmark_definitions() -> pd.DataFrame:
    """The benchmarking measures in order: label, unit, which direction is better, any threshold."""
    return db.query("select * from dim_benchmark_measures order by sort_order")


def benchmark_by_council(scope: Scope, top_suppliers: int | None = None) -> pd.DataFrame:
    """One row per council in scope: spend and spend per resident (population from the council's
    configuration), on-contract, local, SME and VCSE shares (with the share where the flag is known;
    a share is null, "no data", where its flag is known for none of the spend: ``known_share``),
    supplier concentration (top-N share and HHI of supplier-identified spend), number of suppliers,
    average line value and the share of payment lines under the small-line threshold. The last five
    depend on which lines a council publishes: they count, for every council, the lines of the
    highest publication threshold among those compared and over (``line_floor_gbp``; each council's
    own in ``publishes_from_gbp``, from ``dim_spend_publication``)."""
    where, params = _where(scope)
    top = top_suppliers or config.settings().benchmark_top_suppliers
    return db.query(
        f"""
        with
        cube as (
            select * from mart_spend_cube_summary where {where}
        ),
        basis as (
            select council_id, supplier_id, is_addressable, is_on_contract, is_local, is_sme, is_vcse, spend_gbp
            from mart_share_basis_by_supplier_month where {where}
        ),
        shares as (
            -- netted per supplier over the period; a supplier netting to nothing or less left out of
            -- both parts of a share (known_share.sql)
            select
                council_id,
                known_share(is_on_contract, spend_gbp) as on_contract_share,
                known_share(is_local, spend_gbp) as local_share,
                flag_known_share(is_local, spend_gbp) as local_known_share,
                known_share(is_sme, spend_gbp) as sme_share,
                flag_known_share(is_sme, spend_gbp) as sme_known_share,
                known_share(is_vcse, spend_gbp) as vcse_share,
                flag_known_share(is_vcse, spend_gbp) as vcse_known_share,
                share_left_out(spend_gbp) as share_left_out_gbp
            from supplier_net_spend(basis)
            group by council_id
        ),
        totals as (
            select
                council_id,
                sum(spend_gbp) as spend_gbp,
                sum(count_lines) as count_lines,
                sum(count_small_lines) / nullif(sum(count_lines) - sum(count_credits), 0) as small_line_share
            from cube
            group by council_id
        ),
        -- like with like: line measures and supplier concentration over the lines every council
        -- compared publishes (those of the highest publication threshold among them and over; all
        -- lines when every one publishes all)
        line_floor as (
            select coalesce(max(publishes_from_gbp), 0) as floor_gbp
            from dim_spend_publication
            where council_id in (select council_id from totals)
        ),
        suppliers as (  -- supplier-identified spend, netted per supplier over the period
            select council_id, supplier_id, greatest(sum(spend_gbp), 0) as spend_gbp
            from mart_spend_by_supplier_month
            where {where} and (select floor_gbp from line_floor) = 0
            group by council_id, supplier_id
            union all
            select council_id, supplier_id, greatest(sum(spend_gbp), 0) as spend_gbp
            from mart_spend_lines_from_threshold_by_supplier_month
            where {where} and supplier_id is not null and floor_gbp = (select floor_gbp from line_floor)
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
        ),
        comparable as (
            select
                council_id,
                sum(spend_gbp) as spend_gbp,
                sum(count_lines) as count_lines,
                sum(count_small_lines) as count_small_lines,
                count(distinct supplier_id) as count_suppliers
            from mart_spend_lines_from_threshold_by_supplier_month
            where {where} and floor_gbp = (select floor_gbp from line_floor)
            group by council_id
        ),
        lines as (
            select
                totals.council_id,
                line_floor.floor_gbp as line_floor_gbp,
                publication.publishes_from_gbp,
                case when line_floor.floor_gbp > 0
                     then comparable.spend_gbp / nullif(comparable.count_lines, 0)
                     else totals.spend_gbp / nullif(totals.count_lines, 0) end as avg_line_gbp,
                case when line_floor.floor_gbp > 0
                     then comparable.count_small_lines / nullif(comparable.count_lines, 0)
                     else totals.small_line_share end as small_line_share,
                case when line_floor.floor_gbp > 0
                     then coalesce(comparable.count_suppliers, 0)
                     else coalesce(concentration.count_suppliers, 0) end as count_suppliers
            from totals
            cross join line_floor
            left join comparable using (council_id)
            left join concentration using (council_id)
            left join dim_spend_publication as publication using (council_id)
        )
        select
            c.council_id, c.short_name as council, c.population,
            totals.* exclude (council_id, small_line_share),
            shares.* exclude (council_id),
            totals.spend_gbp / c.population as spend_per_head_gbp,
            lines.avg_line_gbp,
            lines.small_line_share,
            lines.count_suppliers,
            concentration.top10_share,
            concentration.hhi,
            lines.line_floor_gbp,
            lines.publishes_from_gbp
        from dim_councils c
        join totals using (council_id)
        join lines using (council_id)
        left join shares using (council_id)
        left join concentration using (council_id)
        order by c.sort_order
        """,
        [*params, *params, *params, *params, top, *params],
    )


def category_mix_by_council(scope: Scope, categories: int | None = None) -> pd.DataFrame:
    """Each council's spend by category as shares of its own spend: the largest categories across the
    councils in scope, the rest as "Other categories". Credits are netted within their category; a
    category netting to nothing or less for a council in the period is left out of that council's mix
    (as a supplier netting to nothing or less is left out of a share), so every share is between 0 and 1."""
    where, params = _where(scope)
    return db.query(
        f"""
        with
        spend as (
            select council_id, category, sum(spend_gbp) as spend_gbp
            from mart_spend_cube_summary
            where {where}
            group by all
            having sum(spend_gbp) > 0
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
    start, end = comparison_windows(scope).window
    where, params = _where(scope, addressable=False)
    frame = db.query(
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
               coverage.first_month, coverage.last_month, coverage.categorised_share, coverage.matched_share,
               publication.publishes_from_gbp
        from dim_councils c
        left join coverage using (council_id)
        left join dim_spend_publication as publication using (council_id)
        where in_scope(c.council_id, ?)
        order by c.sort_order
        """,
        [*[scope.filters.addressable_only] * 4, *params, scope.council_ids],
    )
    frame.insert(2, "months_in_period", months_between(month_start(start), month_start(end)))
    frame["publishes"] = [
        None if missing(p) else f"lines of {gbp(float(p))} and over" if float(p) > 0 else "every line"
        for p in frame.pop("publishes_from_gbp")
    ]
    return frame
