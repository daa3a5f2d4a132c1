-- One row per contract with spend against it: spend to date, lines and the last payment date.
-- A table, so that contract lists do not aggregate every spend line on each view.
-- key: contract_id
create or replace table mart_spend_by_contract as

select
    contract_id,
    sum(amount_gbp) as spend_to_date_gbp,
    count(*) as count_lines,
    max(payment_date) as last_payment_date
from fct_spend
where contract_id is not null
group by contract_id
