-- One row per contract in a register: its value, social value evaluation weighting, and whether it
-- carries social value measures (for coverage of contracts over the configured threshold).
-- A table: the social value page reads it on every run.
-- key: contract_id
create or replace table mart_social_value_coverage_by_contract as

with

contracts as (
    select contract_id, council_id, covered_council_ids, start_date, value_gbp, sv_weighting_share
    from fct_contracts
),

measured as (
    select distinct contract_id from fct_social_value
)

select
    contracts.*,
    financial_year(contracts.start_date) as financial_year,
    measured.contract_id is not null as has_measures
from contracts
left join measured using (contract_id)
