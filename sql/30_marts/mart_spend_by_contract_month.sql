-- One row per contract, council it covers and month: that council's spend with the contract's
-- supplier paid within the contract's term (start date to maximum end date, both days included),
-- whichever contract fct_spend matched the line to. Tells a contract with no spend from one in use.
-- key: contract_id, council_id, month
create or replace table mart_spend_by_contract_month as

with

cover as (
    select contract_id, unnest(covered_council_ids) as council_id, supplier_id, start_date, max_end_date
    from fct_contracts
    where supplier_id is not null
),

spend as (
    select council_id, supplier_id, payment_date, month, amount_gbp
    from fct_spend
    where supplier_id is not null
)

select
    cover.contract_id,
    cover.council_id,
    spend.month,
    sum(spend.amount_gbp)::double as spend_gbp,
    count(*) as count_lines,
    min(spend.payment_date) as first_payment_date,
    max(spend.payment_date) as last_payment_date
from cover
join spend
    on spend.council_id = cover.council_id
    and spend.supplier_id = cover.supplier_id
    and spend.payment_date between cover.start_date and cover.max_end_date
group by all
