-- One row per social value measure per contract per period, committed or delivered, in £.
create or replace view fct_social_value as

select
    sv.*,
    financial_year(sv.period_date) as financial_year,
    contracts.contract_id is not null as has_contract
from stg_social_value as sv
left join stg_contracts as contracts using (contract_id)
