-- One row per contract: register fields, status, months to its end, and spend against it to date.
create or replace view mart_contracts as

with

contracts as (
    select * from fct_contracts
),

spend as (
    select contract_id, sum(amount_gbp) as spend_to_date_gbp, max(payment_date) as last_payment_date
    from fct_spend
    where contract_id is not null
    group by contract_id
)

select
    contracts.*,
    coalesce(spend.spend_to_date_gbp, 0) as spend_to_date_gbp,
    spend.last_payment_date,
    datediff('month', current_date, contracts.end_date) as months_to_end
from contracts
left join spend using (contract_id)
