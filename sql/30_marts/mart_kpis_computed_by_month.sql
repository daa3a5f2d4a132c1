-- One row per KPI computed from the data (not reported in an extract) per council per month:
-- on-contract, local and SME shares of addressable spend, and social value committed over the
-- last 12 months, with numerator and denominator so that councils can be added up exactly.
-- A council-month whose data does not say (no contracts loaded, no supplier flag known, no contract
-- with social value awarded in the 12 months: known_share's rule) has a row with no value, numerator
-- or denominator: "no data", no RAG, added to no total.
-- Names, perspectives and targets come from data/reference/kpi_computed.csv.
-- key: council_id, kpi_code, month
create or replace view mart_kpis_computed_by_month as

with

definitions as (
    select
        upper(trim(kpi_code)) as kpi_code,
        trim(measure) as measure,
        kpi_name,
        perspective,
        lower(trim(unit)) as unit,
        coalesce(upper(trim(higher_is_better)) in ('Y', 'YES', 'TRUE', '1'), true) as higher_is_better,
        try_cast(nullif(trim(target), '') as double) as target
    from ref_kpi_computed
),

month_slices as (
    -- each supplier's month apart: the supplier key carries the month, so supplier_net_spend nets
    -- credits against the same supplier within the month
    select council_id, month, strftime(month, '%Y-%m') || '|' || coalesce(supplier_id, '') as supplier_id,
           is_on_contract, is_local, is_sme, spend_gbp
    from mart_share_basis_by_supplier_month
    where is_addressable
),

spend as (
    -- shares of addressable spend over the month's supplier nets (supplier_net_spend.sql: a supplier
    -- netting to nothing or less is left out of both): numerator and denominator null where there is
    -- no data
    select
        council_id,
        month,
        share_part(is_on_contract, spend_gbp) as on_contract_part,
        share_base(is_on_contract, spend_gbp) as on_contract_base,
        share_part(is_local, spend_gbp) as local_part,
        share_base(is_local, spend_gbp) as local_base,
        share_part(is_sme, spend_gbp) as sme_part,
        share_base(is_sme, spend_gbp) as sme_base
    from supplier_net_spend(month_slices)
    group by all
),

spend_measures as (
    select council_id, month, 'on_contract' as measure, on_contract_part as numerator, on_contract_base as denominator
    from spend
    union all
    select council_id, month, 'local', local_part, local_base from spend
    union all
    select council_id, month, 'sme', sme_part, sme_base from spend
),

months as (
    -- each council's months of spend: a month without awards in the 12 months before has no data
    select distinct council_id, month from mart_spend_by_council_month
),

awards as (
    select council_id, month, sum(committed_gbp) as committed_gbp, sum(awarded_value_gbp) as awarded_value_gbp
    from mart_social_value_by_month
    group by all
),

rolling_awards as (
    select
        months.council_id,
        months.month,
        'social_value_committed' as measure,
        sum(awards.committed_gbp) as numerator,
        nullif(sum(awards.awarded_value_gbp), 0) as denominator
    from months
    left join awards
        on awards.council_id = months.council_id
        and awards.month > months.month - interval 12 month
        and awards.month <= months.month
    group by all
),

measured as (
    select * from spend_measures
    union all
    select * from rolling_awards
),

social_value_targets as (
    select
        financial_year,
        value as target_share
    from cfg_targets
    where name = 'social_value_share'
),

thresholds as (
    select value as amber_tolerance from cfg_thresholds where name = 'kpi_rag_amber_tolerance'
),

valued as (
    select
        measured.council_id,
        definitions.kpi_code,
        definitions.kpi_name,
        definitions.perspective,
        definitions.unit,
        definitions.higher_is_better,
        measured.month,
        measured.numerator::double as numerator,
        measured.denominator::double as denominator,
        100 * measured.numerator::double / nullif(measured.denominator::double, 0) as value,
        coalesce(
            definitions.target,
            case when definitions.measure = 'social_value_committed'
                then 100 * coalesce(by_year.target_share, by_default.target_share) end
        ) as target
    from measured
    join definitions using (measure)
    left join social_value_targets as by_year on by_year.financial_year = financial_year(measured.month)
    left join social_value_targets as by_default on by_default.financial_year is null
    where measured.denominator > 0 or measured.denominator is null
)

select
    valued.*,
    financial_year(valued.month) as financial_year,
    kpi_rag(valued.value, valued.target, valued.higher_is_better, thresholds.amber_tolerance) as rag
from valued
cross join thresholds
