-- One row per council, expired contract and month: off-contract spend with the contract's supplier
-- paid after that contract (every extension option included) had ended, the council holding no
-- live contract with the supplier on the payment date. A payment on the last day is on contract.
-- A line whose file gives only the month (date_precision 'month', kept as the 1st) is judged by
-- its month, as the split-order rule is: it is after a contract only when the contract ended
-- before the month began, and no contract with the supplier live on any day of the month leaves
-- it expired (it may have been paid under that one).
-- key: council_id, contract_id, month, is_addressable
create or replace table mart_expired_contract_spend_by_month as

with

lines as (
    select line_id, council_id, supplier_id, payment_date, date_precision, month, amount_gbp, is_addressable
    from fct_spend
    where not is_on_contract and supplier_id is not null
),

cover as (
    select contract_id, unnest(covered_council_ids) as council_id, supplier_id, start_date, max_end_date
    from fct_contracts
    where supplier_id is not null
),

live_in_month as (
    -- month-precision lines whose month a contract with the supplier was live in, some day of it
    select distinct lines.line_id
    from lines
    join cover
        on cover.council_id = lines.council_id
        and cover.supplier_id = lines.supplier_id
        and cover.start_date <= last_day(lines.month)
        and cover.max_end_date >= lines.month
    where lines.date_precision = 'month'
),

latest as (
    -- the contract that ended last before the payment (before its month, for a month-precision line)
    select lines.line_id, arg_max(cover.contract_id, (cover.max_end_date, cover.contract_id)) as contract_id
    from lines
    join cover
        on cover.council_id = lines.council_id
        and cover.supplier_id = lines.supplier_id
        and cover.max_end_date < case when lines.date_precision = 'month' then lines.month else lines.payment_date end
    where lines.line_id not in (select line_id from live_in_month)
    group by lines.line_id
)

select
    lines.council_id,
    latest.contract_id,
    lines.supplier_id,
    lines.month,
    lines.is_addressable,
    sum(lines.amount_gbp)::double as spend_gbp,
    count(*) as count_lines,
    min(lines.payment_date) as first_payment_date,
    max(lines.payment_date) as last_payment_date,
    -- 'month' when the last payment is known only to the month (shown as "Oct 2025", not "01 Oct 2025")
    arg_max(lines.date_precision, lines.payment_date) as last_payment_precision
from lines
join latest using (line_id)
group by all
