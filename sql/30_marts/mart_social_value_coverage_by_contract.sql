-- One row per contract in a register: its value, social value evaluation weighting, whether it
-- carries social value measures (for coverage of contracts over the configured threshold), and
-- whether its owner (the council or STAR) has sent social value returns at all: a contract of an
-- owner that has not is "no data" for coverage, not a contract without measures.
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
),

reporting as (
    select distinct council_id from fct_social_value
)

select
    contracts.*,
    financial_year(contracts.start_date) as financial_year,
    measured.contract_id is not null as has_measures,
    reporting.council_id is not null as owner_has_returns
from contracts
left join measured using (contract_id)
left join reporting using (council_id)
