-- One row per contract-letting council, set of councils covered and month: social value committed
-- on contracts starting that month (with their value), and social value delivered that month.
-- A table: the social value page reads it on every run.
-- key: council_id, covered_council_ids, month
create or replace table mart_social_value_by_month as

with

contracts as (
    select * from mart_social_value_by_contract
),

delivered as (
    select * from fct_social_value where record_type = 'delivered'
),

awarded as (
    select
        council_id,
        covered_council_ids,
        date_trunc('month', start_date)::date as month,
        sum(committed_gbp) as committed_gbp,
        sum(value_gbp) as awarded_value_gbp,
        count(*) as count_contracts_awarded,
        0 as delivered_gbp,
        0 as delivered_local_gbp
    from contracts
    group by all
),

delivery as (
    select
        contracts.council_id,
        contracts.covered_council_ids,
        date_trunc('month', delivered.period_date)::date as month,
        0 as committed_gbp,
        0 as awarded_value_gbp,
        0 as count_contracts_awarded,
        sum(delivered.value_gbp) as delivered_gbp,
        coalesce(sum(delivered.value_gbp) filter (where delivered.is_local), 0) as delivered_local_gbp
    from delivered
    join contracts using (contract_id)
    group by all
),

both_kinds as (
    select * from awarded
    union all
    select * from delivery
)

select
    council_id,
    covered_council_ids,
    month,
    financial_year(month) as financial_year,
    sum(committed_gbp) as committed_gbp,
    sum(awarded_value_gbp) as awarded_value_gbp,
    sum(count_contracts_awarded) as count_contracts_awarded,
    sum(delivered_gbp) as delivered_gbp,
    sum(delivered_local_gbp) as delivered_local_gbp
from both_kinds
group by all
