-- One row per contract with social value measures: contract value, committed and delivered £
-- (delivered to date, and by Greater Manchester organisations).
create or replace view mart_social_value_by_contract as

with

measures as (
    select * from fct_social_value
),

contracts as (
    select
        contract_id, council_id, covered_council_ids, contract_title, supplier_name, category,
        start_date, end_date, value_gbp
    from fct_contracts
),

totals as (
    select
        contract_id,
        sum(value_gbp) filter (where record_type = 'committed') as committed_gbp,
        sum(value_gbp) filter (where record_type = 'delivered') as delivered_gbp,
        sum(value_gbp) filter (where record_type = 'delivered' and is_local) as delivered_local_gbp,
        count(distinct measure_code) as count_measures
    from measures
    group by contract_id
)

select
    contracts.*,
    financial_year(contracts.start_date) as financial_year,
    coalesce(totals.committed_gbp, 0) as committed_gbp,
    coalesce(totals.delivered_gbp, 0) as delivered_gbp,
    coalesce(totals.delivered_local_gbp, 0) as delivered_local_gbp,
    totals.count_measures
from contracts
join totals using (contract_id)
