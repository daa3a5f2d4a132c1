-- One row per contract and paying council: spend matched to the contract to date. A table: it
-- scans every spend line once, at build time.
-- key: contract_id, council_id
create or replace table mart_spend_by_contract_council as

select
    contract_id,
    council_id,
    sum(amount_gbp) as spend_to_date_gbp,
    count(*) as count_lines,
    max(payment_date) as last_payment_date
from fct_spend
where contract_id is not null
group by all
