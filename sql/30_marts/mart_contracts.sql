-- One row per contract: register fields and spend against it to date.
-- key: contract_id
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
    spend.last_payment_date
from contracts
left join spend using (contract_id)
