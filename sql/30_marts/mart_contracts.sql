-- One row per contract: register fields, status, months to its end, and spend against it to date.
create or replace view mart_contracts as

with

contracts as (
    select * from fct_contracts
),

spend as (
    select contract_id, spend_to_date_gbp, last_payment_date from mart_spend_by_contract
)

select
    contracts.*,
    coalesce(spend.spend_to_date_gbp, 0) as spend_to_date_gbp,
    spend.last_payment_date,
    datediff('month', current_date, contracts.end_date) as months_to_end
from contracts
left join spend using (contract_id)
