-- One row per contract with social value measures: contract value, committed and delivered £
-- (delivered to date, and by Greater Manchester organisations), and where the contract stands in
-- its term at the latest delivery return of the council that let it (for the expected-delivery curve).
-- A table: the overview and every social value query read it.
-- key: contract_id
create or replace table mart_social_value_by_contract as

with

measures as (
    select * from fct_social_value
),

contracts as (
    select
        contract_id, council_id, covered_council_ids, contract_ref, contract_title, supplier_id, supplier_name,
        category, start_date, end_date, value_gbp
    from fct_contracts
),

totals as (
    select
        contract_id,
        sum(value_gbp) filter (where record_type = 'committed') as committed_gbp,
        sum(value_gbp) filter (where record_type = 'delivered') as delivered_gbp,
        sum(value_gbp) filter (where record_type = 'delivered' and is_local) as delivered_local_gbp,
        count(distinct measure_code) as count_measures,
        max(period_date) filter (where record_type = 'delivered') as last_delivery_date
    from measures
    group by contract_id
),

returns as (
    -- the latest delivery return of each council: "as at" for every contract it let
    select council_id, max(period_date) as as_at_date
    from measures
    where record_type = 'delivered'
    group by council_id
)

select
    contracts.*,
    financial_year(contracts.start_date) as financial_year,
    coalesce(totals.committed_gbp, 0) as committed_gbp,
    coalesce(totals.delivered_gbp, 0) as delivered_gbp,
    coalesce(totals.delivered_local_gbp, 0) as delivered_local_gbp,
    totals.count_measures,
    totals.last_delivery_date,
    returns.as_at_date,
    datediff('month', contracts.start_date, returns.as_at_date) as months_since_start,
    case
        when returns.as_at_date is null then null
        when returns.as_at_date <= contracts.start_date then 0.0
        when returns.as_at_date >= contracts.end_date then 1.0
        else datediff('day', contracts.start_date, returns.as_at_date)
            / datediff('day', contracts.start_date, contracts.end_date)
    end as elapsed_share
from contracts
join totals using (contract_id)
left join returns using (council_id)
